-- intake's own tables (search_path is the intake schema).

CREATE TABLE service_request (
    request_id     uuid PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    category       text NOT NULL,
    community_code text NOT NULL,
    submission     jsonb NOT NULL,
    correlation_id text NOT NULL,
    status         text NOT NULL DEFAULT 'received',
    status_detail  jsonb,
    received_at    timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);

CREATE TABLE volunteer (
    volunteer_id  uuid PRIMARY KEY,
    source        text NOT NULL,
    external_id   text NOT NULL,
    registration  jsonb NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);

-- Every rejected submission, kept for operators and for its publisher to look up.
CREATE TABLE rejection (
    id           bigserial PRIMARY KEY,
    submission   text NOT NULL,
    reason       text NOT NULL,
    source       text,
    external_id  text,
    message_id   text,
    body_excerpt text NOT NULL,
    rejected_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejection_by_source ON rejection (source, external_id);
