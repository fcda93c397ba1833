-- The messaging tables every service has in its own schema (search_path is the service's schema).

-- Transactional outbox: events written in the same transaction as the state change they report.
CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    routing_key    text NOT NULL,
    body           bytea NOT NULL,
    correlation_id text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Idempotent consumer: the message ids this service has acted on, claimed in the work's transaction.
CREATE TABLE processed_message (
    message_id   text PRIMARY KEY,
    queue        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
