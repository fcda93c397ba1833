-- The request and dispute rollups per city month too (issue 16): a year's counts read 12 rows a
-- cell instead of 365. The projections add every increment to the day and the month row in one
-- statement; the days at the ends of a period that is not whole months read the day rows.
CREATE TABLE request_month_rollup (LIKE request_rollup INCLUDING DEFAULTS);
ALTER TABLE request_month_rollup RENAME COLUMN day TO month;
ALTER TABLE request_month_rollup ADD PRIMARY KEY (month, community_code, category);
CREATE TABLE dispute_month_rollup (LIKE dispute_rollup INCLUDING DEFAULTS);
ALTER TABLE dispute_month_rollup RENAME COLUMN day TO month;
ALTER TABLE dispute_month_rollup ADD PRIMARY KEY (month, community_code, level);

-- What the day rows already hold (store.projections.roll_up_months does the same).
INSERT INTO request_month_rollup
SELECT date_trunc('month', day)::date, community_code, category, sum(received), sum(assigned), sum(escalated),
       sum(completed), sum(missed), sum(cancelled), sum(rejected), sum(person_times), sum(service_hours),
       sum(participations), sum(completed_with_window), sum(completed_within_window), sum(staff_handled),
       sum(staff_handled_hours)
FROM request_rollup GROUP BY 1, 2, 3;
INSERT INTO dispute_month_rollup
SELECT date_trunc('month', day)::date, community_code, level, sum(disputes_received), sum(disputes_escalated),
       sum(disputes_closed), sum(disputes_agreed), sum(mediation_hours), sum(return_visits),
       sum(return_visits_satisfied), sum(return_visits_basically_satisfied), sum(return_visits_dissatisfied)
FROM dispute_rollup GROUP BY 1, 2, 3;
