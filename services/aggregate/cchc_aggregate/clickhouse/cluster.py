"""The cluster flavour of the migrations, generated from the single-node ones (one source of
truth: `deploy/clickhouse/NNNN_*.sql`; docs/cluster.md).

Each single-node statement becomes the statements a ClickHouse cluster of shards × replicas
needs, every DDL `ON CLUSTER`:

* a **fact table** (a MergeTree-family table with a `province` column, not a reference table)
  becomes `<name>_local`, `Replicated<Engine>` under `/clickhouse/tables/{uuid}/{shard}` and
  replica `{replica}`, plus `<name>`,
  a `Distributed` table over it **sharded by province** (`cityHash64(province)`). Every event of
  a province lands on one shard, so `FINAL`, the per-dossier state and every per-province
  figure are complete on their shard; the national views read the Distributed tables.
* a **reference or bookkeeping table** (the `REPLICATED_EVERYWHERE` ones, and any MergeTree
  table without a `province` column) keeps its name and is replicated to *every* node (one
  Keeper path without `{shard}`): small, read by joins on every shard.
* a key-value or `Null` table (`EmbeddedRocksDB`, `Null`) is per node: `<name>_local`; the
  `EmbeddedRocksDB` one gets a Distributed `<name>` for reads (docs/cluster.md says what that
  per-replica state means).
* a **materialized view** is attached to the local tables (it fires where the block is
  written) and writes into the local target; a **plain view** reads the Distributed tables.
* a **fold input** — a `Null` table named `<x>_fold_input` created `AS` a sharded table `s`
  (0012: `dossier_fold_input AS dossier_events`) — is fed on a cluster by a pass-through view
  `<x>_fold_input_mv` from `s_local`: each shard folds its own blocks as they are written, inside
  the insert (as before 0012), and aggregate runs no background fold there (`Folder` reads one
  server's `system.parts` and `_block_number`, which a Distributed table has neither of).
* `DROP`, `RENAME`, `ALTER`, `INSERT … SELECT` follow the same names.

`non_replicated_deduplication_window` becomes `replicated_deduplication_window`: a replicated
table remembers insert tokens in Keeper, shared by the shard's replicas. An `ALTER` that only
sets the single server's window (0018 turns it off there) has no cluster form and is left out.

Statements are rewritten as text, then every one of both flavours is parsed by ClickHouse's own
parser in the tests (`tests/integration/test_cluster_migrations.py`), which also checks that the
two define the same columns, keys and views.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cchc_aggregate.clickhouse.migrations import migration_files, statements

REPLICATED_EVERYWHERE = frozenset({"provinces", "province_lineage", "indicators"})
"""Reference tables: replicated to every node whatever their columns (joins read them locally)."""

SHARDING_KEY = "cityHash64(province)"
LOCAL = "_local"
FOLD_INPUT = "_fold_input"
"""A Null table whose name ends so, created `AS` a sharded table, is what the background fold
fills on a single node; on a cluster a pass-through view fills it from the shard's inserts."""

_IDENT = r"`?([A-Za-z_][A-Za-z0-9_]*)`?"
_SINGLE_SERVER_DEDUP = re.compile(
    r"MODIFY\s+SETTING\s+non_replicated_deduplication_window\s*=\s*0", re.I
)
_CREATE_TABLE = re.compile(
    rf"^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s*(?P<rest>.*)$", re.S | re.I
)
_CREATE_VIEW = re.compile(
    rf"^CREATE\s+(?P<replace>OR\s+REPLACE\s+)?(?P<mat>MATERIALIZED\s+)?VIEW\s+"
    rf"(?P<if>IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s*(?P<rest>.*)$",
    re.S | re.I,
)
_TO = re.compile(rf"^TO\s+{_IDENT}\s*(?P<rest>.*)$", re.S | re.I)
_DROP = re.compile(
    rf"^DROP\s+(?P<kind>TABLE|VIEW)\s+(?P<if>IF\s+EXISTS\s+)?{_IDENT}\s*(?P<rest>.*)$", re.S | re.I
)
_RENAME = re.compile(rf"^RENAME\s+TABLE\s+{_IDENT}\s+TO\s+{_IDENT}\s*$", re.S | re.I)
_ALTER = re.compile(rf"^ALTER\s+TABLE\s+{_IDENT}\s+(?P<rest>.*)$", re.S | re.I)
_INSERT = re.compile(r"^INSERT\s+INTO\s+", re.I)
_PER_TABLE = re.compile(
    rf"^(?P<verb>TRUNCATE\s+TABLE|OPTIMIZE\s+TABLE)\s+(?P<if>IF\s+EXISTS\s+)?{_IDENT}\s*(?P<rest>.*)$",
    re.S | re.I,
)
_ENGINE = re.compile(
    r"\bENGINE\s*=\s*(?P<engine>[A-Za-z]+)(?:\s*\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\))?",
    re.I,
)
_AS_TABLE = re.compile(rf"^AS\s+{_IDENT}\s*(?P<rest>.*)$", re.S | re.I)
_PROVINCE_COLUMN = re.compile(r"(^|[(,])\s*`?province`?\s+[A-Z]", re.M)


class ClusterError(ValueError):
    """A single-node statement the generator does not know how to carry to the cluster."""


@dataclass
class Catalogue:
    """What the statements seen so far created: how each table is laid out on the cluster."""

    sharded: set[str] = field(default_factory=set)
    """Tables split by province: `<name>_local` on each shard, `<name>` Distributed."""
    local: set[str] = field(default_factory=set)
    """Per-node tables (`<name>_local`) without a Distributed table (Null engine)."""
    everywhere: set[str] = field(default_factory=set)
    """Tables replicated to every node under their own name."""
    columns: dict[str, str] = field(default_factory=dict)
    """Each table's column list, for `CREATE TABLE x AS y`."""
    fold_inputs: set[str] = field(default_factory=set)
    """Fold inputs fed by a pass-through view `<name>_mv` (dropped with them)."""
    shared_by_shards: set[str] = field(default_factory=set)
    """Tables on every node that the shards' views write into: no insert deduplication."""
    shared_rechecked: bool = False
    """Whether 0018's cluster form has already set them again (see `_statement`)."""

    def is_split(self, name: str) -> bool:
        return name in self.sharded or name in self.local


@dataclass(frozen=True)
class Cluster:
    """The target: its name (the `remote_servers` entry) and the database the tables live in."""

    name: str = "cchc"
    database: str = "cchc"

    def on(self) -> str:
        return f"ON CLUSTER '{self.name}'"


def generate(directory: Path, cluster: Cluster | None = None) -> dict[str, list[str]]:
    """Every migration file of `directory`, in order → its cluster statements."""
    cluster = cluster or Cluster()
    catalogue = Catalogue()
    return {
        path.name: cluster_statements(
            statements(path.read_text(encoding="utf-8")), cluster, catalogue
        )
        for path in migration_files(directory)
    }


def cluster_statements(single: Iterable[str], cluster: Cluster, catalogue: Catalogue) -> list[str]:
    """The cluster statements for a migration's single-node statements (in order)."""
    out: list[str] = []
    for statement in single:
        out += _statement(statement.strip(), cluster, catalogue)
    return out


def _statement(sql: str, cluster: Cluster, cat: Catalogue) -> list[str]:
    if m := _CREATE_VIEW.match(sql):
        return _view(m, cluster, cat)
    if m := _CREATE_TABLE.match(sql):
        return _table(m.group(2), m.group("rest"), cluster, cat)
    if m := _DROP.match(sql):
        return _drop(m, cluster, cat)
    if m := _RENAME.match(sql):
        return _rename(m.group(1), m.group(2), cluster, cat)
    if m := _ALTER.match(sql):
        name, rest = m.group(1), m.group("rest")
        if _SINGLE_SERVER_DEDUP.fullmatch(rest.strip()):
            # A single server's deduplication log (0018 turns it off): a replicated table keeps
            # its tokens in Keeper, committed with the part, and keeps them. In its place, once:
            # the tables on every node fed by the shards' views are set again without
            # deduplication, for a cluster that applied their views' migration before `_view`
            # did so (idempotent on one that did).
            if cat.shared_rechecked:
                return []
            cat.shared_rechecked = True
            return [_no_dedup(t, cluster) for t in sorted(cat.shared_by_shards)]
        if cat.is_split(name):
            altered = [f"ALTER TABLE {name}{LOCAL} {cluster.on()} {rest}"]
            if name in cat.sharded and re.match(r"(ADD|DROP|MODIFY|RENAME)\s+COLUMN", rest, re.I):
                altered.append(f"ALTER TABLE {name} {cluster.on()} {rest}")
            return altered
        return [f"ALTER TABLE {name} {cluster.on()} {rest}"]
    if m := _PER_TABLE.match(sql):  # on the data, so on the local tables
        name = m.group(3)
        table = f"{name}{LOCAL}" if cat.is_split(name) else name
        verb, exists, rest = m.group("verb"), m.group("if") or "", m.group("rest")
        return [f"{verb} {exists}{table} {cluster.on()} {rest}".rstrip()]
    if _INSERT.match(sql):
        # Runs once, on the node that migrates: through the Distributed tables it reads and
        # writes every shard, returning once every shard has its rows.
        return [f"{sql}\nSETTINGS distributed_foreground_insert = 1"]
    raise ClusterError(f"no cluster form for: {sql[:80]}…")


def _table(name: str, rest: str, cluster: Cluster, cat: Catalogue) -> list[str]:
    if m := _AS_TABLE.match(rest):  # CREATE TABLE x AS y ENGINE = …: y's columns
        source, tail = m.group(1), m.group("rest")
        if source not in cat.columns:
            raise ClusterError(f"{name}: AS {source}, a table not created by the migrations")
        # The columns as first created decide the sharding; the table itself copies the live
        # structure of y's local table on each node, so columns added since (ALTER) come along.
        columns = cat.columns[source]
        head_as = f"AS {source}{LOCAL if cat.is_split(source) else ''}\n"
        rest = head_as + tail
        start = len(head_as)
    else:
        columns = rest[: _columns_end(rest)]
        start = len(columns)
    engine = _ENGINE.search(rest, start)
    if engine is None:
        raise ClusterError(f"{name}: no ENGINE")
    kind, args = engine.group("engine"), engine.group("args")
    cat.columns[name] = columns
    head = "CREATE TABLE IF NOT EXISTS"
    if kind.endswith("MergeTree") and not kind.startswith("Replicated"):
        sharded = name not in REPLICATED_EVERYWHERE and _PROVINCE_COLUMN.search(columns)
        table = f"{name}{LOCAL}" if sharded else name
        # {uuid}: the table's own, the same on every replica (ON CLUSTER passes it on), so a
        # table renamed away and one created under the old name never share a Keeper path.
        shard = "{shard}" if sharded else "all"
        path = f"'/clickhouse/tables/{{uuid}}/{shard}', '{{replica}}'"
        replicated = f"ENGINE = Replicated{kind}({path}{', ' + args if args else ''})"
        rest = rest[: engine.start()] + replicated + rest[engine.end() :]
        rest = re.sub(
            r"\bnon_replicated_deduplication_window\b", "replicated_deduplication_window", rest
        )
        created = [f"{head} {table} {cluster.on()}\n{rest}"]
        if not sharded:
            cat.everywhere.add(name)
            return created
        cat.sharded.add(name)
        return [*created, _distributed(name, cluster)]
    if kind in ("EmbeddedRocksDB", "Null"):
        created = [f"{head} {name}{LOCAL} {cluster.on()}\n{rest}"]
        if kind == "EmbeddedRocksDB" and _PROVINCE_COLUMN.search(columns):
            cat.sharded.add(name)
            return [*created, _distributed(name, cluster)]
        cat.local.add(name)
        as_table = _AS_TABLE.match(rest)
        if kind == "Null" and name.endswith(FOLD_INPUT) and as_table:
            source = as_table.group(1).removesuffix(LOCAL)
            return [*created, _fold_on_insert(name, source, cluster, cat)]
        return created
    raise ClusterError(f"{name}: engine {kind} has no cluster form here")


def _fold_on_insert(name: str, source: str, cluster: Cluster, cat: Catalogue) -> str:
    """The pass-through view that fills fold input `name` from each shard's inserts into `source`.

    On one node aggregate's background fold inserts into `name` the rows newly inserted into
    `source`, found by `_block_number` in `system.parts`; on a cluster `source` is Distributed (no
    parts, no block numbers of its own) and its rows are on the shards. There every block stored
    in `source_local` goes straight on into the shard's `name_local`, within the insert: the
    transition views reading it run on the shard that holds the dossier, as before the fold.
    """
    if source not in cat.sharded:
        raise ClusterError(f"{name}: a fold input must be created AS a sharded table, not {source}")
    cat.fold_inputs.add(name)
    return (
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name}_mv {cluster.on()} TO {name}{LOCAL}\n"
        f"AS SELECT * FROM {source}{LOCAL}"
    )


def _distributed(name: str, cluster: Cluster) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {name} {cluster.on()} AS {name}{LOCAL}\n"
        f"ENGINE = Distributed('{cluster.name}', currentDatabase(), {name}{LOCAL}, "
        f"{SHARDING_KEY})"
    )


def _view(m: re.Match[str], cluster: Cluster, cat: Catalogue) -> list[str]:
    name, rest = m.group(4), m.group("rest")
    create = "CREATE OR REPLACE" if m.group("replace") else "CREATE"
    exists = "" if m.group("replace") else "IF NOT EXISTS "
    if not m.group("mat"):
        return [f"{create} VIEW {exists}{name} {cluster.on()}\n{rest}"]
    to = _TO.match(rest)
    if to is None:
        raise ClusterError(f"{name}: a materialized view needs TO <table> on a cluster")
    target, body = to.group(1), to.group("rest")
    shared = target in cat.everywhere
    target = f"{target}{LOCAL}" if cat.is_split(target) else target
    reads_shards = False
    for table in sorted(cat.sharded | cat.local, key=len, reverse=True):
        body, found = re.subn(rf"(?<![\w.`]){table}(?![\w`])", f"{table}{LOCAL}", body)
        reads_shards = reads_shards or found > 0  # a per-node table: fed on every shard
    out = [f"{create} MATERIALIZED VIEW {exists}{name} {cluster.on()} TO {target}\n{body}"]
    if shared and reads_shards:
        # Every shard's view writes its share of one insert here with the same block id: a
        # dependent view's id is made of the insert's token and the table's and view's ids, not
        # of the rows (reproduced on one server: tests/integration/test_cluster_migrations.py).
        # One Keeper path for every node would take the shares after the first for retries and
        # drop them. No deduplication on such a table (its readers collapse copies themselves:
        # report_receipts is read with min()).
        cat.shared_by_shards.add(target)
        out.append(_no_dedup(target, cluster))
    return out


def _no_dedup(table: str, cluster: Cluster) -> str:
    return f"ALTER TABLE {table} {cluster.on()} MODIFY SETTING replicated_deduplication_window = 0"


def _drop(m: re.Match[str], cluster: Cluster, cat: Catalogue) -> list[str]:
    kind, exists, name, rest = m.group("kind"), m.group("if") or "", m.group(3), m.group("rest")
    if kind.upper() == "VIEW" or not cat.is_split(name):
        cat.everywhere.discard(name)
        cat.shared_by_shards.discard(name)
        return [f"DROP {kind} {exists}{name} {cluster.on()} {rest}".rstrip()]
    dropped = [f"DROP TABLE {exists}{name}{LOCAL} {cluster.on()} {rest}".rstrip()]
    if name in cat.fold_inputs:  # its pass-through view first: nothing is left writing into it
        dropped.insert(0, f"DROP VIEW IF EXISTS {name}_mv {cluster.on()}")
        cat.fold_inputs.discard(name)
    if name in cat.sharded:
        dropped.insert(0, f"DROP TABLE {exists}{name} {cluster.on()} {rest}".rstrip())
    cat.sharded.discard(name)
    cat.local.discard(name)
    return dropped


def _rename(old: str, new: str, cluster: Cluster, cat: Catalogue) -> list[str]:
    if old in cat.columns:
        cat.columns[new] = cat.columns.pop(old)
    if not cat.is_split(old):
        if old in cat.everywhere:
            cat.everywhere.discard(old)
            cat.everywhere.add(new)
        if old in cat.shared_by_shards:
            cat.shared_by_shards.discard(old)
            cat.shared_by_shards.add(new)
        return [f"RENAME TABLE {old} TO {new} {cluster.on()}"]
    out = [f"RENAME TABLE {old}{LOCAL} TO {new}{LOCAL} {cluster.on()}"]
    if old in cat.sharded:
        # A Distributed table names its local table: it is made again for the new name.
        cat.sharded.discard(old)
        cat.sharded.add(new)
        out = [f"DROP TABLE IF EXISTS {old} {cluster.on()}", *out, _distributed(new, cluster)]
    else:
        cat.local.discard(old)
        cat.local.add(new)
    return out


def _columns_end(rest: str) -> int:
    """Where a `( … )` column list at the start of `rest` ends (0 when there is none)."""
    if not rest.startswith("("):
        return 0
    depth, quoted = 0, False
    for i, ch in enumerate(rest):
        if ch == "'" and (i == 0 or rest[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ClusterError("unbalanced column list")


def render(generated: dict[str, list[str]]) -> str:
    """The generated statements as one SQL text, file by file (for review: `make cluster-sql`)."""
    parts = []
    for name, sqls in generated.items():
        parts.append(f"-- {name} (generated from deploy/clickhouse/{name}; do not edit)")
        parts.extend(f"{s};\n" for s in sqls)
    return "\n".join(parts)
