-- Status updates owed to the publishing systems that registered a webhook.
CREATE TABLE status_update (
    id              bigserial PRIMARY KEY,
    source          text NOT NULL,
    url             text NOT NULL,
    body            bytea NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX status_update_due ON status_update (next_attempt_at) WHERE status = 'pending';
-- a source's pending updates in order: each waits behind the earlier ones
CREATE INDEX status_update_queue ON status_update (source, id) WHERE status = 'pending';
