-- Cancellations that arrived before the request they name (issue 13: order does not matter).
-- Each waits here until its request arrives (the request is then cancelled, never dispatched)
-- or until `until`, when it is refused with its reason.
CREATE TABLE early_cancellation (
    source         text NOT NULL,
    external_id    text NOT NULL,
    reason         text,
    correlation_id text NOT NULL,
    message_id     text,
    held_at        timestamptz NOT NULL,
    until          timestamptz NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX early_cancellation_due ON early_cancellation (until);
