"""The event archive: every event reporting has projected, in its public form (as
`linli.events` carries it: no names, phones, addresses) without staff's notes
(domain.notes.without_notes), with the keyed beneficiary of a request
(domain.figures.beneficiary_key) computed once, when it came; what a rebuild replays."""
from collections.abc import AsyncIterator

import asyncpg

from services.reporting.domain.figures import beneficiary_key
from services.reporting.domain.notes import without_notes
from shared.events import EVENT_TYPES, Event, RequestReceived, public_dump

# Every read model; the archive and the messaging tables are not among them.
READ_MODELS = ("request_rollup", "request_month_rollup", "dispute_rollup", "dispute_month_rollup", "request_fact",
               "occurrence_fact", "participation", "reported_hours", "volunteer", "staff_action_rollup", "household",
               "campaign", "campaign_visit", "reach_sketch", "duration_histogram")


async def keep(conn: asyncpg.Connection, event: Event, person_key: bytes) -> bool:
    """Keep the event; False if it was kept before (re-published under another message id)."""
    beneficiary = beneficiary_key(event, person_key) if isinstance(event, RequestReceived) else None
    return bool(await conn.fetchval(
        "INSERT INTO event_archive (event_id, routing_key, occurred_at, body, beneficiary) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        event.event_id, event.routing_key, event.occurred_at, without_notes(public_dump(event)), beneficiary))


async def beneficiary_of(conn: asyncpg.Connection, event: RequestReceived) -> str | None:
    """The keyed beneficiary kept with the request's archived event: a rebuild counts the same
    people as the handlers did, from an archive that no longer names them."""
    return await conn.fetchval("SELECT beneficiary FROM event_archive WHERE event_id = $1", event.event_id)


LEGACY = "routing_key = 'request.received' AND body ? 'beneficiary'"


async def rekey_legacy(conn: asyncpg.Connection, person_key: bytes, batch_size: int = 500) -> int:
    """Archived requests from before the archive kept only public forms (migration 0005): key
    their beneficiary with the HMAC, keep the public form, and re-key the facts of those
    requests, so the figures stay what they were. Returns how many; once, at start and rebuild."""
    rekeyed = 0
    while True:
        async with conn.transaction():
            rows = await conn.fetch(f"SELECT event_id, body FROM event_archive WHERE {LEGACY} LIMIT $1 "
                                    "FOR UPDATE SKIP LOCKED", batch_size)
            for row in rows:
                event = RequestReceived.model_validate(row["body"])
                key = beneficiary_key(event, person_key)
                await conn.execute("UPDATE event_archive SET body = $2, beneficiary = $3 WHERE event_id = $1",
                                   row["event_id"], public_dump(event), key)
                for fact in ("request_fact", "occurrence_fact"):
                    await conn.execute(f"UPDATE {fact} SET beneficiary = $2 WHERE request_id = $1",
                                       event.request_id, key)
        rekeyed += len(rows)
        if len(rows) < batch_size:
            return rekeyed


async def empty_read_models(conn: asyncpg.Connection) -> None:
    """Empty every read model, holding off handlers (they insert into the archive first) until
    the transaction ends: the rebuild sees the whole archive and nothing is projected twice."""
    await conn.execute("LOCK TABLE event_archive IN SHARE ROW EXCLUSIVE MODE")
    await conn.execute(f"TRUNCATE {', '.join(READ_MODELS)}")


async def count(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM event_archive")


async def in_order(conn: asyncpg.Connection) -> AsyncIterator[Event]:
    """The archived events in the order they happened (inside a transaction: a cursor)."""
    async for record in conn.cursor("SELECT routing_key, body FROM event_archive ORDER BY occurred_at, event_id"):
        yield EVENT_TYPES[record["routing_key"]].model_validate(record["body"])
