"""One matching decision, the service's own code (lock the community, read the waiting task and
its candidates by (community, skill), filter, score, solve, book the volunteer, write the offer
and its event), against rosters of 10k, 100k and 500k volunteers in the real PostgreSQL; and
whether the candidate query reads the (community, skill) index rather than scanning."""
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from bench.sizes import sized
from services.matching.app import SERVICE
from services.matching.context import Matching
from services.matching.dispatch import decide
from services.matching.domain.changes import AddTask
from services.matching.domain.policy import Policy
from services.matching.domain.series import request_task
from services.matching.store import roster, tasks
from shared.areas import Areas
from shared.catalogue import SERVICES, SKILLS
from shared.clock import SystemClock
from shared.database import create_pool, migrate
from shared.events import RequestReceived
from shared.outage import DatabaseWatch
from shared.service import Runtime
from shared.settings import Settings
from tests.servers import own_database

SIZES = sized((10_000, 100_000, 500_000), (500, 2_000))
COMMUNITIES = sized(5_000, 50)  # a city of millions: a few thousand 社区
DECISIONS = sized(1_000, 20)  # enough for a p99


def _volunteers(count: int, rng: random.Random) -> list[tuple]:
    now, skills = datetime.now(UTC), sorted(SKILLS)
    return [(uuid.UUID(int=rng.getrandbits(128)), "bench", uuid.uuid4().hex, "志愿者", f"c-{rng.randrange(COMMUNITIES)}",
             rng.sample(skills, rng.randint(1, 3)), rng.random() > 0.1, rng.randrange(3), 8, now)
            for _ in range(count)]


async def _add_roster(pool, count: int, rng: random.Random) -> None:
    rows = _volunteers(count, rng)
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("volunteer", records=rows, columns=(
            "volunteer_id", "source", "external_id", "name", "community_code", "skills", "active",
            "open_assignments", "max_weekly_hours", "registered_at"))
        await conn.copy_records_to_table("volunteer_skill", records=[
            (row[4], skill, row[0]) for row in rows if row[6] for skill in row[5]],
            columns=("community_code", "skill", "volunteer_id"))
        await conn.execute("ANALYZE volunteer; ANALYZE volunteer_skill")


async def _decision(matching: Matching, rng: random.Random) -> float:
    """Store a request's task (untimed), then time the decision that staffs it."""
    community = f"c-{rng.randrange(COMMUNITIES)}"
    request = RequestReceived(correlation_id="bench", request_id=uuid.uuid4(), source="bench",
                              external_id=uuid.uuid4().hex, category=rng.choice(list(SERVICES)),
                              description="bench", community_code=community)
    async with matching.runtime.pool.acquire() as conn:
        await tasks.save_request(conn, request)
        await tasks.insert_task(conn, AddTask(request_task(request, 1, matching.policy.service_hours)))
    started = time.perf_counter()
    await decide(matching, [community])
    return (time.perf_counter() - started) * 1000


async def _uses_index(pool) -> bool:
    """Whether the decision's own candidate statement finds the volunteers by the (community,
    skill) key, with no table scanned whole."""
    async with pool.acquire() as conn:
        plan = str(await conn.fetchval("EXPLAIN (FORMAT JSON) " + roster.CANDIDATES, [1], ["c-1"], ["cooking"],
                                       [datetime.now(UTC).date()], roster.RECENT_WEEKS * 7))
    return "volunteer_skill_pkey" in plan and "Seq Scan" not in plan


async def main() -> dict:
    rng = random.Random(7)
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    results, roster = {}, 0
    with own_database(server) as url:
        await asyncio.to_thread(migrate, url, SERVICE.name, SERVICE.migrations)
        pool = await create_pool(url, SERVICE.name, max_size=2)
        settings = Settings(database_url=url)
        runtime = Runtime(settings, pool, broker=None, relay=SimpleNamespace(wake=lambda: None),
                          clock=SystemClock(), database=DatabaseWatch(pool, SERVICE.name))
        matching = Matching(runtime, Policy.of(settings, Areas({}, {})))
        try:
            for size in SIZES:
                await _add_roster(pool, size - roster, rng)
                roster = size
                times = [await _decision(matching, rng) for _ in range(DECISIONS)]
                centiles = statistics.quantiles(times, n=100)
                results[str(size)] = {"median_ms": round(statistics.median(times), 3),
                                      "p90_ms": round(centiles[89], 3), "p99_ms": round(centiles[98], 3),
                                      "uses_index": await _uses_index(pool)}
        finally:
            await pool.close()
    first = results[str(SIZES[0])]["median_ms"]
    return {"volunteers": results, "communities": COMMUNITIES, "decisions_per_size": DECISIONS,
            "median_ratio_largest_to_smallest": round(results[str(SIZES[-1])]["median_ms"] / first, 2)}
