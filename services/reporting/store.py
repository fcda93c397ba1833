"""reporting's SQL. Every function takes the connection of the current unit of work."""
from datetime import date

import asyncpg

from services.reporting.domain import COUNTERS
from shared.events import Event


async def archive(conn: asyncpg.Connection, event: Event) -> bool:
    """Keep the event; False if it was kept before (re-published under another message id)."""
    return bool(await conn.fetchval(
        "INSERT INTO event_archive (event_id, routing_key, occurred_at, body) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING true",
        event.event_id, event.routing_key, event.occurred_at, event.model_dump(mode="json")))


async def count(conn: asyncpg.Connection, community_code: str, day: date, counter: str) -> None:
    if counter not in COUNTERS:  # the column name below comes from this closed set only
        raise ValueError(f"unknown counter {counter!r}")
    await conn.execute(
        f"INSERT INTO daily_count (community_code, day, {counter}) VALUES ($1, $2, 1) "
        f"ON CONFLICT (community_code, day) DO UPDATE SET {counter} = daily_count.{counter} + 1",
        community_code, day)


async def daily_counts(conn: asyncpg.Connection, community_code: str | None, first: date | None,
                       last: date | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT community_code, day, {', '.join(COUNTERS)} FROM daily_count "
        "WHERE ($1::text IS NULL OR community_code = $1) AND ($2::date IS NULL OR day >= $2) "
        "AND ($3::date IS NULL OR day <= $3) ORDER BY day, community_code", community_code, first, last)
