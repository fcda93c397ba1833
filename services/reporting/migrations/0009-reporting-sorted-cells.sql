-- The sketches' changes of a whole transaction at once (store/cells.py writes them just before
-- the commit, after the rollups): every row they touch is taken first, made where missing, in one
-- statement in key order, then each row is changed once by all its changes. Written event after
-- event (reach_add, duration_add), two transactions took the same hot rows in opposite orders and
-- deadlocked. The rows and bytes written are the same.

-- The rows a cell's change goes to: its own, its community's over every category ('*') and its
-- category's over every community.
CREATE FUNCTION sketch_levels(cell_community text, cell_category text)
RETURNS TABLE (community_code text, category text) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES (cell_community, cell_category), (cell_community, '*'), ('*', cell_category)
$$;

-- The registers with the register at each of `positions` raised to its rank, if higher.
CREATE FUNCTION registers_raised(registers bytea, positions int[], ranks int[]) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    FOR i IN 1 .. cardinality(positions) LOOP
        registers := set_byte(registers, positions[i], greatest(get_byte(registers, positions[i]), ranks[i]));
    END LOOP;
    RETURN registers;
END
$$;

-- The counts (870 big-endian int4) with each of `deltas` added to its bucket.
CREATE FUNCTION counts_added(counts bytea, buckets int[], deltas int[]) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    FOR i IN 1 .. cardinality(buckets) LOOP
        counts := overlay(counts PLACING int4send(
                ('x' || encode(substring(counts FROM 4 * buckets[i] + 1 FOR 4), 'hex'))::bit(32)::int + deltas[i])
            FROM 4 * buckets[i] + 1 FOR 4);
    END LOOP;
    RETURN counts;
END
$$;

-- Add people (each with the month, community, category and kind of its cell) to their cells and
-- the cells' '*' rows. The rows are locked even where they exist: ON CONFLICT DO UPDATE locks the
-- row when its WHERE is false.
CREATE FUNCTION reach_add_sorted(months date[], communities text[], categories text[], kinds text[], people text[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO reach_sketch (month, community_code, category, kind, registers)
    SELECT DISTINCT seen.month, level.community_code, level.category, seen.kind, decode(repeat('00', 4096), 'hex')
    FROM unnest(months, communities, categories, kinds) AS seen(month, community_code, category, kind),
         sketch_levels(seen.community_code, seen.category) AS level
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (month, community_code, category, kind) DO UPDATE SET registers = EXCLUDED.registers WHERE false;
    UPDATE reach_sketch r SET registers = registers_raised(r.registers, raised.positions, raised.ranks)
    FROM (SELECT seen.month, level.community_code, level.category, seen.kind,
                 array_agg(slot[1]) AS positions, array_agg(slot[2]) AS ranks
          FROM unnest(months, communities, categories, kinds, people)
                   AS seen(month, community_code, category, kind, person),
               hll_slot(seen.person) AS slot, sketch_levels(seen.community_code, seen.category) AS level
          GROUP BY 1, 2, 3, 4) AS raised
    WHERE (r.month, r.community_code, r.category, r.kind)
          = (raised.month, raised.community_code, raised.category, raised.kind);
$$;

-- Count durations (each with the month, community, category and step of its cell, its seconds
-- and its delta: 1 in, -1 out) in their cells and the cells' '*' rows, locked as above.
CREATE FUNCTION duration_add_sorted(months date[], communities text[], categories text[], steps text[],
                                    seconds float8[], deltas int[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO duration_histogram (month, community_code, category, step, counts)
    SELECT DISTINCT moved.month, level.community_code, level.category, moved.step, decode(repeat('00', 4 * 870), 'hex')
    FROM unnest(months, communities, categories, steps) AS moved(month, community_code, category, step),
         sketch_levels(moved.community_code, moved.category) AS level
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (month, community_code, category, step) DO UPDATE SET counts = EXCLUDED.counts WHERE false;
    UPDATE duration_histogram h SET counts = counts_added(h.counts, added.buckets, added.deltas)
    FROM (SELECT month, community_code, category, step, array_agg(bucket) AS buckets, array_agg(delta) AS deltas
          FROM (SELECT moved.month, level.community_code, level.category, moved.step,
                       duration_bucket(moved.seconds) AS bucket, sum(moved.delta)::int AS delta
                FROM unnest(months, communities, categories, steps, seconds, deltas)
                         AS moved(month, community_code, category, step, seconds, delta),
                     sketch_levels(moved.community_code, moved.category) AS level
                GROUP BY 1, 2, 3, 4, 5) AS by_bucket
          GROUP BY 1, 2, 3, 4) AS added
    WHERE (h.month, h.community_code, h.category, h.step)
          = (added.month, added.community_code, added.category, added.step);
$$;

-- reach_add and duration_add (0008), which the two above replace, stay for one release: a reporting
-- process of the version before, still running during a rolling update, calls them.
