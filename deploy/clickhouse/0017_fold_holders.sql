-- Which aggregate process folds (docs/architecture.md "The fold"; docs/runbook.md "Several
-- instances per service").
--
-- Against one ClickHouse server any number of aggregate instances may insert, but the fold must
-- run in one: two folds of the same step would each read a dossier's state before the other wrote
-- it, and the counters would take both deltas. Every aggregate process with a fold writes a
-- heartbeat here each tick, saying whether it folds: a process that sees another one folding
-- within the holding time stands by, and the first by name of those standing by takes over once
-- the holder's heartbeats stop (cchc_aggregate.clickhouse.fold.Folder). A ReplacingMergeTree
-- keeps each process's latest.
CREATE TABLE IF NOT EXISTS fold_holders
(
    folder  String COMMENT 'instance/process id of the folding aggregate process',
    seen    DateTime64(3, 'UTC') COMMENT 'its latest tick',
    holding Bool COMMENT 'it folds (else it stands by)'
)
ENGINE = ReplacingMergeTree(seen)
ORDER BY folder
COMMENT 'Heartbeats of the aggregate processes that fold: one may fold at a time';
