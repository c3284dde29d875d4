#!/usr/bin/env bash
# Runs a setup script (create-topics.sh, acls.sh) as the `admin` SCRAM principal on the internal
# listener: writes a client config readable only by this user into a private temporary
# directory, passes it as COMMAND_CONFIG, and removes it afterwards.
#   ADMIN_PASSWORD=… BOOTSTRAP=kafka:9092 as-admin.sh /cchc/create-topics.sh
set -euo pipefail
: "${ADMIN_PASSWORD:?ADMIN_PASSWORD is not set}"
if [[ ! "$ADMIN_PASSWORD" =~ ^[A-Za-z0-9._~-]{16,}$ ]]; then
  echo "ADMIN_PASSWORD: use at least 16 characters of A-Z a-z 0-9 . _ ~ - (openssl rand -hex 32)" >&2
  exit 1
fi
umask 077
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
export COMMAND_CONFIG="$dir/admin.properties"
cat >"$COMMAND_CONFIG" <<CONFIG
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$ADMIN_PASSWORD";
CONFIG
unset ADMIN_PASSWORD
bash "$1"
