-- A notification over the network is marked 'sending' (with the time) before the call and
-- confirmed after it; one still 'sending' after a timeout is sent again once, under the same id
-- (repeats counts those), then given up (shared/deliveries.py).
ALTER TABLE notification DROP CONSTRAINT notification_status_check;
ALTER TABLE notification ADD CONSTRAINT notification_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled'));
ALTER TABLE notification ADD COLUMN sending_since timestamptz;
ALTER TABLE notification ADD COLUMN repeats integer NOT NULL DEFAULT 0;
CREATE INDEX notification_sending ON notification (sending_since) WHERE status = 'sending';
