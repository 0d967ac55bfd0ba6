-- Schema 11: on PostgreSQL and SQLite the prune walks finished ops in the order they were created, which
-- is the order their rows were written, through an index on (created_at, uuid). InnoDB stores a table in
-- its primary key's order, so here the prune keeps walking ops by uuid and needs no new index (one would
-- cost every enqueue an insert). The statement is here because a migration must run one; the schema
-- version stays the same everywhere.
SELECT 1;
