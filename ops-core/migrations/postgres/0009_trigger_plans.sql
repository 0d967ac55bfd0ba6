-- Schema 9: the in-flight triggers' lookups are always key probes. PL/pgSQL caches one plan per connection
-- for each statement of a trigger, and keeps a generic one once five runs showed it no dearer. Planned
-- while the statistics said object_states was one page (ANALYZE on a young database), the lookup of an
-- op's state was a sequential scan, and stayed one in that connection while the table grew: nothing but
-- another ANALYZE (autovacuum, when it is on and gets round to it) replans it. Measured on PostgreSQL 15
-- with autovacuum off, one connection: 0.6 ms an op after 5,000 ops, 3.9 ms after 20,000, one whole scan
-- of object_states for every target row; with this, a flat 64-79 us, no dearer than the good plan.
-- enable_seqscan = off inside the two functions only prices scans out of their plans, so their cached
-- plans are the index probes (the primary key of object_states, uq_cot_op_target) whatever the
-- statistics; it does not forbid a scan where no index serves, and nothing outside the triggers sees it.

ALTER FUNCTION ops_in_flight_on_target() SET enable_seqscan = off;
ALTER FUNCTION ops_in_flight_on_state() SET enable_seqscan = off;
