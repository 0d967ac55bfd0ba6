-- Schema 10: the lookup of an op's state when its target row is inserted reads one row, whatever the
-- statistics say. It was `object_type = <op type> AND object_uuid = <op uuid> [AND state_value IN (...)]`,
-- and `idx_object_states_type_state` (object_type, state_value) matched it as well as the primary key did
-- whenever the planner believed the op's type rare: a table near empty when a connection cached its plan,
-- or statistics gathered before the first op of that type (a type missing from the most-common values is
-- priced at one row). It then read every state row of the type for each target row inserted. Seen with
-- auto_explain: a bench's 1,000-row target inserts went from 1.2 s to 20 s as the table grew; enqueues of
-- a type the statistics had not seen took 3-4 ms in this lookup alone, reading 2,000-3,000 rows each.
-- Now the lookup is by `object_uuid` alone, which only `idx_object_states_uuid` leads with (the others
-- hold it second, behind a column the lookup leaves free, so they would be read whole), and the type and
-- state are tested on the row found. The plan is made at each row (force_custom_plan), so a table that
-- was empty when the connection began is priced as it is now.
--
-- The insert and the delete get a trigger each, as on SQLite and MariaDB, so that only the insert pays for
-- planning: a prune deletes target rows by the million, and its markers' delete is a probe of
-- in_flight_targets' own key, which no other index can serve.

CREATE OR REPLACE FUNCTION ops_in_flight_on_target_insert() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    op RECORD;
BEGIN
    FOR op IN SELECT s.object_type, s.state_value FROM object_states s WHERE s.object_uuid = NEW.operation_uuid LOOP
        IF op.object_type = NEW.operation_type AND op.state_value IN ('queued', 'preflight', 'executing') THEN
            INSERT INTO in_flight_targets (target_object_type, target_uuid, operation_uuid, operation_type)
            VALUES (NEW.target_object_type, NEW.target_uuid, NEW.operation_uuid, NEW.operation_type)
            ON CONFLICT DO NOTHING;
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION ops_in_flight_on_target_delete() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
BEGIN
    DELETE FROM in_flight_targets WHERE target_object_type = OLD.target_object_type
        AND target_uuid = OLD.target_uuid AND operation_uuid = OLD.operation_uuid;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS trg_in_flight_target ON cluster_operation_targets;
CREATE OR REPLACE TRIGGER trg_in_flight_target_insert AFTER INSERT ON cluster_operation_targets
    FOR EACH ROW EXECUTE FUNCTION ops_in_flight_on_target_insert();
CREATE OR REPLACE TRIGGER trg_in_flight_target_delete AFTER DELETE ON cluster_operation_targets
    FOR EACH ROW EXECUTE FUNCTION ops_in_flight_on_target_delete();
DROP FUNCTION IF EXISTS ops_in_flight_on_target();
