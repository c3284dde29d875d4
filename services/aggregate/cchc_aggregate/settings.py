"""aggregate's settings (env prefix CCHC_AGGREGATE_)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from cchc_shared.settings import ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


def _find_migrations() -> Path:
    """deploy/clickhouse of the source tree (a container sets CCHC_AGGREGATE_MIGRATIONS_DIR)."""
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "deploy" / "clickhouse"
        if candidate.is_dir():
            return candidate
    return Path("deploy/clickhouse")


class AggregateSettings(ServiceSettings):
    """Where ClickHouse is, where the query API listens, and the other services' groups."""

    model_config = SettingsConfigDict(env_prefix="CCHC_AGGREGATE_", frozen=True)

    port: int = Field(default=8080, description="query API, health and metrics")
    data_dir: Path = Path("var")
    dsn: str | None = Field(
        default=None,
        description="ClickHouse DSN: chdb:///abs/path (embedded) or http(s)://… (server); "
        "default chdb://<data_dir>/clickhouse",
    )
    dsn_password: SecretStr | None = Field(
        default=None,
        description="password of the DSN's user, kept out of the DSN (docker-compose.yml sets "
        "it from CCHC_CLICKHOUSE_WRITER_PASSWORD); never logged: repr shows it masked",
    )
    migrations_dir: Path = Field(default_factory=_find_migrations)
    group_id: str = "cchc-aggregate"
    ingest_group_id: str = "cchc-ingest"
    normalize_group_id: str = "cchc-normalize"
    batch_max_records: int = Field(
        default=20_000,
        ge=1,
        description="records per batch (one ClickHouse insert): larger than the other services' "
        "because chDB's cost per insert, materialized views included, is largely fixed",
    )
    top_up_ms: int = Field(
        default=100,
        ge=0,
        description="before each insert, also take what reached cchc.normalized while the "
        "previous one ran, waiting at most this long per fetch (0: off); halves the time a "
        "record waits for its insert under load. Keep it above CCHC_KAFKA_FETCH_MAX_WAIT_MS: "
        "a fetch already waiting on an idle partition delays the next one that long",
    )
    fold: bool = Field(
        default=True,
        description="run the background fold in this process (single server; docs/architecture.md "
        '"The fold"). One aggregate process folds a database at a time: the others stand by and '
        "one takes over when it stops; false on every instance but one also rules out a double "
        'fold when two start in the same instant (docs/runbook.md "Several instances per '
        'service")',
    )
    fold_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="how often the background fold takes the dossier and feedback events inserted "
        'since its last step into their states and counters (docs/architecture.md "The fold"): '
        "/v1/service-index and /v1/scoreboard are at most this plus one step behind the inserts",
    )
    scoreboard_refresh_s: float = Field(
        default=5.0,
        ge=0,
        description="how often at most the fold recomputes the scoreboard's months its steps "
        'changed (docs/architecture.md "The fold"; 0: after every step). Each costs about one '
        "month's national scoreboard from the daily tables (0.16–0.3 s at 59 M events); the "
        "answers' as_of moves with it",
    )
    lag_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="how often the consumer-lag gauges are refreshed in the background "
        "(/v1/pipeline always measures afresh); each refresh fetches every partition's "
        "high-water mark, ~7 % of aggregate's CPU at a 1 s interval under load",
    )
    tokens_file: Path | None = Field(
        default=None,
        description="the API tokens store (hashes only; cchc token create|list|revoke edits it); "
        "default <data_dir>/secrets/tokens.json",
    )
    # POST /v1/sql, the analysts' sandbox (docs/security.md "SQL sandbox").
    sql_dsn: str | None = Field(
        default=None,
        description="ClickHouse DSN for analysts' queries; default: the writer's DSN (chDB: "
        "a session of their own on the same path; a server: requests without a session). In "
        "production a DSN naming the read-only cchc_analyst user (deploy/clickhouse/access/)",
    )
    sql_dsn_password: SecretStr | None = Field(
        default=None,
        description="password of the analysts' DSN user, kept out of the DSN (docker-compose.yml "
        "sets it from CCHC_CLICKHOUSE_ANALYST_PASSWORD); never logged",
    )
    sql_max_rows: int = Field(default=100_000, ge=1, description="result rows per query")
    sql_max_seconds: float = Field(default=10.0, gt=0, description="execution time per query")
    sql_max_result_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1, description="result size per query (bytes)"
    )
    sql_max_memory_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1,
        description="ClickHouse memory per query (bytes); also bounds one result block",
    )
    sql_max_concurrent: int = Field(
        default=2, ge=1, description="analyst queries running at once; more are answered 429"
    )
    province_quiet_s: float = Field(
        default=3 * 86_400,
        gt=0,
        description="a province that sends nothing for this long is silent (ProvinceSilent, "
        "docs/runbook.md): exported as cchc_province_quiet_threshold_seconds; the default, 3 "
        "days, outlasts a weekend without dossiers",
    )
    reporting_calendar: Path | None = Field(
        default=None,
        description="YAML reporting calendar replacing the packaged one (required indicators "
        "per quarterly, six-monthly and yearly report; deadline day, default the 20th of the "
        'period\'s last month): docs/analysts.md "Reporting"',
    )
    max_request_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="largest request body of the query API's POST routes; larger: 413",
    )

    cluster: str | None = Field(
        default=None,
        description="the ClickHouse cluster (remote_servers name) of a sharded, replicated "
        "deployment: migrations are applied in their cluster flavour (ON CLUSTER, Replicated*, "
        "Distributed by province) and inserts wait for the shards (docs/cluster.md); unset: "
        "one server or chDB",
    )
    cluster_insert_quorum: int = Field(
        default=2,
        ge=0,
        description="with `cluster`: replicas of a shard that must have an insert before it is "
        "acknowledged (and the Kafka offsets committed); 2 of 2 loses nothing when a replica "
        "dies, and pauses that shard's writes until it is back (docs/runbook.md)",
    )

    def cluster_insert_settings(self) -> dict[str, int]:
        """Settings of every insert on a cluster (none otherwise): the Distributed table
        forwards the insert to its shards synchronously, each shard acknowledges once the
        quorum of replicas has it, and materialized views deduplicate a retried block too."""
        if not self.cluster:
            return {}
        return {
            "distributed_foreground_insert": 1,
            "insert_quorum": self.cluster_insert_quorum,
            "insert_quorum_parallel": 1,
            "deduplicate_blocks_in_dependent_materialized_views": 1,
        }

    def sql_clickhouse_dsn(self) -> str:
        """The DSN analysts' queries use (their own sessions in any case)."""
        if self.sql_dsn:
            return _with_password(self.sql_dsn, self.sql_dsn_password, "CCHC_AGGREGATE_SQL_DSN")
        return self.clickhouse_dsn()

    def tokens_path(self) -> Path:
        """Where the API tokens are stored."""
        return self.tokens_file or self.data_dir / "secrets" / "tokens.json"

    def clickhouse_dsn(self) -> str:
        """The DSN to open; the embedded default lives under the data dir.

        With `dsn_password`, the password is put into the DSN here: the result holds it in
        clear, so hand it to the client and never log it.
        """
        if self.dsn:
            return _with_password(self.dsn, self.dsn_password, "CCHC_AGGREGATE_DSN")
        return f"chdb://{(self.data_dir / 'clickhouse').resolve()}"


def _with_password(dsn: str, password: SecretStr | None, name: str) -> str:
    """`dsn` with `password` put in for its user (URL-encoded); `dsn` itself without one."""
    if password is None:
        return dsn
    parts = urlsplit(dsn)
    if not parts.username:
        raise ValueError(f"{name}_PASSWORD needs a user in {name}")
    secret = quote(password.get_secret_value(), safe="")
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:{secret}@{host}"  # the user as written (URL-encoded)
    return urlunsplit(parts._replace(netloc=netloc))
