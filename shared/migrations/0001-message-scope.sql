-- Idempotency keys are scoped to the queue and the publisher (the broker user RabbitMQ
-- validated, '' for one that gave none): two systems that both number their messages 1, 2, 3 …
-- no longer silence each other, nor does one queue's claim silence another queue.
ALTER TABLE processed_message ADD COLUMN publisher text NOT NULL DEFAULT '';
ALTER TABLE processed_message DROP CONSTRAINT processed_message_pkey;
ALTER TABLE processed_message ADD PRIMARY KEY (queue, publisher, message_id);
-- The retention sweeper deletes by age.
CREATE INDEX processed_message_age ON processed_message (processed_at);
