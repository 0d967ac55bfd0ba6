-- Schema 2: cluster_operation_targets, one row per (op, target object), written in the enqueue transaction.
-- sequence_number is the global order: "latest" is the highest sequence for an object, whatever its state.
-- AUTOINCREMENT so a number is never reused after deletes, which would reorder history.

CREATE TABLE IF NOT EXISTS cluster_operation_targets (
    sequence_number INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_uuid VARCHAR(36) NOT NULL,
    operation_type VARCHAR(64) NOT NULL,
    target_object_type VARCHAR(64) NOT NULL,
    target_uuid VARCHAR(36) NOT NULL,
    created_at REAL NOT NULL,
    CONSTRAINT uq_cot_op_target UNIQUE (operation_uuid, target_object_type, target_uuid)
);
CREATE INDEX IF NOT EXISTS idx_cot_target ON cluster_operation_targets (target_object_type, target_uuid, sequence_number);
CREATE INDEX IF NOT EXISTS idx_cot_created ON cluster_operation_targets (created_at);

-- The gate looks up the few in-flight ops by state, then probes uq_cot_op_target for each, so its cost does
-- not grow with an object's history.
CREATE INDEX IF NOT EXISTS idx_object_states_state_uuid ON object_states (state_value, object_uuid);

-- Backfill: one target row per legacy pointer, oldest op first, so no object loses its latest op. A pointer is
-- taken only when it names an op: `op_uuid` a well-formed uuid (dashed or not, any case; stored dashed and
-- lower case, as everywhere else) and `op_type` a string of 1 to 64 characters. Everything a long-lived
-- fleet also holds -- NULL, `{}`, malformed JSON, an over-long or numeric `op_uuid`, one in braces, an
-- `op_type` that is no string -- is skipped here, so it can neither abort the upgrade nor poison a read.
INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, created_at)
SELECT p.op_uuid, p.op_type, p.object_type, p.object_uuid, COALESCE(o.created_at, 0)
FROM (
    SELECT object_type, object_uuid, op_type,
           substr(hex, 1, 8) || '-' || substr(hex, 9, 4) || '-' || substr(hex, 13, 4) || '-' ||
           substr(hex, 17, 4) || '-' || substr(hex, 21, 12) AS op_uuid
    FROM (
        SELECT object_type, object_uuid, raw_uuid, op_type,
               lower(replace(raw_uuid, '-', '')) AS hex
        FROM (
            SELECT object_type, object_uuid,
                   json_extract(last_cluster_operation_json, '$.op_uuid') AS raw_uuid,
                   json_type(last_cluster_operation_json, '$.op_uuid') AS uuid_kind,
                   json_extract(last_cluster_operation_json, '$.op_type') AS op_type,
                   json_type(last_cluster_operation_json, '$.op_type') AS type_kind
            FROM object_metadata
            WHERE last_cluster_operation_json IS NOT NULL AND json_valid(last_cluster_operation_json)
              AND json_type(last_cluster_operation_json) = 'object'
        ) AS raw
        WHERE uuid_kind = 'text' AND type_kind = 'text' AND length(op_type) BETWEEN 1 AND 64
          AND (length(raw_uuid) = 32 OR (length(raw_uuid) = 36 AND substr(raw_uuid, 9, 1) = '-'
               AND substr(raw_uuid, 14, 1) = '-' AND substr(raw_uuid, 19, 1) = '-' AND substr(raw_uuid, 24, 1) = '-'))
    ) AS checked
    WHERE hex GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
) AS p
LEFT JOIN cluster_operations o ON o.uuid = p.op_uuid
ORDER BY COALESCE(o.created_at, 0), p.object_type, p.object_uuid
-- Re-runnable: a row an interrupted earlier run already wrote is kept, never doubled.
ON CONFLICT DO NOTHING;
