-- Schema 7: work that a worker of the legacy queue claimed before schema 5 holds no lease, so no rescue
-- would ever free it, and a drain would wait for it forever. Its lease expires at its claim time: the first
-- rescue after the upgrade puts its op back in the queue (or removes the row of an op already finished).
-- Stop the legacy workers before upgrading. Re-runnable: it only touches rows without a lease.

UPDATE work_queue SET lease_expires_at = claimed_at WHERE claimed_at IS NOT NULL AND lease_expires_at IS NULL;
