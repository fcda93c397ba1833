-- Issue 14: a request's stage latencies and the escalation backlog, as matching's metrics.

-- When each request first reached a stage (its first offer, acceptance and completion, on
-- matching's clock): set once, by the decision that made the stage, so each latency is observed
-- once per request however often a message comes. Requests already under way take theirs from
-- their assignments, so none is observed against a stage it passed before.
ALTER TABLE service_request
    ADD COLUMN offered_at   timestamptz,
    ADD COLUMN accepted_at  timestamptz,
    ADD COLUMN completed_at timestamptz;
UPDATE service_request r
SET offered_at = f.offered_at, accepted_at = f.accepted_at, completed_at = f.completed_at
FROM (SELECT t.request_id, min(a.created_at) AS offered_at,
             min(a.answered_at) FILTER (WHERE a.status IN ('accepted', 'completed')) AS accepted_at,
             min(a.completed_at) FILTER (WHERE a.status = 'completed') AS completed_at
      FROM assignment a JOIN task t USING (task_id) WHERE t.request_id IS NOT NULL GROUP BY t.request_id) f
WHERE f.request_id = r.request_id;

-- The escalation backlog is counted every few seconds: the occurrences with the staff.
CREATE INDEX task_escalated ON task (request_id) WHERE status = 'escalated';
