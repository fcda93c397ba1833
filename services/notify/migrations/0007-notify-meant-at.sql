-- Issue 14: notification delivery latency, per channel. `meant_at` is when the notification was
-- meant to go: its event's time (on the clock of the service that emitted it), or a reminder's
-- own time. linli_notify_delivery_seconds counts from it to the delivery that succeeded (retries
-- and quiet hours included). Rows made before it have none, and are not measured.
ALTER TABLE notification ADD COLUMN meant_at timestamptz;
