-- The offer cycle, recurring pairings and mediation: matching now staffs tasks (one occurrence
-- of a request, or a case at one level) through offers that are accepted, declined or expire.

-- The full profile, and the searchable roster: one row per skill of each active volunteer,
-- found by (community, skill), so a decision reads only the few who have the skill.
ALTER TABLE volunteer
    ADD COLUMN grid_code        text,
    ADD COLUMN availability     jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN max_weekly_hours numeric NOT NULL DEFAULT 8,
    ADD COLUMN lat              double precision,
    ADD COLUMN lon              double precision,
    ADD COLUMN languages        text[] NOT NULL DEFAULT '{}';
DROP INDEX volunteer_candidates;
CREATE TABLE volunteer_skill (
    community_code text NOT NULL,
    skill          text NOT NULL,
    volunteer_id   uuid NOT NULL REFERENCES volunteer ON DELETE CASCADE,
    PRIMARY KEY (community_code, skill, volunteer_id)
);
INSERT INTO volunteer_skill SELECT community_code, unnest(skills), volunteer_id FROM volunteer WHERE active;
CREATE INDEX volunteer_skill_of ON volunteer_skill (volunteer_id);

-- Hours per volunteer and local week: booked when an offer is made, corrected when the
-- service is reported, released when an offer falls away. The cap is enforced on this row.
CREATE TABLE volunteer_week (
    volunteer_id uuid NOT NULL REFERENCES volunteer,
    week         date NOT NULL,  -- the Monday
    hours        numeric NOT NULL DEFAULT 0 CHECK (hours >= 0),
    PRIMARY KEY (volunteer_id, week)
);

ALTER TABLE service_request DROP CONSTRAINT service_request_status_check;
ALTER TABLE service_request
    ADD COLUMN received jsonb,  -- the request.received event, from which occurrences are made
    ADD CONSTRAINT service_request_status CHECK (status IN ('assigned', 'escalated', 'open', 'done', 'cancelled'));

CREATE TABLE mediation_case (
    case_id        uuid PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    community_code text NOT NULL,
    grid_code      text,
    dispute_type   text NOT NULL,
    summary        text NOT NULL,
    severity       text NOT NULL,
    correlation_id text NOT NULL,
    level          text NOT NULL CHECK (level IN ('grid', 'community', 'street', 'street_staff')),
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    outcome        text CHECK (outcome IN ('agreement', 'no_agreement')),
    follow_up_at   timestamptz,
    follow_up_announced boolean NOT NULL DEFAULT false,
    received_at    timestamptz NOT NULL
);
CREATE INDEX case_follow_up_due ON mediation_case (follow_up_at) WHERE NOT follow_up_announced;

CREATE TABLE task (
    task_id        uuid PRIMARY KEY,
    request_id     uuid REFERENCES service_request,
    occurrence     integer,
    case_id        uuid REFERENCES mediation_case,
    level          text,
    community_code text NOT NULL,  -- where the search starts
    grid_code      text,
    search_area    text[] NOT NULL,  -- communities searched, the first being community_code
    skills         text[] NOT NULL,
    helpful_skills text[] NOT NULL DEFAULT '{}',
    needed         integer NOT NULL CHECK (needed >= 1),
    urgency        text NOT NULL,
    window_start   timestamptz,
    window_end     timestamptz,
    planned_hours  numeric NOT NULL,
    lat            double precision,
    lon            double precision,
    language       text,
    status         text NOT NULL CHECK (status IN ('open', 'assigned', 'completed', 'escalated', 'missed',
                                                   'cancelled', 'moved_up', 'closed')),
    -- Set when the task needs offers (new, or an offer fell away); cleared by the decision that makes them.
    wants_offers   boolean NOT NULL DEFAULT true,
    reason         text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((request_id IS NULL) <> (case_id IS NULL)),
    UNIQUE (request_id, occurrence),
    UNIQUE (case_id, level)
);
CREATE INDEX task_wanting_offers ON task (community_code, created_at) WHERE wants_offers AND status = 'open';
CREATE INDEX task_window_end ON task (window_end) WHERE status IN ('open', 'assigned');

-- v1's requests become their first occurrence, already decided.
INSERT INTO task (task_id, request_id, occurrence, community_code, search_area, skills, needed, urgency,
                  planned_hours, status, wants_offers)
SELECT gen_random_uuid(), request_id, 1, community_code, ARRAY[community_code], '{}', 1, urgency, 2, status, false
FROM service_request;

ALTER TABLE assignment
    ADD COLUMN task_id       uuid REFERENCES task,
    ADD COLUMN planned_hours numeric NOT NULL DEFAULT 2,
    ADD COLUMN week          date,
    ADD COLUMN expires_at    timestamptz,
    ADD COLUMN answered_at   timestamptz,
    ADD COLUMN answer_reason text,
    ADD COLUMN hours         numeric,
    ADD COLUMN people_served integer,
    ADD COLUMN outcome       text,
    ADD COLUMN completed_at  timestamptz;
UPDATE assignment a SET task_id = t.task_id FROM task t WHERE t.request_id = a.request_id;
ALTER TABLE assignment
    ALTER COLUMN task_id SET NOT NULL,
    DROP COLUMN request_id,
    ADD CONSTRAINT assignment_once_per_task UNIQUE (task_id, volunteer_id),
    ADD CONSTRAINT assignment_status CHECK (status IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn',
                                                      'completed', 'missed'));
CREATE INDEX assignment_of_task ON assignment (task_id);
CREATE INDEX assignment_expiring ON assignment (expires_at) WHERE status = 'offered';
