"""reporting's summary at city scale: 1 million, then 10 million recorded services (received,
assigned, completed by a volunteer) in a database of its own, and the time of the summary query
the API runs: the headline counts (read from the month and day rollups the projections keep) over a
year and a month, the whole summary (distinct people and duration percentiles from the month
sketches) and the figures by community over a year and a month, by category over a year, the
summary of 30 days that hold no whole month (from the facts, exact), and for contrast the same
counts scanned from the raw facts; each beside its target (issue 16), and the month's estimates
beside the exact figures. The services are made inside PostgreSQL (INSERT … SELECT from
generate_series, a million per statement: faster than COPY from Python), the rollups are filled as
the projections would fill them (the month rows from the day rows, as migration 0007 does) and the
sketches by migration 0008's own fill."""
import asyncio
import os
import statistics
import time
from datetime import date

from bench.sizes import sized
from services.reporting import tables
from services.reporting.app import SERVICE
from services.reporting.context import Reporting
from services.reporting.domain.figures import finish
from services.reporting.domain.scope import Scope
from services.reporting.domain.sketches import ESTIMATES
from services.reporting.store import archive, projections, reports
from shared.areas import Areas
from shared.catalogue import SERVICES
from shared.database import create_pool, migrate
from tests.servers import own_database

SIZES = tuple(int(n) for n in os.environ.get("BENCH_REPORTING_SIZES",
                                              sized("1000000,10000000", "2000,5000")).split(","))
CHUNK = 1_000_000
COMMUNITIES = 200     # a district's 社区
VOLUNTEERS = 20_000
RUNS = sized(7, 2)
YEAR = Scope(first=date(2025, 1, 1), last=date(2025, 12, 31))
MONTH = Scope(first=date(2025, 6, 1), last=date(2025, 6, 30))
FACTS = ["request_fact", "occurrence_fact", "participation"]
# Issue 16's targets at 10 million services, in ms: headline counts, then any figure over a month, a year.
TARGETS_MS = {"headline_year": 50, "headline_month": 50, "full_summary_month": 200, "full_summary_year": 1000,
              "by_community_month": 200, "by_community_year": 1000, "by_category_year": 1000,
              "full_summary_30_days_across_two_months": 200}
# 30 days that hold no whole month: the sketches do not answer, the facts do (exactly).
ACROSS = Scope(first=date(2025, 6, 16), last=date(2025, 7, 15))


def day(moment: str) -> str:
    return f"(({moment}) AT TIME ZONE 'Asia/Shanghai')::date"


# One chunk of services, i from {first} to {last}, spread over 2025, over the communities and
# categories at random (a hash of i, so that every run loads the same),
# assigned within 2 hours and completed 1 to 25 hours after they were received.
CATEGORIES = "ARRAY[" + ", ".join(f"'{code}'" for code in SERVICES) + "]"  # catalogue codes: plain text
STAGE = f"""
CREATE UNLOGGED TABLE bench_service AS
SELECT i, md5('r' || i)::uuid AS request_id, 'c-' || abs(hashint8(i)) % {COMMUNITIES} AS community_code,
       ({CATEGORIES})[1 + abs(hashint8(-i)) % {len(SERVICES)}] AS category, received_at, {day("received_at")} AS received_day,
       assigned_at, {day("assigned_at")} AS assigned_day, completed_at, {day("completed_at")} AS completed_day
FROM (SELECT i, received_at, received_at + ((i * 13) % 7200) * interval '1 second' AS assigned_at,
             received_at + (3600 + (i * 17) % 86400) * interval '1 second' AS completed_at
      FROM (SELECT i, timestamptz '2025-01-01 00:00+08' + (i % 365) * interval '1 day'
                      + ((i * 37) % 36000) * interval '1 second' AS received_at
            FROM generate_series({{first}}::bigint, {{last}}::bigint) AS i) AS received) AS steps"""
LOAD = [
    "INSERT INTO request_fact (request_id, community_code, category, received_at, beneficiary) "
    "SELECT request_id, community_code, category, received_at, md5('b' || i % 400000) FROM bench_service",  # 400k people
    "INSERT INTO occurrence_fact (request_id, occurrence, community_code, category, assigned_at, assigned_day, "
    "completed_at, completed_day, received_at, beneficiary) SELECT request_id, 1, community_code, category, "
    "assigned_at, assigned_day, completed_at, completed_day, received_at, md5('b' || i % 400000) FROM bench_service",
    "INSERT INTO participation (assignment_id, volunteer_id, request_id, occurrence, community_code, category, day, "
    f"share_hours) SELECT md5('a' || i)::uuid, md5('v' || i % {VOLUNTEERS})::uuid, request_id, 1, community_code, "
    "category, completed_day, 1.5 FROM bench_service",
]
# What the projections add to the rollup for every service: a receipt, an assignment, a completion.
ROLLUP = f"""
INSERT INTO request_rollup (day, community_code, category, received, assigned, completed, person_times,
                            service_hours, participations, volunteer_hours)
SELECT day, community_code, category, sum(received), sum(assigned), sum(completed), sum(completed),
       1.5 * sum(completed), sum(completed), 1.5 * sum(completed)
FROM (SELECT {day("received_at")} AS day, community_code, category, 1 AS received, 0 AS assigned, 0 AS completed
      FROM request_fact
      UNION ALL SELECT assigned_day, community_code, category, 0, 1, 0 FROM occurrence_fact
      UNION ALL SELECT completed_day, community_code, category, 0, 0, 1 FROM occurrence_fact) AS steps
GROUP BY 1, 2, 3"""


async def _load(conn, first: int, last: int) -> float:
    """Load services `first` to `last`; the facts' indexes are dropped meanwhile and built again
    after (building an index at once is many times faster than growing it row by row). Returns
    the seconds the sketches took to fill from the facts."""
    indexes = await conn.fetch(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = ANY($1::text[])", FACTS)
    for index in indexes:  # a primary key the first time, a unique index (built below) after
        await conn.execute(f"ALTER TABLE {index['tablename']} DROP CONSTRAINT IF EXISTS {index['indexname']}; "
                           f"DROP INDEX IF EXISTS {index['indexname']}")
    for start in range(first, last + 1, CHUNK):
        await conn.execute("DROP TABLE IF EXISTS bench_service")
        await conn.execute(STAGE.format(first=start, last=min(last, start + CHUNK - 1)))
        for statement in LOAD:
            await conn.execute(statement)
    for index in indexes:
        await conn.execute(index["indexdef"])
    await conn.execute("DROP TABLE bench_service")
    await conn.execute("TRUNCATE request_rollup, request_month_rollup")  # what the projections would have added up
    await conn.execute(ROLLUP)
    await projections.roll_up_months(conn, "request_rollup")
    await conn.execute("TRUNCATE reach_sketch, duration_histogram")
    started = time.perf_counter()
    await conn.execute("CALL sketches_fill()")  # as migration 0008 fills them
    await conn.execute("ANALYZE")
    return round(time.perf_counter() - started, 1)


async def _timed(action, runs: int = RUNS, name: str | None = None) -> dict:
    """The median and p90 of `runs` runs, and the target of `name` beside them."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    median = round(statistics.median(times), 2)
    timed = {"median_ms": median, "p90_ms": round(statistics.quantiles(times, n=10)[-1], 2)}
    if name in TARGETS_MS:
        timed |= {"target_ms": TARGETS_MS[name], "met": median <= TARGETS_MS[name]}
    return timed


def _relations(plan) -> set[str]:
    if isinstance(plan, dict):
        found = {plan["Relation Name"]} if "Relation Name" in plan else set()
        return found.union(*map(_relations, plan.values()))
    if isinstance(plan, list):
        return set().union(*map(_relations, plan))
    return set()


async def _estimates(conn, reporting: Reporting) -> dict:
    """Each estimated figure of the month's summary beside the exact one from the facts, and the
    relative error (domain.sketches.ESTIMATES gives the bounds)."""
    estimated = await tables.summary(conn, reporting, MONTH)
    counts = (await reports.figures(conn, "all", MONTH, {}, ["all"], sources=(
        reports.VOLUNTEERS_AT_WORK, reports.SERVED, reports.TIMES_TO_ASSIGN, reports.TIMES_TO_COMPLETE)))["all"]
    exact = finish(counts, {step: counts.pop(f"seconds_to_{step}") for step in ("assign", "complete")})
    return {name: {"estimate": estimated[name], "exact": exact[name],
                   "error": round(estimated[name] / exact[name] - 1, 4) if exact[name] else None}
            for name in ESTIMATES}


async def _measure(conn, reporting: Reporting) -> dict:
    async def headline(scope):
        return await reports.figures(conn, "all", scope, {}, ["all"], sources=(reports.REQUESTS, reports.DISPUTES))

    query, parameters = reports.query_of(reports.REQUESTS, "all", YEAR, {})
    plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {query}", *parameters)
    summary = await tables.summary(conn, reporting, YEAR)
    return {
        "headline_year": await _timed(lambda: headline(YEAR), name="headline_year"),
        "headline_month": await _timed(lambda: headline(MONTH), name="headline_month"),
        "full_summary_month": await _timed(lambda: tables.summary(conn, reporting, MONTH), name="full_summary_month"),
        "full_summary_year": await _timed(lambda: tables.summary(conn, reporting, YEAR), runs=2,
                                          name="full_summary_year"),
        "by_community_month": await _timed(lambda: tables.figures(conn, reporting, "community", MONTH), runs=3,
                                           name="by_community_month"),
        "by_community_year": await _timed(lambda: tables.figures(conn, reporting, "community", YEAR), runs=2,
                                          name="by_community_year"),
        "by_category_year": await _timed(lambda: tables.figures(conn, reporting, "category", YEAR), runs=2,
                                         name="by_category_year"),
        "full_summary_30_days_across_two_months": await _timed(lambda: tables.summary(conn, reporting, ACROSS),
                                                               runs=2, name="full_summary_30_days_across_two_months"),
        "estimates_month": await _estimates(conn, reporting),
        "same_counts_from_raw_facts_year": await _timed(lambda: conn.fetchrow(
            "SELECT count(*), count(completed_at) FROM occurrence_fact WHERE completed_day BETWEEN $1 AND $2",
            YEAR.first, YEAR.last)),
        "headline_reads": sorted(_relations(plan)),
        "rollup_rows": await conn.fetchval("SELECT count(*) FROM request_rollup"),
        "month_rollup_rows": await conn.fetchval("SELECT count(*) FROM request_month_rollup"),
        "sketch_rows": await conn.fetchval("SELECT count(*) FROM reach_sketch"),
        "histogram_rows": await conn.fetchval("SELECT count(*) FROM duration_histogram"),
        "sketch_mb": round(await conn.fetchval(
            "SELECT pg_total_relation_size('reach_sketch') + pg_total_relation_size('duration_histogram')") / 1e6),
        "completed_in_year": summary["completed"],
    }


async def main() -> dict:
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    results, loaded = {}, 0
    reporting = Reporting(runtime=None, areas=Areas({}, {}))
    with own_database(server) as url:
        await asyncio.to_thread(migrate, url, SERVICE.name, SERVICE.migrations)
        pool = await create_pool(url, SERVICE.name, max_size=1)
        try:
            async with pool.acquire() as conn:
                # The bench's own database: no write-ahead log for what it loads.
                await conn.execute("SET synchronous_commit = off; " + "; ".join(
                    f"ALTER TABLE {table} SET UNLOGGED" for table in archive.READ_MODELS))
                for size in SIZES:
                    started = time.perf_counter()
                    fill_s = await _load(conn, loaded + 1, size)
                    loaded = size
                    results[str(size)] = {"load_s": round(time.perf_counter() - started, 1),
                                          "sketch_fill_s": fill_s, **await _measure(conn, reporting)}
        finally:
            await pool.close()
    small, large = (results[str(size)] for size in SIZES)
    ratios = {name: round(large[name]["median_ms"] / small[name]["median_ms"], 2)
              for name in (*TARGETS_MS, "same_counts_from_raw_facts_year")}
    return {"services": results, "communities": COMMUNITIES, "categories": len(SERVICES), "runs": RUNS,
            "ratio_largest_to_smallest": ratios}
