-- The registry of key households (建档, issue 15), visit campaigns (走访慰问), and what staff
-- search by: a household, a campaign or a case named by a request, parties' phones as digits.
CREATE TABLE household (
    household_id      uuid PRIMARY KEY,
    source            text NOT NULL,
    external_id       text NOT NULL,
    community_code    text NOT NULL,
    grid_code         text,
    tags              text[] NOT NULL,
    languages         text[] NOT NULL DEFAULT '{}',
    beneficiary       jsonb,           -- name, phone, tags, language (personal: erased to its tags)
    phone_digits      text,            -- the beneficiary's phone as compared (domain.phone_key)
    address           text,
    consent           jsonb NOT NULL,
    paired_volunteer  jsonb,
    registered_by     jsonb,
    correlation_id    text NOT NULL,
    registered_at     timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    erased_at         timestamptz,     -- its resident's personal data erased: no longer visited
    UNIQUE (source, external_id)
);
CREATE INDEX household_by_community ON household (community_code, registered_at);
CREATE INDEX household_by_phone ON household (phone_digits) WHERE phone_digits IS NOT NULL;
CREATE INDEX household_by_tags ON household USING gin (tags);
CREATE INDEX household_by_external_id ON household (external_id);

CREATE TABLE campaign (
    campaign_id     uuid PRIMARY KEY,
    title           text NOT NULL,
    community_codes text[] NOT NULL,
    street_code     text,
    tags            text[] NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    started_by      jsonb NOT NULL,
    correlation_id  text NOT NULL,
    started_at      timestamptz NOT NULL
);

ALTER TABLE service_request ADD COLUMN household_id uuid;
ALTER TABLE service_request ADD COLUMN campaign_id uuid;
CREATE INDEX service_request_by_household ON service_request (household_id) WHERE household_id IS NOT NULL;
CREATE INDEX service_request_by_campaign ON service_request (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX service_request_by_community ON service_request (community_code, received_at);
CREATE INDEX service_request_by_phone ON service_request (beneficiary_phone) WHERE beneficiary_phone IS NOT NULL;
-- search: any source's submission by its external id
CREATE INDEX service_request_by_external_id ON service_request (external_id);

ALTER TABLE mediation_case ADD COLUMN household_id uuid;
-- The parties' phones as compared (digits, without +86): what search and erasure find a case by.
ALTER TABLE mediation_case ADD COLUMN party_phones text[] NOT NULL DEFAULT '{}';
UPDATE mediation_case c SET party_phones = ARRAY(
    SELECT DISTINCT regexp_replace(regexp_replace(p ->> 'phone', '\D', '', 'g'), '^86(\d{11})$', '\1')
    FROM jsonb_array_elements(c.submission -> 'parties') p WHERE p ->> 'phone' IS NOT NULL);
CREATE INDEX mediation_case_by_phone ON mediation_case USING gin (party_phones);
CREATE INDEX mediation_case_by_community ON mediation_case (community_code, received_at);
CREATE INDEX mediation_case_by_external_id ON mediation_case (external_id);
CREATE INDEX mediation_case_by_household ON mediation_case (household_id) WHERE household_id IS NOT NULL;
