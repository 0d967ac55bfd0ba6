-- Schema 9: on PostgreSQL, the in-flight triggers' cached plans are kept to key probes (a connection could
-- keep a sequential scan planned while the tables were small). Nothing to change on this dialect: it plans
-- a trigger's statements when they run, and their lookups are primary-key probes whatever the statistics.
-- The statement is here because a migration must run one; the schema version stays the same everywhere.
SELECT 1;
