#!/usr/bin/env bash
# Ví dụ gửi một tệp JSON lines vào topic cchc.raw.NN của tỉnh bằng kcat (mỗi dòng một thông điệp).
#
#   CCHC_PROVINCE=15 CCHC_KAFKA_CONFIG=province-15.properties ./kafka.sh events.jsonl  # thật
#   CCHC_PROVINCE=15 ./kafka.sh events.jsonl          # máy thử (cchc up): 127.0.0.1:9092
#
# Broker nhúng của máy thử (Tansu) không nhận kết nối của kcat bản Debian 12 (librdkafka 2.0.2):
# trên máy thử, dùng `cchc push --province 15 events.jsonl` (xem docs/vi/kafka.md).
#
# CCHC_KAFKA_CONFIG là tệp cấu hình librdkafka (quyền 0600; mẫu: province.properties.example):
# SASL_SSL, SCRAM-SHA-512, người dùng province-NN, mật khẩu và chứng chỉ CA do Bộ cấp. Mật khẩu
# nằm trong tệp, không trên dòng lệnh.
set -euo pipefail

file="${1:?cần tên tệp JSON lines}"
province="${CCHC_PROVINCE:?đặt CCHC_PROVINCE là mã tỉnh hai chữ số (mã từ 1/7/2025), ví dụ 15}"
topic="cchc.raw.${province}"

if [[ -n "${CCHC_KAFKA_CONFIG:-}" ]]; then
  # -P: gửi; -l: mỗi dòng của tệp là một thông điệp; acks=all: chỉ coi là đã gửi khi mọi bản
  # sao trên Kafka đã ghi.
  kcat -F "$CCHC_KAFKA_CONFIG" -P -t "$topic" -X acks=all -l "$file"
else
  kcat -b "${CCHC_KAFKA_BOOTSTRAP:-127.0.0.1:9092}" -P -t "$topic" -X acks=all -l "$file"
fi
echo "đã gửi $(grep -c . "$file") dòng vào $topic"
