-- Each outbox row has its own attempts and backoff: one event that fails to publish never holds
-- back the others (the relay skips it until next_attempt_at).
ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE outbox ADD COLUMN last_error text;
