-- Issue 16: staff hear of a backlog, not of each request (services/notify/domain/backlog.py).
-- A community's windows: the escalations held in one are told in one backlog message once it
-- closes (told_at), made once whichever notify process takes it. No personal data: the service,
-- its urgency and times.
CREATE TABLE staff_backlog (
    community_code text NOT NULL,
    opens_at       timestamptz NOT NULL,
    closes_at      timestamptz NOT NULL,
    held           integer NOT NULL DEFAULT 0,
    told_at        timestamptz,
    PRIMARY KEY (community_code, opens_at)
);
CREATE INDEX staff_backlog_due ON staff_backlog (closes_at) WHERE told_at IS NULL AND held > 0;

CREATE TABLE staff_backlog_escalation (
    event_id       uuid PRIMARY KEY,  -- an escalation is held once, whatever the copies
    correlation_id text NOT NULL,
    community_code text NOT NULL,
    opens_at       timestamptz NOT NULL,
    category       text NOT NULL,
    urgency        text NOT NULL,
    escalated_at   timestamptz NOT NULL,
    FOREIGN KEY (community_code, opens_at) REFERENCES staff_backlog ON DELETE CASCADE
);
CREATE INDEX staff_backlog_escalation_window ON staff_backlog_escalation (community_code, opens_at);
