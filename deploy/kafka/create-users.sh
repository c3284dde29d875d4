#!/usr/bin/env bash
# Creates (or updates: run it again to rotate) the SCRAM-SHA-512 credentials of the production
# broker — docker-compose's `kafka-users` job, which shares the broker's network namespace and
# reaches its loopback-only BROKER listener (the first credential cannot be created through a
# SASL listener). Principals (docs/security.md): admin, ingest, normalize, aggregate, and
# province-NN for each 2025 province code below — the same list as
# shared/cchc_shared/data/provinces_2025.csv; tests/unit/test_deploy.py keeps them equal.
# Passwords: ADMIN_PASSWORD, INGEST_PASSWORD, NORMALIZE_PASSWORD, AGGREGATE_PASSWORD from the
# environment; the provinces' from PROVINCE_PASSWORDS_FILE, one "NN password" line each.
# Passwords are never put on a command line (they would show in the process list).
set -euo pipefail
BOOTSTRAP="${BOOTSTRAP:-127.0.0.1:9091}"
PROVINCE_PASSWORDS_FILE="${PROVINCE_PASSWORDS_FILE:-/run/secrets/kafka_province_passwords}"
KAFKA_CONFIGS="${KAFKA_CONFIGS:-/opt/kafka/bin/kafka-configs.sh}"
PROVINCES="01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 86 91 92 96"

umask 077
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

scram() {  # scram USER PASSWORD
  local user="$1" password="$2"
  if [[ ! "$password" =~ ^[A-Za-z0-9._~-]{16,}$ ]]; then
    echo "password of $user: use at least 16 characters of A-Z a-z 0-9 . _ ~ - (openssl rand -hex 32)" >&2
    exit 1
  fi
  printf 'SCRAM-SHA-512=[iterations=8192,password=%s]\n' "$password" >"$dir/scram.properties"
  "$KAFKA_CONFIGS" --bootstrap-server "$BOOTSTRAP" --alter --entity-type users \
    --entity-name "$user" --add-config-file "$dir/scram.properties" >/dev/null
  rm -f "$dir/scram.properties"
}

scram admin "${ADMIN_PASSWORD:?ADMIN_PASSWORD is not set}"
scram ingest "${INGEST_PASSWORD:?INGEST_PASSWORD is not set}"
scram normalize "${NORMALIZE_PASSWORD:?NORMALIZE_PASSWORD is not set}"
scram aggregate "${AGGREGATE_PASSWORD:?AGGREGATE_PASSWORD is not set}"

declare -A province_password=()
while read -r code password _; do
  [[ -z "${code:-}" || "$code" == \#* ]] && continue
  province_password["$code"]="$password"
done <"$PROVINCE_PASSWORDS_FILE"
for code in $PROVINCES; do
  if [[ -z "${province_password[$code]:-}" ]]; then
    echo "$PROVINCE_PASSWORDS_FILE has no password for province $code" >&2
    exit 1
  fi
  scram "province-$code" "${province_password[$code]}"
done
for code in "${!province_password[@]}"; do
  if [[ " $PROVINCES " != *" $code "* ]]; then
    echo "$PROVINCE_PASSWORDS_FILE: $code is not a 2025 province code" >&2
    exit 1
  fi
done
echo "users ready: admin, ingest, normalize, aggregate, $(wc -w <<<"$PROVINCES") provinces"
