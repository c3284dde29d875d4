"""The cluster profile (deploy/cluster/), checked offline: durability settings of the three
Kafka brokers, ClickHouse 2 shards × 2 replicas with 3 Keepers, and the services configured for
it. The compose-spec schema and compose-lint run in `make deploy-lint`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "deploy" / "cluster"


def _compose() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((CLUSTER / "docker-compose.yml").read_text())[
        "services"
    ]
    return services


def test_kafka_is_three_kraft_brokers_with_replication_3_min_isr_2_and_no_unclean_election() -> (
    None
):
    services = _compose()
    brokers = [
        s for name, s in services.items() if name.startswith("kafka-") and name[-1].isdigit()
    ]
    assert len(brokers) == 3
    assert {b["environment"]["KAFKA_NODE_ID"] for b in brokers} == {1, 2, 3}
    for broker in brokers:
        env = broker["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == 2
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 3
    assert services["topics"]["environment"]["REPLICATION"] == "3"


def test_services_produce_idempotently_to_all_three_brokers() -> None:
    services = _compose()
    for name in ("ingest", "normalize", "aggregate-a", "aggregate-b"):
        env = services[name]["environment"]
        assert env["CCHC_KAFKA_IDEMPOTENCE"] == "true"
        assert env["CCHC_KAFKA_BOOTSTRAP_SERVERS"].count("kafka-") == 3


def test_clickhouse_is_two_shards_of_two_replicas_on_three_keepers() -> None:
    services = _compose()
    nodes = {n: s for n, s in services.items() if n.startswith("ch-")}
    layout = {
        (s["environment"]["CCHC_SHARD"], s["environment"]["CCHC_REPLICA"]) for s in nodes.values()
    }
    assert layout == {("1", "ch-s1-r1"), ("1", "ch-s1-r2"), ("2", "ch-s2-r1"), ("2", "ch-s2-r2")}
    config = ET.parse(CLUSTER / "clickhouse" / "cluster.xml").getroot()
    shards = config.findall("./remote_servers/cchc/shard")
    assert [[r.findtext("host") for r in s.findall("replica")] for s in shards] == [
        ["ch-s1-r1", "ch-s1-r2"],
        ["ch-s2-r1", "ch-s2-r2"],
    ]
    assert all(s.findtext("internal_replication") == "true" for s in shards)
    keepers = [n.findtext("host") for n in config.findall("./zookeeper/node")]
    assert keepers == ["keeper-1", "keeper-2", "keeper-3"]
    assert all(k in services for k in keepers)
    keeper = ET.parse(CLUSTER / "keeper" / "keeper.xml").getroot()
    raft = keeper.findall("./keeper_server/raft_configuration/server")
    assert [s.findtext("hostname") for s in raft] == keepers


def test_migrations_and_aggregate_use_the_cluster_flavour() -> None:
    services = _compose()
    for name in ("migrate", "aggregate-a", "aggregate-b"):
        assert services[name]["environment"]["CCHC_AGGREGATE_CLUSTER"] == "cchc"
    dsns = {
        services[n]["environment"]["CCHC_AGGREGATE_DSN"] for n in ("aggregate-a", "aggregate-b")
    }
    assert len(dsns) == 2  # the two instances write through different servers
