"""The event archive: every event reporting has projected, as it came; what a rebuild replays."""
from collections.abc import AsyncIterator

import asyncpg

from shared.events import EVENT_TYPES, Event

# Every read model; the archive and the messaging tables are not among them.
READ_MODELS = ("request_rollup", "dispute_rollup", "request_fact", "occurrence_fact", "participation",
               "reported_hours", "volunteer")


async def keep(conn: asyncpg.Connection, event: Event) -> bool:
    """Keep the event; False if it was kept before (re-published under another message id)."""
    return bool(await conn.fetchval(
        "INSERT INTO event_archive (event_id, routing_key, occurred_at, body) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING RETURNING true",
        event.event_id, event.routing_key, event.occurred_at, event.model_dump(mode="json")))


async def empty_read_models(conn: asyncpg.Connection) -> None:
    """Empty every read model, holding off handlers (they insert into the archive first) until
    the transaction ends: the rebuild sees the whole archive and nothing is projected twice."""
    await conn.execute("LOCK TABLE event_archive IN SHARE ROW EXCLUSIVE MODE")
    await conn.execute(f"TRUNCATE {', '.join(READ_MODELS)}")


async def in_order(conn: asyncpg.Connection) -> AsyncIterator[Event]:
    """The archived events in the order they happened (inside a transaction: a cursor)."""
    async for record in conn.cursor("SELECT routing_key, body FROM event_archive ORDER BY occurred_at, event_id"):
        yield EVENT_TYPES[record["routing_key"]].model_validate(record["body"])
