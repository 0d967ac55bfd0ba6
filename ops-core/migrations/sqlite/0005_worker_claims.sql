-- Schema 5: what a worker needs on each work-queue row to claim it without reading its payload, in
-- priority order, and to hold it under a lease that another worker can take over when the holder dies.
--   operation_uuid, operation_type  the op the row runs (also in the payload); a worker claims only the types
--                                   it has handlers for
--   priority                        the op's priority value (10 most urgent .. 40); claims take the lowest first
--   defer_count                     how often the op waited for a dependency (Shaken Fist kept it in the payload)
--   lease_token, lease_expires_at   the current claim: a fresh token per claim, renewed by the holder's
--                                   heartbeat; a row whose lease expired is rescued and claimed again

ALTER TABLE work_queue ADD COLUMN operation_uuid VARCHAR(36);
ALTER TABLE work_queue ADD COLUMN operation_type VARCHAR(64);
ALTER TABLE work_queue ADD COLUMN priority BIGINT NOT NULL DEFAULT 30;
ALTER TABLE work_queue ADD COLUMN defer_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE work_queue ADD COLUMN lease_token VARCHAR(36);
ALTER TABLE work_queue ADD COLUMN lease_expires_at REAL;

-- Rows queued before this version: the op from the payload (a payload that is not JSON names none, and its
-- row is never claimed), the priority from the queue name's last part.
UPDATE work_queue
SET operation_uuid = json_extract(payload, '$.operation_uuid'),
    operation_type = json_extract(payload, '$.operation_type')
WHERE json_valid(payload) AND json_type(payload, '$.operation_uuid') = 'text'
  AND json_type(payload, '$.operation_type') = 'text';
UPDATE work_queue SET priority = CASE
    WHEN queue_name LIKE '%-user_waiting' THEN 10
    WHEN queue_name LIKE '%-user_facing' THEN 20
    WHEN queue_name LIKE '%-user_facing_high_io' THEN 25
    WHEN queue_name LIKE '%-background_high_io' THEN 40
    ELSE 30
END;

CREATE INDEX IF NOT EXISTS ix_work_queue_claim ON work_queue (claimed_at, priority, scheduled_at, id);
CREATE INDEX IF NOT EXISTS ix_work_queue_lease ON work_queue (lease_expires_at);
CREATE INDEX IF NOT EXISTS ix_work_queue_op ON work_queue (operation_uuid);
