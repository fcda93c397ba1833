-- Events whose messages wait for what travels on another queue (services/notify/domain/ordering.py):
-- held until it arrives (told = false), or told already and told again once it does (told = true),
-- never past held_until. The body is the event as notify heard it: a row goes once released, and
-- erasure deletes the person's.
CREATE TABLE held_event (
    event_id       uuid PRIMARY KEY,
    routing_key    text NOT NULL,
    body           bytea NOT NULL,
    correlation_id text NOT NULL,
    waiting_for    text[] NOT NULL,
    told           boolean NOT NULL,
    held_until     timestamptz NOT NULL
);
CREATE INDEX held_event_waiting ON held_event USING gin (waiting_for);
CREATE INDEX held_event_until ON held_event (held_until);
