-- matching's own tables (search_path is the matching schema).

-- The roster, built from volunteer.registered events.
CREATE TABLE volunteer (
    volunteer_id     uuid PRIMARY KEY,
    source           text NOT NULL,
    external_id      text NOT NULL,
    name             text NOT NULL,
    community_code   text NOT NULL,
    team             text,
    skills           text[] NOT NULL,
    active           boolean NOT NULL DEFAULT true,
    open_assignments integer NOT NULL DEFAULT 0 CHECK (open_assignments >= 0),
    registered_at    timestamptz NOT NULL,  -- occurred_at of the registration applied last
    UNIQUE (source, external_id)
);
-- Candidates are searched by community among the active, least loaded first.
CREATE INDEX volunteer_candidates ON volunteer (community_code, open_assignments, volunteer_id) WHERE active;

CREATE TABLE service_request (
    request_id     uuid PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    category       text NOT NULL,
    community_code text NOT NULL,
    urgency        text NOT NULL,
    status         text NOT NULL CHECK (status IN ('assigned', 'escalated')),
    reason         text,
    received_at    timestamptz NOT NULL
);

CREATE TABLE assignment (
    assignment_id uuid PRIMARY KEY,
    request_id    uuid NOT NULL REFERENCES service_request,
    volunteer_id  uuid NOT NULL REFERENCES volunteer,
    status        text NOT NULL DEFAULT 'offered',
    reason        jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (request_id, volunteer_id)
);
CREATE INDEX assignment_by_volunteer ON assignment (volunteer_id, created_at);
