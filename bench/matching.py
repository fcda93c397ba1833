"""One matching decision (lock the community, read the candidates, choose) against rosters of
10k, 100k and 500k volunteers in the real PostgreSQL, and whether the candidate query uses the
roster's index. Decisions run in a transaction that is rolled back, so the roster stays as built."""
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime

from services.matching import store
from services.matching.app import SERVICE
from services.matching.domain import choose_volunteer
from shared.catalogue import SERVICES, SKILLS, skills_for
from shared.database import create_pool, migrate
from tests.servers import own_database

SIZES = (10_000, 100_000, 500_000)
COMMUNITIES = 5_000  # a city of millions: a few thousand 社区
DECISIONS = 300
CANDIDATES_WEIGHED = 20


def _volunteers(count: int, rng: random.Random) -> list[tuple]:
    now = datetime.now(UTC)
    skills = sorted(SKILLS)
    return [(uuid.UUID(int=rng.getrandbits(128)), "bench", uuid.uuid4().hex, "志愿者", f"c-{rng.randrange(COMMUNITIES)}",
             None, rng.sample(skills, rng.randint(1, 3)), rng.random() > 0.1, rng.randrange(4), now)
            for _ in range(count)]


async def _decision(pool, community: str, category: str) -> float:
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        started = time.perf_counter()
        await store.lock_community(conn, community)
        candidates = await store.candidates(conn, community, skills_for(category), CANDIDATES_WEIGHED)
        choose_volunteer(candidates, community, category)
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    return elapsed * 1000


async def _uses_index(pool) -> bool:
    async with pool.acquire() as conn:
        plan = await conn.fetchval(
            "EXPLAIN (FORMAT JSON) SELECT volunteer_id FROM volunteer WHERE community_code = 'c-1' AND active "
            "AND skills && ARRAY['cooking'] ORDER BY open_assignments, volunteer_id LIMIT 20")
    return "volunteer_candidates" in str(plan) and "Seq Scan" not in str(plan)


async def main() -> dict:
    rng = random.Random(7)
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    results, roster = {}, 0
    with own_database(server) as url:
        await asyncio.to_thread(migrate, url, SERVICE.name, SERVICE.migrations)
        pool = await create_pool(url, SERVICE.name, max_size=2)
        try:
            for size in SIZES:
                async with pool.acquire() as conn:
                    await conn.copy_records_to_table("volunteer", records=_volunteers(size - roster, rng), columns=(
                        "volunteer_id", "source", "external_id", "name", "community_code", "team", "skills",
                        "active", "open_assignments", "registered_at"))
                    await conn.execute("ANALYZE volunteer")
                roster = size
                times = [await _decision(pool, f"c-{rng.randrange(COMMUNITIES)}", rng.choice(list(SERVICES)))
                         for _ in range(DECISIONS)]
                results[str(size)] = {"median_ms": round(statistics.median(times), 3),
                                      "p90_ms": round(statistics.quantiles(times, n=10)[-1], 3),
                                      "uses_index": await _uses_index(pool)}
        finally:
            await pool.close()
    first = results[str(SIZES[0])]["median_ms"]
    return {"volunteers": results, "communities": COMMUNITIES, "decisions_per_size": DECISIONS,
            "median_ratio_largest_to_smallest": round(results[str(SIZES[-1])]["median_ms"] / first, 2)}
