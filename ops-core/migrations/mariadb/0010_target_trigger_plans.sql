-- Schema 10: on PostgreSQL, the lookup of an op's state when its target row is inserted is planned at each
-- row (a connection could keep an index scan that read every state row of the op's type), and the target
-- trigger is split into an insert and a delete trigger, as it already is here. Nothing to change on this
-- dialect; the statement is here because a migration must run one, and the schema version stays the same
-- everywhere.
SELECT 1;
