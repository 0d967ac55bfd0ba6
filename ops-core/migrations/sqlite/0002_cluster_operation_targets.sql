-- Schema 2: cluster_operation_targets, one row per (op, target object), written in the enqueue transaction.
-- sequence_number is the global order: "latest" is the highest sequence for an object, whatever its state.
-- AUTOINCREMENT so a number is never reused after deletes, which would reorder history.

CREATE TABLE cluster_operation_targets (
    sequence_number INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_uuid VARCHAR(36) NOT NULL,
    operation_type VARCHAR(64) NOT NULL,
    target_object_type VARCHAR(64) NOT NULL,
    target_uuid VARCHAR(36) NOT NULL,
    created_at REAL NOT NULL,
    CONSTRAINT uq_cot_op_target UNIQUE (operation_uuid, target_object_type, target_uuid)
);
CREATE INDEX idx_cot_target ON cluster_operation_targets (target_object_type, target_uuid, sequence_number);
CREATE INDEX idx_cot_created ON cluster_operation_targets (created_at);

-- The gate looks up the few in-flight ops by state, then probes uq_cot_op_target for each, so its cost does
-- not grow with an object's history.
CREATE INDEX idx_object_states_state_uuid ON object_states (state_value, object_uuid);

-- Backfill: one target row per legacy pointer, oldest op first, so no object loses its latest op. Empty
-- (etcd-era `{}`) and malformed pointers name no op and are skipped.
INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, created_at)
SELECT p.op_uuid, p.op_type, p.object_type, p.object_uuid, COALESCE(o.created_at, 0)
FROM (
    SELECT object_type, object_uuid,
           json_extract(last_cluster_operation_json, '$.op_uuid') AS op_uuid,
           json_extract(last_cluster_operation_json, '$.op_type') AS op_type
    FROM object_metadata
    WHERE last_cluster_operation_json IS NOT NULL AND json_valid(last_cluster_operation_json)
) AS p
LEFT JOIN cluster_operations o ON o.uuid = p.op_uuid
WHERE p.op_uuid IS NOT NULL AND p.op_type IS NOT NULL
ORDER BY COALESCE(o.created_at, 0), p.object_type, p.object_uuid;
