"""The outbox relay: publishes committed events from the service's outbox table and marks
them published. At least once: a crash between publish and mark re-publishes, and every
consumer is idempotent on the message id (the event id). A published row keeps only the public
form of its event (shared/events.py): personal data does not linger in the outbox.

Each row is published on its own: one that fails gets its own attempt count and backoff
(`next_attempt_at`), and the rest of the batch is marked published regardless."""
import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import OUTBOX_BUCKETS, Pace
from shared.sweeper import Sweeper

log = logging.getLogger(__name__)
PUBLISHED = Counter("linli_outbox_published_total", "Events published from the outbox", ["routing_key"])
FAILED = Counter("linli_outbox_publish_failures_total", "Failed attempts to publish an outbox event",
                 ["routing_key"])
LAG = Gauge("linli_outbox_lag_seconds", "Age of the oldest unpublished event in the outbox (0 when empty)")
DELAY = Histogram("linli_outbox_publish_seconds",
                  "Seconds from an event's commit to its publish confirmed by the broker and marked",
                  buckets=OUTBOX_BUCKETS)
BACKING_OFF = Gauge("linli_outbox_backing_off", "Unpublished events waiting for a retry after a failed publish")

# The lag and backoff gauges are read at most this often: the relay sweeps at every commit, and
# the count scans every unpublished row.
MEASURE_EVERY_SECONDS = 1.0

# routing_key, body, event_id, correlation_id -> the body as published on linli.events
Publish = Callable[[str, bytes, str, str], Awaitable[bytes | None]]


def retry_in_seconds(attempts: int) -> float:
    """Backoff after the `attempts`-th failed publish of a row: 0.5, 1, 2, 4 … at most 10 s, so
    that after a broker outage everything is out within seconds of its return."""
    return min(0.5 * 2 ** (attempts - 1), 10.0)


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, publish: Publish, poll_seconds: float = 1.0, batch_size: int = 200):
        self._pool = pool
        self._publish = publish
        self._batch_size = batch_size
        self._measuring = Pace(MEASURE_EVERY_SECONDS)
        self.sweeper = Sweeper("outbox relay", self.publish_pending, batch_size, poll_seconds)

    def wake(self) -> None:
        """Called after a commit that wrote events, so they go out now rather than at the next poll."""
        self.sweeper.wake()

    async def run(self) -> None:
        await self.sweeper.run()

    async def publish_pending(self) -> int:
        """Publish one batch of due unpublished events; returns how many were published.

        Rows are locked with SKIP LOCKED, so several processes of one service share the work.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, event_id, routing_key, body, correlation_id, attempts FROM outbox "
                "WHERE published_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now()) "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", self._batch_size)
            outcomes = await asyncio.gather(*(
                self._publish(row["routing_key"], row["body"], str(row["event_id"]), row["correlation_id"])
                for row in rows), return_exceptions=True)
            published = [(row, body) for row, body in zip(rows, outcomes) if not isinstance(body, BaseException)]
            failed = [(row, error) for row, error in zip(rows, outcomes) if isinstance(error, BaseException)]
            await _mark_published(conn, published)
            await _mark_failed(conn, failed)
            await self._measure(conn)
        for row, _ in published:
            PUBLISHED.labels(row["routing_key"]).inc()
        # A full batch makes the sweeper look again at once; failures wait for their backoff.
        return len(rows) if not failed else len(published)

    async def _measure(self, conn: asyncpg.Connection) -> None:
        if not self._measuring.due():
            return
        lag, backing_off = await conn.fetchrow(
            "SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0), count(*) FILTER (WHERE attempts > 0) "
            "FROM outbox WHERE published_at IS NULL")
        LAG.set(float(lag))
        BACKING_OFF.set(backing_off)


async def _mark_published(conn: asyncpg.Connection, published: list) -> None:
    """Marked with the time their confirms were in (clock_timestamp, not the sweep's start)."""
    if published:
        delays = await conn.fetch(
            "UPDATE outbox o SET published_at = clock_timestamp(), last_error = NULL, body = COALESCE(p.body, o.body) "
            "FROM unnest($1::bigint[], $2::bytea[]) AS p(id, body) WHERE o.id = p.id "
            "RETURNING extract(epoch FROM o.published_at - o.created_at)::float8",
            [row["id"] for row, _ in published], [body for _, body in published])
        for (delay,) in delays:
            DELAY.observe(delay)


async def _mark_failed(conn: asyncpg.Connection, failed: list) -> None:
    for row, error in failed:
        FAILED.labels(row["routing_key"]).inc()
        attempts = row["attempts"] + 1
        log.warning("outbox relay: event %s (%s) failed to publish (attempt %d): %s; retrying in %.1fs",
                    row["event_id"], row["routing_key"], attempts, type(error).__name__, retry_in_seconds(attempts))
    if failed:
        await conn.execute(
            "UPDATE outbox o SET attempts = o.attempts + 1, last_error = f.error, "
            "next_attempt_at = now() + make_interval(secs => f.delay) "
            "FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS f(id, error, delay) WHERE o.id = f.id",
            [row["id"] for row, _ in failed], [f"{type(e).__name__}: {e}"[:500] for _, e in failed],
            [retry_in_seconds(row["attempts"] + 1) for row, _ in failed])
