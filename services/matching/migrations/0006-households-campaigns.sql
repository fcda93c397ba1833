-- Issue 15, the staff console's reads: key households (建档) and visit campaigns (走访慰问), each
-- request's household and campaign, and when occurrences and cases reached the staff's queues.

-- A key household as household.registered tells it on linli.events (no name, phone or address):
-- where it is, why it is a key household, and its paired volunteer (结对), asked first.
CREATE TABLE household (
    household_id       uuid PRIMARY KEY,
    source             text NOT NULL,
    external_id        text NOT NULL,
    community_code     text NOT NULL,
    grid_code          text,
    tags               text[] NOT NULL,
    paired_source      text,
    paired_external_id text,
    registered_at      timestamptz NOT NULL  -- occurred_at of the registration applied last
);

CREATE TABLE campaign (
    campaign_id     uuid PRIMARY KEY,
    title           text NOT NULL,
    community_codes text[] NOT NULL,
    street_code     text,
    tags            text[] NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    started_by      jsonb NOT NULL,
    started_at      timestamptz NOT NULL
);
-- GET /campaigns?community=: the campaigns whose communities overlap the caller's.
CREATE INDEX campaign_of_community ON campaign USING gin (community_codes);

-- One visit (a request) per household targeted; the request may come before or after.
CREATE TABLE campaign_visit (
    campaign_id  uuid NOT NULL REFERENCES campaign,
    household_id uuid NOT NULL,
    request_id   uuid NOT NULL UNIQUE,
    PRIMARY KEY (campaign_id, household_id)
);

-- A request's household and campaign, as its request.received (kept whole in `received`) says.
ALTER TABLE service_request
    ADD COLUMN household_id uuid GENERATED ALWAYS AS ((received ->> 'household_id')::uuid) STORED,
    ADD COLUMN campaign_id  uuid GENERATED ALWAYS AS ((received ->> 'campaign_id')::uuid) STORED;
CREATE INDEX request_of_household ON service_request (household_id) WHERE household_id IS NOT NULL;
ALTER TABLE mediation_case ADD COLUMN household_id uuid;
CREATE INDEX case_of_household ON mediation_case (household_id) WHERE household_id IS NOT NULL;

-- When an occurrence went to the staff (escalated, missed), on matching's clock, from the events
-- of the decision that did it (store/work.py); what staff handled is in staff_handled (0005).
ALTER TABLE task
    ADD COLUMN escalated_at timestamptz,
    ADD COLUMN missed_at    timestamptz;
UPDATE task SET escalated_at = created_at WHERE status = 'escalated';
UPDATE task SET missed_at = COALESCE(window_end, created_at) WHERE status = 'missed';
-- The work queues of a community: escalated and missed occurrences, newest first.
CREATE INDEX task_escalated_of_community ON task (community_code, escalated_at) WHERE status = 'escalated';
CREATE INDEX task_missed_of_community ON task (community_code, missed_at) WHERE status = 'missed';

-- Each move of a case up a level: when, why (the English sentence and its code and params), and
-- the staff who moved it, if any. The level it started at is the first move's from_level.
CREATE TABLE case_step (
    case_id       uuid NOT NULL REFERENCES mediation_case,
    level         text NOT NULL,
    from_level    text NOT NULL,
    at            timestamptz NOT NULL,
    reason        text,
    reason_code   text,
    reason_params jsonb NOT NULL DEFAULT '{}',
    staff         jsonb,
    PRIMARY KEY (case_id, level)
);
-- Cases already under way: their moves from their tasks (the task left behind keeps the reason).
INSERT INTO case_step (case_id, level, from_level, at, reason)
SELECT up.case_id, up.level, down.level, up.created_at, down.reason
FROM task down JOIN LATERAL (
    SELECT t.case_id, t.level, t.created_at FROM task t
    WHERE t.case_id = down.case_id AND t.created_at > down.created_at ORDER BY t.created_at LIMIT 1) up ON true
WHERE down.case_id IS NOT NULL AND down.status = 'moved_up';
-- The work queues of a community: its open cases, and its closed ones whose return visit is due.
CREATE INDEX case_open_of_community ON mediation_case (community_code, received_at) WHERE status = 'open';
CREATE INDEX case_closed_of_community ON mediation_case (community_code, follow_up_at) WHERE status = 'closed';
-- When a case closed (case.closed's occurred_at); cases closed before, from their last session.
ALTER TABLE mediation_case ADD COLUMN closed_at timestamptz;
UPDATE mediation_case c SET closed_at = (SELECT max(a.completed_at) FROM task t JOIN assignment a USING (task_id)
                                         WHERE t.case_id = c.case_id)
WHERE c.status = 'closed';

-- The return visits staff record (回访): matching-actions' migration 0005 creates this table, as
-- the API contract of issue 15 defines it; here only where 0005 has not (a no-op after it).
CREATE TABLE IF NOT EXISTS return_visit (
    case_id       uuid PRIMARY KEY,
    satisfaction  text NOT NULL,
    note          text,
    staff_subject text NOT NULL,
    visited_at    timestamptz NOT NULL
);
