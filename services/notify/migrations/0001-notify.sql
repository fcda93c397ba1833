-- notify's own tables (search_path is the notify schema).

-- One row per message, recipient and channel: its state, attempts and next try.
CREATE TABLE notification (
    notification_id uuid PRIMARY KEY,
    recipient       text NOT NULL,
    channel         text NOT NULL,
    kind            text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    about_event_id  uuid NOT NULL,
    about           text NOT NULL,
    correlation_id  text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    -- an event re-published under a new message id never makes a second message
    UNIQUE (about_event_id, recipient, channel)
);
CREATE INDEX notification_due ON notification (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_by_recipient ON notification (recipient, created_at);

-- The in-app inbox: what a volunteer or a member of staff reads in the app.
CREATE TABLE inbox_message (
    id              bigserial PRIMARY KEY,
    notification_id uuid NOT NULL UNIQUE REFERENCES notification,
    recipient       text NOT NULL,
    kind            text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_by_recipient ON inbox_message (recipient, id);
