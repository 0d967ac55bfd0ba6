-- Schema 2: cluster_operation_targets, one row per (op, target object), written in the enqueue transaction.
-- sequence_number is the global order: "latest" is the highest sequence for an object, whatever its state.

CREATE TABLE IF NOT EXISTS cluster_operation_targets (
    sequence_number BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    operation_uuid VARCHAR(36) NOT NULL,
    operation_type VARCHAR(64) NOT NULL,
    target_object_type VARCHAR(64) NOT NULL,
    target_uuid VARCHAR(36) NOT NULL,
    created_at DOUBLE NOT NULL,
    CONSTRAINT uq_cot_op_target UNIQUE (operation_uuid, target_object_type, target_uuid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
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
           CONCAT_WS('-', SUBSTR(hex, 1, 8), SUBSTR(hex, 9, 4), SUBSTR(hex, 13, 4), SUBSTR(hex, 17, 4),
                     SUBSTR(hex, 21, 12)) AS op_uuid
    FROM (
        SELECT object_type, object_uuid, op_type, LOWER(REPLACE(raw_uuid, '-', '')) AS hex
        FROM (
            -- CASE, not WHERE, guards every JSON function: MariaDB may evaluate the select list of a merged
            -- derived table before the filter, and a JSON error is fatal in a strict INSERT ... SELECT.
            SELECT object_type, object_uuid,
                   CASE WHEN valid THEN JSON_VALUE(pointer, '$.op_uuid') END AS raw_uuid,
                   CASE WHEN valid THEN JSON_TYPE(JSON_EXTRACT(pointer, '$.op_uuid')) END AS uuid_kind,
                   CASE WHEN valid THEN JSON_VALUE(pointer, '$.op_type') END AS op_type,
                   CASE WHEN valid THEN JSON_TYPE(JSON_EXTRACT(pointer, '$.op_type')) END AS type_kind
            FROM (
                SELECT object_type, object_uuid, last_cluster_operation_json AS pointer,
                       CASE WHEN JSON_VALID(last_cluster_operation_json)
                            THEN JSON_TYPE(last_cluster_operation_json) = 'OBJECT' ELSE FALSE END AS valid
                FROM object_metadata
                WHERE last_cluster_operation_json IS NOT NULL
            ) AS parsed
        ) AS raw
        WHERE uuid_kind = 'STRING' AND type_kind = 'STRING' AND CHAR_LENGTH(op_type) BETWEEN 1 AND 64
          AND raw_uuid REGEXP '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$'
    ) AS checked
) AS p
LEFT JOIN cluster_operations o ON o.uuid = p.op_uuid
ORDER BY COALESCE(o.created_at, 0), p.object_type, p.object_uuid
-- Re-runnable: a row an interrupted earlier run already wrote is kept, never doubled.
ON DUPLICATE KEY UPDATE operation_uuid = operation_uuid;
