-- The other submissions of the contract, and what cross-source duplicates are found by.

ALTER TABLE service_request ADD COLUMN beneficiary_phone text;
ALTER TABLE service_request ADD COLUMN duplicate_of uuid REFERENCES service_request;
CREATE INDEX service_request_same_need ON service_request (beneficiary_phone, category, community_code, received_at)
    WHERE beneficiary_phone IS NOT NULL;

CREATE TABLE mediation_case (
    case_id        uuid PRIMARY KEY,
    source         text NOT NULL,
    external_id    text NOT NULL,
    community_code text NOT NULL,
    grid_code      text,
    dispute_type   text NOT NULL,
    severity       text NOT NULL,
    level          text NOT NULL,
    submission     jsonb NOT NULL,
    correlation_id text NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);

CREATE TABLE assignment_response (
    id                    bigserial PRIMARY KEY,
    assignment_id         uuid NOT NULL,
    source                text NOT NULL,
    volunteer_external_id text NOT NULL,
    accept                boolean NOT NULL,
    reason                text,
    received_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignment_response_by_assignment ON assignment_response (assignment_id);

CREATE TABLE service_completion (
    id            bigserial PRIMARY KEY,
    assignment_id uuid NOT NULL,
    hours         numeric(6, 2) NOT NULL,
    people_served integer NOT NULL,
    note          text,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_completion_by_assignment ON service_completion (assignment_id);
