#!/usr/bin/env bash
# Creates the pipeline's topics on Apache Kafka (docker-compose's `topics` job, run by
# as-admin.sh as the admin principal: COMMAND_CONFIG is its client config).
# The 34 province codes are the 2025 GSO codes (Decision 19/2025/QĐ-TTg), the same list as
# shared/cchc_shared/data/provinces_2025.csv — tests/unit/test_deploy.py keeps them equal.
# The embedded stack (`cchc up`) creates the same topics itself.
set -euo pipefail
BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
RAW_PARTITIONS="${RAW_PARTITIONS:-3}"
INTERNAL_PARTITIONS="${INTERNAL_PARTITIONS:-6}"
REPLICATION="${REPLICATION:-1}"
PROVINCES="01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 86 91 92 96"

create() {
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOTSTRAP" \
    ${COMMAND_CONFIG:+--command-config "$COMMAND_CONFIG"} --create --if-not-exists \
    --topic "$1" --partitions "$2" --replication-factor "$REPLICATION"
}
for code in $PROVINCES; do create "cchc.raw.$code" "$RAW_PARTITIONS"; done
for topic in cchc.validated cchc.normalized cchc.dlq; do create "$topic" "$INTERNAL_PARTITIONS"; done
echo "topics ready"
