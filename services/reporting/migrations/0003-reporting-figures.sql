-- Every figure of issue 6: added-up rollups per city day, and the facts the other figures are
-- computed from. They start empty: `python -m services.reporting rebuild` fills them from the
-- event archive (daily_count is replaced by request_rollup).
DROP TABLE daily_count;

-- What request events add up to, per city day, community and category (the pre-aggregate the
-- summary reads instead of the facts).
CREATE TABLE request_rollup (
    day                     date NOT NULL,
    community_code          text NOT NULL,
    category                text NOT NULL,
    received                integer NOT NULL DEFAULT 0,
    assigned                integer NOT NULL DEFAULT 0,
    escalated               integer NOT NULL DEFAULT 0,
    completed               integer NOT NULL DEFAULT 0,
    missed                  integer NOT NULL DEFAULT 0,
    cancelled               integer NOT NULL DEFAULT 0,
    rejected                integer NOT NULL DEFAULT 0,
    person_times            integer NOT NULL DEFAULT 0,
    service_hours           numeric NOT NULL DEFAULT 0,
    participations          integer NOT NULL DEFAULT 0,
    completed_with_window   integer NOT NULL DEFAULT 0,
    completed_within_window integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, community_code, category)
);

-- What mediation events add up to, per city day, community and level.
CREATE TABLE dispute_rollup (
    day                date NOT NULL,
    community_code     text NOT NULL,
    level              text NOT NULL,
    disputes_received  integer NOT NULL DEFAULT 0,
    disputes_escalated integer NOT NULL DEFAULT 0,
    disputes_closed    integer NOT NULL DEFAULT 0,
    disputes_agreed    integer NOT NULL DEFAULT 0,
    mediation_hours    numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (day, community_code, level)
);

-- A request as request.received (and request.cancelled) tell it; either may come first.
CREATE TABLE request_fact (
    request_id     uuid PRIMARY KEY,
    community_code text,
    category       text,
    received_at    timestamptz,
    beneficiary    text,  -- a hash of who it serves (domain.figures.beneficiary_key)
    cancelled_at   timestamptz
);

-- One occurrence of a request: the earliest time of each step, whatever order they came in.
CREATE TABLE occurrence_fact (
    request_id        uuid NOT NULL,
    occurrence        integer NOT NULL,
    community_code    text NOT NULL,
    category          text NOT NULL,
    assigned_at       timestamptz,
    assigned_day      date,
    escalated_at      timestamptz,
    escalated_day     date,
    escalation_reason text,
    completed_at      timestamptz,
    completed_day     date,
    missed_at         timestamptz,
    missed_day        date,
    PRIMARY KEY (request_id, occurrence)
);
CREATE INDEX occurrence_by_completed_day ON occurrence_fact (completed_day) WHERE completed_day IS NOT NULL;
CREATE INDEX occurrence_by_assigned_day ON occurrence_fact (assigned_day) WHERE assigned_day IS NOT NULL;
CREATE INDEX occurrence_escalated ON occurrence_fact (escalated_at) WHERE escalated_at IS NOT NULL;

-- A volunteer on a completed occurrence (request.completed's volunteers).
CREATE TABLE participation (
    assignment_id  uuid PRIMARY KEY,
    volunteer_id   uuid NOT NULL,
    request_id     uuid NOT NULL,
    occurrence     integer NOT NULL,
    community_code text NOT NULL,
    category       text NOT NULL,
    day            date NOT NULL,
    share_hours    numeric NOT NULL  -- the occurrence's hours over its volunteers
);
CREATE INDEX participation_by_day ON participation (day);

-- The hours a volunteer reported for an assignment (completion.reported).
CREATE TABLE reported_hours (
    assignment_id uuid PRIMARY KEY,
    hours         numeric NOT NULL,
    reported_at   timestamptz NOT NULL
);

-- Each volunteer's latest profile (volunteer.registered), and the day they first registered.
CREATE TABLE volunteer (
    volunteer_id   uuid PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    name           text NOT NULL,
    community_code text NOT NULL,
    team           text,
    active         boolean NOT NULL,
    profile_at     timestamptz NOT NULL,
    first_day      date NOT NULL
);
