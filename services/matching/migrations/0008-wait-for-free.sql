-- Issue 16: a request that finds every able volunteer busy waits for one to free a place
-- (domain/search.waits_for_free) until `wait_until`, wanting no offers until a freed place or
-- the end of its wait wakes it. Cleared when the task moves (assigned, escalated, ...).
ALTER TABLE task ADD COLUMN wait_until timestamptz;
CREATE INDEX task_waiting_for_free ON task (wait_until) WHERE wait_until IS NOT NULL AND status = 'open';
