-- The staff console (issue 15): what staff did, return visits, key households and visit
-- campaigns. New tables start empty: `linli rebuild reporting` fills them from the archive
-- (events reporting did not take before, e.g. request.duplicate, were not archived).

-- Services staff did themselves (request.handled_by_staff), beside the volunteers' counts.
ALTER TABLE request_rollup ADD COLUMN staff_handled integer NOT NULL DEFAULT 0,
                           ADD COLUMN staff_handled_hours numeric NOT NULL DEFAULT 0;

-- Return visits (case.return_visited) per level that closed the case, with the resident's satisfaction.
ALTER TABLE dispute_rollup ADD COLUMN return_visits integer NOT NULL DEFAULT 0,
                           ADD COLUMN return_visits_satisfied integer NOT NULL DEFAULT 0,
                           ADD COLUMN return_visits_basically_satisfied integer NOT NULL DEFAULT 0,
                           ADD COLUMN return_visits_dissatisfied integer NOT NULL DEFAULT 0;

-- An escalation's reason as data (shared/reasons.py: no personal data in it), rendered for the
-- reader; staff taking an occurrence over (agreed by phone, or done themselves) ends its wait.
ALTER TABLE occurrence_fact ADD COLUMN escalation_reason_code text,
                            ADD COLUMN escalation_reason_params jsonb,
                            ADD COLUMN staff_agreed_at timestamptz,
                            ADD COLUMN staff_agreed_day date,
                            ADD COLUMN handled_at timestamptz,
                            ADD COLUMN handled_day date;
-- The day an occurrence was served, by volunteers or by staff (case files, households visited).
CREATE INDEX occurrence_by_served_day ON occurrence_fact ((COALESCE(completed_day, handled_day)))
    WHERE COALESCE(completed_day, handled_day) IS NOT NULL;

-- Staff linked the request as a duplicate of another (request.duplicate with linked_by).
ALTER TABLE request_fact ADD COLUMN duplicate_at timestamptz;

-- Staff actions per city day, community, category (mediation for a case) and kind.
CREATE TABLE staff_action_rollup (
    day            date NOT NULL,
    community_code text NOT NULL,
    category       text NOT NULL,
    kind           text NOT NULL,
    actions        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (day, community_code, category, kind)
);

-- Each key household filed (household.registered): its latest community, the day first filed.
-- Only ids: the name, phone and address stay with intake.
CREATE TABLE household (
    household_id   uuid PRIMARY KEY,
    community_code text NOT NULL,
    registered_at  timestamptz NOT NULL,
    first_day      date NOT NULL
);

-- Visit campaigns (campaign.started) and their visits: one request per household targeted.
CREATE TABLE campaign (
    campaign_id     uuid PRIMARY KEY,
    title           text NOT NULL,
    community_codes text[] NOT NULL,
    street_code     text,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    targeted        integer NOT NULL,
    started_at      timestamptz NOT NULL
);
CREATE TABLE campaign_visit (
    request_id   uuid PRIMARY KEY,
    campaign_id  uuid NOT NULL,
    household_id uuid NOT NULL
);
CREATE INDEX campaign_visit_by_campaign ON campaign_visit (campaign_id);
