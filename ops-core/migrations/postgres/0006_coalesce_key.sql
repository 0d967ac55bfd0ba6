-- Schema 6: an op's coalescing key (Shaken Fist's net_op coalescing on network_uuid and node_uuid): two
-- queued ops of one type with the same key do the same work, so an enqueue reuses a queued op with its key
-- and a worker completes the queued siblings of the op it completes. NULL for ops that do not coalesce.

ALTER TABLE cluster_operations ADD COLUMN IF NOT EXISTS coalesce_key VARCHAR(255);
CREATE INDEX IF NOT EXISTS ix_cluster_ops_coalesce ON cluster_operations (operation_type, coalesce_key);
