-- How to reach people: built from volunteer.registered. A notification keeps the address it
-- goes to, so a later change of profile does not redirect a message already queued.
CREATE TABLE contact (
    recipient     text PRIMARY KEY,  -- volunteer:<source>:<external_id>
    email         text,
    phone         text,
    languages     text[] NOT NULL DEFAULT '{}',
    registered_at timestamptz NOT NULL
);
ALTER TABLE notification ADD COLUMN address text;
