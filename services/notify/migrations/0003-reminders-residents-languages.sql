-- Reminders are notifications scheduled ahead (next_attempt_at in the future); one that no longer
-- applies (the offer was answered, the assignment withdrawn) is cancelled, not deleted, so staff
-- can see it. A reminder's lead tells two reminders of one kind for one event apart (24 h, 1 h).
ALTER TABLE notification DROP CONSTRAINT notification_status_check;
ALTER TABLE notification ADD CONSTRAINT notification_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'cancelled'));
ALTER TABLE notification ADD COLUMN lead interval;
ALTER TABLE notification ADD COLUMN assignment_id uuid;
ALTER TABLE notification ADD COLUMN language text NOT NULL DEFAULT 'zh-CN';
ALTER TABLE notification DROP CONSTRAINT notification_about_event_id_recipient_channel_key;
ALTER TABLE notification ADD CONSTRAINT notification_once
    UNIQUE NULLS NOT DISTINCT (about_event_id, recipient, channel, kind, lead);
CREATE INDEX notification_by_assignment ON notification (assignment_id) WHERE assignment_id IS NOT NULL;

-- What an assignment's later events settled: a message about it that is handled after (events
-- travel on separate queues, in any order) is not sent.
CREATE TABLE settled_message (
    assignment_id uuid NOT NULL,
    kind          text NOT NULL,
    settled_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (assignment_id, kind)
);

-- Residents are reached at the phone their request gave (resident:<source>:<external_id>); their
-- name is kept only to mask it where a message does not need it.
ALTER TABLE contact ADD COLUMN name text;
