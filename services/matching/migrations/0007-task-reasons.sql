-- Issue 15: staff read reasons in their language. A task's reason (why it was escalated or
-- moved up) is kept as data too: its code and parameters (shared/reasons.py), rendered for the
-- reader; `reason` stays the English sentence. Tasks moved before this keep only `reason`.
ALTER TABLE task
    ADD COLUMN reason_code   text,
    ADD COLUMN reason_params jsonb;
