#!/usr/bin/env bash
# Ví dụ gọi hệ thống CCHC qua HTTPS bằng curl.
#
#   ./https.sh push events.jsonl        # gửi thật (POST /v1/events)
#   ./https.sh validate events.jsonl    # chạy thử, không lưu gì (POST /v1/validate)
#   ./https.sh summary                  # dữ liệu hệ thống đang giữ của tỉnh (GET /v1/my/summary)
#   ./https.sh dead-letters [REASON]    # thư lỗi của tỉnh (GET /v1/my/dead-letters)
#
# Biến môi trường:
#   CCHC_TOKEN_FILE   tệp chứa token của tỉnh (mặc định ~/.cchc/token, quyền 0600)
#   CCHC_INGEST_URL   địa chỉ nhận sự kiện (mặc định http://127.0.0.1:8081)
#   CCHC_API_URL      địa chỉ tra cứu /v1/my/* (mặc định http://127.0.0.1:8080)
#
# Token được đưa cho curl qua đầu vào chuẩn (--config -), không nằm trên dòng lệnh: ai trên
# máy cũng xem được dòng lệnh của tiến trình khác (ps), nhưng không xem được đầu vào của nó.
set -euo pipefail

TOKEN_FILE="${CCHC_TOKEN_FILE:-$HOME/.cchc/token}"
INGEST_URL="${CCHC_INGEST_URL:-http://127.0.0.1:8081}"
API_URL="${CCHC_API_URL:-http://127.0.0.1:8080}"

auth() {
  local token
  read -r token <"$TOKEN_FILE" || [[ -n "$token" ]]
  printf 'header = "Authorization: Bearer %s"\n' "$token"
}

case "${1:-}" in
  push | validate)
    file="${2:?cần tên tệp JSON lines}"
    path=events
    [[ "$1" == validate ]] && path=validate
    # --data-binary giữ nguyên các dấu xuống dòng (-d thì xóa chúng, làm hỏng JSON lines).
    auth | curl --silent --show-error --fail-with-body --config - \
      --header "Content-Type: application/x-ndjson" \
      --data-binary "@${file}" \
      "${INGEST_URL}/v1/${path}"
    ;;
  summary)
    auth | curl --silent --show-error --fail-with-body --config - \
      "${API_URL}/v1/my/summary"
    ;;
  dead-letters)
    auth | curl --silent --show-error --fail-with-body --config - --get \
      --data-urlencode "limit=100" \
      ${2:+--data-urlencode "reason=$2"} \
      "${API_URL}/v1/my/dead-letters"
    ;;
  *)
    echo "Cách dùng: $0 push|validate TỆP.jsonl | summary | dead-letters [REASON]" >&2
    exit 2
    ;;
esac
echo
