-- A status update is marked 'sending' (with the time) before its call and confirmed after it;
-- one still 'sending' after a timeout is sent again once, with the same Idempotency-Key
-- (delivery_id), then given up (shared/deliveries.py).
ALTER TABLE status_update DROP CONSTRAINT status_update_status_check;
ALTER TABLE status_update ADD CONSTRAINT status_update_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed'));
ALTER TABLE status_update ADD COLUMN sending_since timestamptz;
ALTER TABLE status_update ADD COLUMN repeats integer NOT NULL DEFAULT 0;
ALTER TABLE status_update ADD COLUMN delivery_id uuid NOT NULL DEFAULT gen_random_uuid();
DROP INDEX status_update_queue;
-- a source's unfinished updates in order: each waits behind the earlier ones
CREATE INDEX status_update_queue ON status_update (source, id) WHERE status IN ('pending', 'sending');
