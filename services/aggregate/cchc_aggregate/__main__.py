"""`python -m cchc_aggregate [serve|migrate|cluster-sql]`: run the aggregate service, apply
migrations, or print their cluster flavour."""

from __future__ import annotations

import argparse
import asyncio
import logging

from cchc_runtime import logs
from cchc_runtime.http import http_app, serve
from cchc_runtime.lag import Group, LagCollector, LagMonitor
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.processor import kafka_processor
from cchc_shared.dlq import STAGE_REASONS
from cchc_shared.provinces import Era, ProvinceRegistry
from cchc_shared.settings import KafkaSettings
from cchc_shared.topics import Topic, raw_topics
from prometheus_client import CollectorRegistry

from cchc_aggregate.clickhouse.client import Store, connect, is_embedded
from cchc_aggregate.clickhouse.cluster import Cluster, generate, render
from cchc_aggregate.clickhouse.fold import Folder, FoldMetrics
from cchc_aggregate.clickhouse.migrations import migrate
from cchc_aggregate.clickhouse.reference import sync_reference
from cchc_aggregate.clickhouse.sandbox import SqlLimits, SqlSandbox
from cchc_aggregate.query.app import create_app
from cchc_aggregate.settings import AggregateSettings
from cchc_aggregate.sink.writer import SERVICE, ClickHouseSink, SinkMetrics

log = logging.getLogger("cchc_aggregate")


def run_migrations(settings: AggregateSettings) -> list[str]:
    """Apply pending migrations, then reload the reference tables from the shared data."""
    client = connect(settings.clickhouse_dsn())
    try:
        applied = migrate(client, settings.migrations_dir, cluster=settings.cluster)
        counts = sync_reference(client)
        log.info("reference data loaded: %s", counts)
        return applied
    finally:
        client.close()


def background_fold(
    settings: AggregateSettings, db: Store, registry: CollectorRegistry
) -> Folder | None:
    """The background fold of a single server (not started), or None on a cluster.

    The cluster flavour of the migrations folds each shard's events within the insert (a
    pass-through view into the fold inputs, docs/cluster.md): there is nothing to run, and the
    answers are as of their query.
    """
    if settings.cluster:
        log.info(
            "cluster %s: each shard folds its events within the insert; no background fold",
            settings.cluster,
        )
        return None
    if not settings.fold:
        log.info("CCHC_AGGREGATE_FOLD=false: another aggregate process folds this database")
        return None
    # Its own connection (chDB allows several in one process), sharing the inserts' lock: a fold
    # step does not hold up inserts or queries.
    folds = Store(connect(settings.clickhouse_dsn()), inserts=db.inserts)
    return Folder(
        folds,
        settings.fold_interval_s,
        FoldMetrics.create(registry),
        name=settings.instance,
        refresh_s=settings.scoreboard_refresh_s,
        stop_when_latched=is_embedded(settings.clickhouse_dsn()),
    )


def run_service(settings: AggregateSettings, kafka: KafkaSettings) -> None:
    """Consume cchc.normalized and cchc.dlq into ClickHouse; serve the query API until stopped."""
    db = Store(
        connect(settings.clickhouse_dsn()),
        settings.cluster_insert_settings(),
        deduplicate=bool(settings.cluster),
    )
    metrics = CoreMetrics.create(
        SERVICE,
        restarts=settings.restarts,
        reasons=STAGE_REASONS[SERVICE],
        instance=settings.instance,
    )
    sink = ClickHouseSink(db, SinkMetrics.create(metrics.registry, settings.province_quiet_s))
    try:
        sink.load_last_events()
    except Exception:  # the gauges fill again with the next batches; never a reason not to start
        log.exception("could not read the provinces' last events from ClickHouse")
    processor = kafka_processor(
        SERVICE,
        kafka,
        [Topic.NORMALIZED, Topic.DLQ],
        settings.group_id,
        sink,
        metrics,
        top_up_ms=settings.top_up_ms,
    )
    registry = ProvinceRegistry.load()
    lag = LagMonitor(
        kafka.bootstrap_servers,
        {
            "ingest": Group(
                settings.ingest_group_id, raw_topics(u.code for u in registry.units(Era.POST_2025))
            ),
            "normalize": Group(settings.normalize_group_id, [Topic.VALIDATED]),
            "aggregate": Group(settings.group_id, [Topic.NORMALIZED, Topic.DLQ]),
        },
        Topic.DLQ,
        interval_s=settings.lag_interval_s,
        security=kafka.kafka_python_security(),
    )
    sandbox = SqlSandbox(
        settings.sql_clickhouse_dsn(),
        SqlLimits(
            max_rows=settings.sql_max_rows,
            max_result_bytes=settings.sql_max_result_bytes,
            max_memory_bytes=settings.sql_max_memory_bytes,
            max_seconds=settings.sql_max_seconds,
        ),
    )
    folder = background_fold(settings, db, metrics.registry)
    app = create_app(db, lag, settings, sandbox, as_of=folder.as_of if folder else None)
    metrics.registry.register(LagCollector(lag))
    lag.start()
    if folder is not None:
        folder.start()
    try:
        ready = (lambda: asyncio.to_thread(sink.is_ready),)
        also = (folder,) if folder is not None else ()
        serve(http_app(processor, app, ready), processor, settings.host, settings.port, *also)
    finally:
        if folder is not None:
            folder.stop()
            folder.store.client.close()
        lag.stop()
        sandbox.close()
        db.client.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m cchc_aggregate", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "migrate", "cluster-sql"]
    )
    args = parser.parse_args(argv)
    settings = AggregateSettings()
    if args.command == "cluster-sql":  # what `migrate` applies with CCHC_AGGREGATE_CLUSTER
        flavour = Cluster(settings.cluster or "cchc", "cchc")
        print(render(generate(settings.migrations_dir, flavour)), end="")
        return
    logs.configure("aggregate", settings.log_level, settings.log_format)
    if args.command == "migrate":
        applied = run_migrations(settings)
        print(f"migrations applied: {', '.join(applied) if applied else 'none pending'}")
        return
    kafka = KafkaSettings()
    run_service(settings, kafka.model_copy(update={"max_records": settings.batch_max_records}))


if __name__ == "__main__":
    main()
