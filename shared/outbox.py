"""The outbox relay: publishes committed events from the service's outbox table and marks
them published. At least once: a crash between publish and mark re-publishes, and every
consumer is idempotent on the message id (the event id). A published row keeps only the public
form of its event (shared/events.py): personal data does not linger in the outbox."""
import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import Counter

from shared.sweeper import Sweeper

PUBLISHED = Counter("linli_outbox_published_total", "Events published from the outbox", ["routing_key"])

# routing_key, body, event_id, correlation_id -> the body as published on linli.events
Publish = Callable[[str, bytes, str, str], Awaitable[bytes | None]]


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, publish: Publish, poll_seconds: float = 1.0, batch_size: int = 200):
        self._pool = pool
        self._publish = publish
        self._batch_size = batch_size
        self._sweeper = Sweeper("outbox relay", self.publish_pending, batch_size, poll_seconds)

    def wake(self) -> None:
        """Called after a commit that wrote events, so they go out now rather than at the next poll."""
        self._sweeper.wake()

    async def run(self) -> None:
        await self._sweeper.run()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; returns how many.

        Rows are locked with SKIP LOCKED, so several processes of one service share the work.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, event_id, routing_key, body, correlation_id FROM outbox "
                "WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size)
            if not rows:
                return 0
            published = await asyncio.gather(*(
                self._publish(row["routing_key"], row["body"], str(row["event_id"]), row["correlation_id"])
                for row in rows))
            await conn.execute(
                "UPDATE outbox o SET published_at = now(), body = COALESCE(p.body, o.body) "
                "FROM unnest($1::bigint[], $2::bytea[]) AS p(id, body) WHERE o.id = p.id",
                [row["id"] for row in rows], list(published))
        for row in rows:
            PUBLISHED.labels(row["routing_key"]).inc()
        return len(rows)
