-- Schema 4: in_flight_targets, one row per (target object, op) while the op is in flight, so the gate is an
-- index probe on the object itself: its cost grows neither with the object's history nor with the ops in
-- flight elsewhere (a backlog). Triggers keep it in step with object_states and cluster_operation_targets,
-- in the transaction that changes them, also when another program writes those tables directly. An op's
-- state is found by the state table's key, (object_type, object_uuid) = (operation_type, operation_uuid).
-- Re-runnable: IF NOT EXISTS everywhere, and markers already there are kept (keyed on the primary key).

CREATE TABLE IF NOT EXISTS in_flight_targets (
    target_object_type VARCHAR(64) NOT NULL,
    target_uuid VARCHAR(36) NOT NULL,
    operation_uuid VARCHAR(36) NOT NULL,
    operation_type VARCHAR(64) NOT NULL,
    PRIMARY KEY (target_object_type, target_uuid, operation_uuid),
    KEY idx_in_flight_op (operation_uuid, operation_type)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TRIGGER IF NOT EXISTS trg_in_flight_target_insert AFTER INSERT ON cluster_operation_targets FOR EACH ROW
    INSERT INTO in_flight_targets (target_object_type, target_uuid, operation_uuid, operation_type)
    SELECT NEW.target_object_type, NEW.target_uuid, NEW.operation_uuid, NEW.operation_type FROM object_states s
    WHERE s.object_type = NEW.operation_type AND s.object_uuid = NEW.operation_uuid AND s.state_value IN ('queued', 'preflight', 'executing')
    ON DUPLICATE KEY UPDATE operation_type = in_flight_targets.operation_type;

CREATE TRIGGER IF NOT EXISTS trg_in_flight_target_delete AFTER DELETE ON cluster_operation_targets FOR EACH ROW
    DELETE FROM in_flight_targets WHERE target_object_type = OLD.target_object_type
        AND target_uuid = OLD.target_uuid AND operation_uuid = OLD.operation_uuid;

CREATE TRIGGER IF NOT EXISTS trg_in_flight_state_insert AFTER INSERT ON object_states FOR EACH ROW
    INSERT INTO in_flight_targets (target_object_type, target_uuid, operation_uuid, operation_type)
    SELECT t.target_object_type, t.target_uuid, t.operation_uuid, t.operation_type FROM cluster_operation_targets t
    WHERE NEW.state_value IN ('queued', 'preflight', 'executing') AND t.operation_uuid = NEW.object_uuid AND t.operation_type = NEW.object_type
    ON DUPLICATE KEY UPDATE operation_type = in_flight_targets.operation_type;

-- Only a change of in-flight-ness or of the key moves markers: queued -> executing rewrites nothing.
CREATE TRIGGER IF NOT EXISTS trg_in_flight_state_update AFTER UPDATE ON object_states FOR EACH ROW
BEGIN
    IF (OLD.state_value IN ('queued', 'preflight', 'executing')) <> (NEW.state_value IN ('queued', 'preflight', 'executing'))
        OR OLD.object_type <> NEW.object_type OR OLD.object_uuid <> NEW.object_uuid THEN
        DELETE FROM in_flight_targets WHERE operation_uuid = OLD.object_uuid AND operation_type = OLD.object_type;
        INSERT INTO in_flight_targets (target_object_type, target_uuid, operation_uuid, operation_type)
        SELECT t.target_object_type, t.target_uuid, t.operation_uuid, t.operation_type FROM cluster_operation_targets t
        WHERE NEW.state_value IN ('queued', 'preflight', 'executing') AND t.operation_uuid = NEW.object_uuid AND t.operation_type = NEW.object_type
        ON DUPLICATE KEY UPDATE operation_type = in_flight_targets.operation_type;
    END IF;
END;

CREATE TRIGGER IF NOT EXISTS trg_in_flight_state_delete AFTER DELETE ON object_states FOR EACH ROW
    DELETE FROM in_flight_targets WHERE operation_uuid = OLD.object_uuid AND operation_type = OLD.object_type;

-- The ops already in flight.
INSERT INTO in_flight_targets (target_object_type, target_uuid, operation_uuid, operation_type)
SELECT t.target_object_type, t.target_uuid, t.operation_uuid, t.operation_type
FROM cluster_operation_targets t
JOIN object_states s ON s.object_type = t.operation_type AND s.object_uuid = t.operation_uuid
WHERE s.state_value IN ('queued', 'preflight', 'executing')
ON DUPLICATE KEY UPDATE operation_type = in_flight_targets.operation_type;
