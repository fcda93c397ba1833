-- Distinct people and duration percentiles per city month that add up (issue 16): a year's
-- summary merges at most 12 rows a community instead of reading the year's facts. Plain SQL, no
-- extension. domain/sketches.py holds the same constants (precision, buckets) and reads them.

-- HyperLogLog: a person (text) falls in one of 4,096 registers (the top 12 bits of the 64-bit
-- hashtextextended) with a rank (where the first 1 is among the other 52 bits, 53 when none is); a
-- register keeps the highest rank. Returns {register, rank}. One expression, so that PostgreSQL
-- inlines it (a fill hashes every participation). The hash is PostgreSQL's: the registers are
-- derived data, and `linli rebuild reporting` makes them again on any server.
CREATE FUNCTION hll_slot(person text) RETURNS int[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[((hashtextextended(person, 0) >> 52) & 4095)::int,
                 CASE WHEN hashtextextended(person, 0) & 4503599627370495 = 0 THEN 53
                      ELSE 52 - floor(ln((hashtextextended(person, 0) & 4503599627370495)::float8) / ln(2::float8))::int
                 END]
$$;

-- A duration's bucket: 0 up to 1 s (and a step told before the receipt), else bucket i holds
-- (γ^(i-1), γ^i] seconds with γ = 1.01 / 0.99 (each bucket's middle is within 1% of all it holds),
-- the last (869) everything from about 400 days.
CREATE FUNCTION duration_bucket(seconds float8) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN seconds <= 1 THEN 0 ELSE least(ceil(ln(seconds) / ln(1.01::float8 / 0.99))::int, 869) END
$$;

-- Per city month, community and category, per month and community over every category (category
-- '*') and per month and category over every community (community '*'): the registers of the volunteers who took part (kind 'volunteer', on the day of
-- the completion) and of the people served (kind 'beneficiary': the case file, on the day an
-- occurrence was completed or handled by staff, once its request's receipt is known).
CREATE TABLE reach_sketch (
    month          date NOT NULL,
    community_code text NOT NULL,
    category       text NOT NULL,
    kind           text NOT NULL,
    registers      bytea NOT NULL,  -- 4,096 bytes, one rank each
    PRIMARY KEY (month, community_code, category, kind)
);

-- The same cells' counts of the seconds from a request's receipt to its first occurrence's
-- assignment (step 'assign') and completion ('complete'), on the month of the step.
CREATE TABLE duration_histogram (
    month          date NOT NULL,
    community_code text NOT NULL,
    category       text NOT NULL,
    step           text NOT NULL,
    counts         bytea NOT NULL,  -- 870 big-endian int4, one per bucket
    PRIMARY KEY (month, community_code, category, step)
);

-- Add a person to a cell, to its community's '*' cell and to its category's (the projections, once per event).
CREATE FUNCTION reach_add(date, text, text, text, text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO reach_sketch (month, community_code, category, kind, registers)
    SELECT $1, level.community_code, level.category, $4, decode(repeat('00', 4096), 'hex')
    FROM (VALUES ($2, $3), ($2, '*'), ('*', $3)) AS level(community_code, category)
    ON CONFLICT DO NOTHING;
    UPDATE reach_sketch SET registers = set_byte(registers, slot[1], greatest(get_byte(registers, slot[1]), slot[2]))
    FROM hll_slot($5) AS slot
    WHERE month = $1 AND (community_code, category) IN (($2, $3), ($2, '*'), ('*', $3)) AND kind = $4;
$$;

-- Count a duration in (delta 1) or out of (delta -1) a cell and its '*' cells.
CREATE FUNCTION duration_add(date, text, text, text, float8, int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO duration_histogram (month, community_code, category, step, counts)
    SELECT $1, level.community_code, level.category, $4, decode(repeat('00', 4 * 870), 'hex')
    FROM (VALUES ($2, $3), ($2, '*'), ('*', $3)) AS level(community_code, category)
    ON CONFLICT DO NOTHING;
    UPDATE duration_histogram
    SET counts = overlay(counts PLACING int4send(
            ('x' || encode(substring(counts FROM 4 * bucket + 1 FOR 4), 'hex'))::bit(32)::int + $6)
        FROM 4 * bucket + 1 FOR 4)
    FROM duration_bucket($5) AS bucket
    WHERE month = $1 AND (community_code, category) IN (($2, $3), ($2, '*'), ('*', $3)) AND step = $4;
$$;

-- The bytes of `size` values of `width` bytes each (big-endian), zero but at `positions`: the gaps
-- are written as runs of zeros, so that a sparse cell costs what it holds.
CREATE FUNCTION dense_bytes(positions int[], vals bigint[], width int, size int) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT decode(string_agg(repeat('00', width * gap) || lpad(to_hex(val), 2 * width, '0'), '' ORDER BY position)
                  || repeat('00', width * (size - 1 - max(position))), 'hex')
    FROM (SELECT position, val, position - 1 - COALESCE(lag(position) OVER (ORDER BY position), -1) AS gap
          FROM unnest(positions, vals) AS entry(position, val)) AS entries
$$;

-- Fill both from the facts (this migration, and the benchmark's load): the ranks per register and
-- the counts per bucket are grouped first, then each cell's bytes are written at once.
CREATE PROCEDURE sketches_fill() LANGUAGE sql AS $$
    WITH people AS (
        SELECT date_trunc('month', day)::date AS month, community_code, category, 'volunteer' AS kind,
               volunteer_id::text AS person
        FROM participation
        UNION ALL
        SELECT date_trunc('month', served.day)::date, o.community_code, o.category, 'beneficiary',
               COALESCE(o.beneficiary, o.request_id::text)
        FROM occurrence_fact o, LATERAL (VALUES (o.completed_day), (o.handled_day)) AS served(day)
        WHERE served.day IS NOT NULL AND o.received_at IS NOT NULL
    ), slots AS (
        SELECT month, level.community_code, level.category, kind, slot[1] AS register, max(slot[2]) AS top
        FROM (SELECT month, community_code, category, kind, hll_slot(person) AS slot FROM people) AS hashed,
             LATERAL (VALUES (community_code, category), (community_code, '*'), ('*', category))
                 AS level(community_code, category)
        GROUP BY 1, 2, 3, 4, 5
    )
    INSERT INTO reach_sketch (month, community_code, category, kind, registers)
    SELECT month, community_code, category, kind, dense_bytes(array_agg(register), array_agg(top::bigint), 1, 4096)
    FROM slots GROUP BY 1, 2, 3, 4;

    WITH durations AS (
        SELECT date_trunc('month', assigned_day)::date AS month, community_code, category, 'assign' AS step,
               extract(epoch FROM assigned_at - received_at)::float8 AS seconds
        FROM occurrence_fact WHERE occurrence = 1 AND assigned_at IS NOT NULL AND received_at IS NOT NULL
        UNION ALL
        SELECT date_trunc('month', completed_day)::date, community_code, category, 'complete',
               extract(epoch FROM completed_at - received_at)::float8
        FROM occurrence_fact WHERE occurrence = 1 AND completed_at IS NOT NULL AND received_at IS NOT NULL
    ), counted AS (
        SELECT month, level.community_code, level.category, step, duration_bucket(seconds) AS bucket, count(*) AS n
        FROM durations, LATERAL (VALUES (community_code, category), (community_code, '*'), ('*', category))
                            AS level(community_code, category)
        GROUP BY 1, 2, 3, 4, 5
    )
    INSERT INTO duration_histogram (month, community_code, category, step, counts)
    SELECT month, community_code, category, step, dense_bytes(array_agg(bucket), array_agg(n), 4, 870)
    FROM counted GROUP BY 1, 2, 3, 4;
$$;

-- The hours volunteers gave (reported, else an equal share of the service's), added up beside the
-- other counts: the projections add them at the completion and correct them at a later report.
ALTER TABLE request_rollup ADD COLUMN volunteer_hours numeric NOT NULL DEFAULT 0;
ALTER TABLE request_month_rollup ADD COLUMN volunteer_hours numeric NOT NULL DEFAULT 0;
CREATE PROCEDURE volunteer_hours_fill() LANGUAGE sql AS $$
    UPDATE request_rollup r SET volunteer_hours = given.hours
    FROM (SELECT p.day, p.community_code, p.category, sum(COALESCE(h.hours, p.share_hours)) AS hours
          FROM participation p LEFT JOIN reported_hours h USING (assignment_id) GROUP BY 1, 2, 3) AS given
    WHERE (r.day, r.community_code, r.category) = (given.day, given.community_code, given.category);
    UPDATE request_month_rollup r SET volunteer_hours = given.hours
    FROM (SELECT date_trunc('month', day)::date AS month, community_code, category, sum(volunteer_hours) AS hours
          FROM request_rollup GROUP BY 1, 2, 3) AS given
    WHERE (r.month, r.community_code, r.category) = (given.month, given.community_code, given.category);
$$;

CALL sketches_fill();
CALL volunteer_hours_fill();
