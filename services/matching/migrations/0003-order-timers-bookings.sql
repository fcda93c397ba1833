-- Issue 13: order that does not matter, timers that one failing row cannot stop, a deadline
-- for an accepted assignment without a window, and bookings that do not overlap.

-- A cancellation that arrived before its request (another queue): the request, when it comes,
-- is recorded as cancelled and never offered.
CREATE TABLE cancelled_early (
    request_id   uuid PRIMARY KEY,
    reason       text,
    cancelled_at timestamptz NOT NULL
);

-- A report of service that arrived while its offer was still open (the acceptance is on
-- another queue): kept, and applied when the acceptance arrives, or refused when the offer falls away.
CREATE TABLE kept_report (
    assignment_id uuid PRIMARY KEY REFERENCES assignment,
    report        jsonb NOT NULL,  -- the completion.reported event, as matching reads it (no note)
    kept_at       timestamptz NOT NULL
);

-- A timer row that raised, set aside until `retry_at` so that the other rows go on.
CREATE TABLE timer_setback (
    timer    text NOT NULL,  -- expire | miss | lapse | follow_up | dispatch
    key      text NOT NULL,  -- the assignment, task or case id, or the community
    attempts integer NOT NULL,
    retry_at timestamptz NOT NULL,
    PRIMARY KEY (timer, key)
);

-- Accepted assignments, found by when they were accepted (the deadline of those without a
-- window) and by volunteer (the windows they are booked in).
CREATE INDEX assignment_accepted ON assignment (answered_at) WHERE status = 'accepted';
CREATE INDEX assignment_accepted_by_volunteer ON assignment (volunteer_id) WHERE status = 'accepted';

-- Who was erased, and when: a request, case or registration that arrives after its erasure
-- (another queue) but happened before it is stored as the erasure leaves it (erasure.py).
CREATE TABLE erased (
    subject   text NOT NULL CHECK (subject IN ('request', 'case', 'volunteer')),
    id        uuid NOT NULL,
    erased_at timestamptz NOT NULL,
    PRIMARY KEY (subject, id)
);
