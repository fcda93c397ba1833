-- Issue 15: the staff act on requests and cases (services/matching/staff_api.py).

-- The return visit (回访) of a closed case, as staff recorded it. Shared: matching's work queues read it.
CREATE TABLE return_visit (
    case_id       uuid PRIMARY KEY,
    satisfaction  text NOT NULL,
    note          text,
    staff_subject text NOT NULL,
    visited_at    timestamptz NOT NULL
);

-- An occurrence the staff handled themselves, with its hours and people served.
CREATE TABLE staff_handled (
    task_id       uuid PRIMARY KEY REFERENCES task,
    staff_subject text NOT NULL,
    hours         numeric NOT NULL CHECK (hours > 0),
    people_served integer NOT NULL CHECK (people_served >= 1),
    handled_at    timestamptz NOT NULL
);

-- A reopened occurrence asks again the volunteers it asked before: their ended assignments are
-- marked `ask_again` (kept as history), and only the others count as "already offered". So a
-- volunteer holds at most one assignment per task that is not marked.
ALTER TABLE assignment ADD COLUMN ask_again boolean NOT NULL DEFAULT false;
ALTER TABLE assignment DROP CONSTRAINT assignment_once_per_task;
CREATE UNIQUE INDEX assignment_once_per_task ON assignment (task_id, volunteer_id) WHERE NOT ask_again;

-- When staff last reopened the occurrence: one whose window had already ended (missed) is not missed again.
ALTER TABLE task ADD COLUMN reopened_at timestamptz;

-- A request staff linked as a duplicate of another; a case closed by staff, with their note.
ALTER TABLE service_request DROP CONSTRAINT service_request_status;
ALTER TABLE service_request
    ADD COLUMN duplicate_of uuid,
    ADD CONSTRAINT service_request_status CHECK (status IN ('assigned', 'escalated', 'open', 'done', 'cancelled',
                                                            'duplicate'));
ALTER TABLE mediation_case ADD COLUMN closing_note text;
