-- Schema 11: the prune walks finished ops in the order they were created, which is the order their rows
-- were written, and stops at the retention's cutoff. In uuid order (the primary key) each op deleted sat
-- on a page of its own: on PostgreSQL every such page, the first time it changed after a checkpoint, went
-- whole into the WAL — 12,000 page images (96 MB) for 20,000 ops, against 127 (2 MB) in creation order —
-- and every enqueue's commit waited to flush that. The uuid breaks ties between ops created at the same
-- instant, so the walk's cursor is exact.
CREATE INDEX IF NOT EXISTS idx_co_created ON cluster_operations (created_at, uuid);
