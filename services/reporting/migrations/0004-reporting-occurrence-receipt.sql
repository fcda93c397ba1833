-- Each occurrence carries its request's receipt time and beneficiary, so that durations and case
-- files read one month of occurrences instead of joining every request (bench: reporting_summary).
ALTER TABLE occurrence_fact ADD COLUMN received_at timestamptz, ADD COLUMN beneficiary text;
UPDATE occurrence_fact o SET received_at = r.received_at, beneficiary = r.beneficiary
FROM request_fact r WHERE r.request_id = o.request_id;
