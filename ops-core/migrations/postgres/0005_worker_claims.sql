-- Schema 5: what a worker needs on each work-queue row to claim it without reading its payload, in
-- priority order, and to hold it under a lease that another worker can take over when the holder dies.
--   operation_uuid, operation_type  the op the row runs (also in the payload); a worker claims only the types
--                                   it has handlers for
--   priority                        the op's priority value (10 most urgent .. 40); claims take the lowest first
--   defer_count                     how often the op waited for a dependency (Shaken Fist kept it in the payload)
--   lease_token, lease_expires_at   the current claim: a fresh token per claim, renewed by the holder's
--                                   heartbeat; a row whose lease expired is rescued and claimed again

ALTER TABLE work_queue
    ADD COLUMN IF NOT EXISTS operation_uuid VARCHAR(36),
    ADD COLUMN IF NOT EXISTS operation_type VARCHAR(64),
    ADD COLUMN IF NOT EXISTS priority BIGINT NOT NULL DEFAULT 30,
    ADD COLUMN IF NOT EXISTS defer_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS lease_token VARCHAR(36),
    ADD COLUMN IF NOT EXISTS lease_expires_at DOUBLE PRECISION;

-- PostgreSQL 15 has no IS JSON; a cast that fails names no op.
CREATE OR REPLACE FUNCTION pg_temp.ops_try_json(value TEXT) RETURNS JSONB AS $$
BEGIN
    RETURN value::JSONB;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$$ LANGUAGE plpgsql IMMUTABLE;

-- Rows queued before this version: the op from the payload (a payload that is not JSON names none, and its
-- row is never claimed), the priority from the queue name's last part.
UPDATE work_queue AS w
SET operation_uuid = p.payload ->> 'operation_uuid', operation_type = p.payload ->> 'operation_type'
FROM (SELECT id, pg_temp.ops_try_json(payload) AS payload FROM work_queue WHERE operation_uuid IS NULL) AS p
WHERE w.id = p.id AND jsonb_typeof(p.payload -> 'operation_uuid') = 'string'
  AND jsonb_typeof(p.payload -> 'operation_type') = 'string';
UPDATE work_queue SET priority = CASE
    WHEN queue_name LIKE '%-user_waiting' THEN 10
    WHEN queue_name LIKE '%-user_facing' THEN 20
    WHEN queue_name LIKE '%-user_facing_high_io' THEN 25
    WHEN queue_name LIKE '%-background_high_io' THEN 40
    ELSE 30
END;

DROP FUNCTION pg_temp.ops_try_json(TEXT);

CREATE INDEX IF NOT EXISTS ix_work_queue_claim ON work_queue (claimed_at, priority, scheduled_at, id);
CREATE INDEX IF NOT EXISTS ix_work_queue_lease ON work_queue (lease_expires_at);
CREATE INDEX IF NOT EXISTS ix_work_queue_op ON work_queue (operation_uuid);
