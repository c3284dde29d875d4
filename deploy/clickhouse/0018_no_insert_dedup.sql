-- No insert deduplication on a single server (docs/platform.md "Retried inserts").
--
-- A plain MergeTree with non_replicated_deduplication_window writes an insert's token (or block
-- hash) to its deduplication log before it renames the new part into place: an insert that
-- fails in between — a disk refusing the rename, a kill — leaves the token without the rows, and
-- the retry of the same batch is dropped as a copy of itself. Every reader of these tables
-- collapses copies by key (FINAL, argMax by version, min(), the fold), so a retried batch may be
-- stored twice and is still counted once; a lost one could never be counted. With the window at
-- 0 the tables keep no log, whatever a writer asks for. aggregate also turns deduplication off
-- per insert (Store.no_dedup).
--
-- A cluster's replicated tables keep their tokens in Keeper, committed with the part: the cluster
-- flavour leaves these statements out (cchc_aggregate.clickhouse.cluster).
ALTER TABLE dead_letters MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE dossier_events MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE dossier_open MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE feedback_daily MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE feedback_events MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE observations MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE procedure_events MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE scoreboard_daily MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE scoreboard_procedure_daily MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE scoreboard_province_daily MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE service_daily MODIFY SETTING non_replicated_deduplication_window = 0;
ALTER TABLE service_province_daily MODIFY SETTING non_replicated_deduplication_window = 0;
