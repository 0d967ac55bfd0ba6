-- Schema 3: the plan's phase 4. Every pointer now lives in cluster_operation_targets (schema 2), the store
-- never reads or writes the column, so it goes.
ALTER TABLE object_metadata DROP COLUMN IF EXISTS last_cluster_operation_json;
