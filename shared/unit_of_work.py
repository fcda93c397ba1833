"""The unit of work: one transaction holds the claim on the incoming message, the state change
and the events it causes. Either all of it commits or none of it does."""
from collections.abc import Callable

import asyncpg

from shared.broker import encode
from shared.consumer import Envelope
from shared.events import Event


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool, on_events_committed: Callable[[], None]):
        self._pool = pool
        self._on_events_committed = on_events_committed
        self.connection: asyncpg.Connection | None = None

    async def __aenter__(self) -> "UnitOfWork":
        self.connection = await self._pool.acquire()
        self._transaction = self.connection.transaction()
        try:
            await self._transaction.start()
        except BaseException:
            # Cancelled (a service stopping) while BEGIN was under way: __aexit__ will not run, so
            # give the connection back here (release rolls back), or the pool's close waits forever.
            await self._pool.release(self.connection)
            self.connection = None
            raise
        self._emitted = 0
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                await self._transaction.commit()
            else:
                await self._transaction.rollback()
        finally:
            await self._pool.release(self.connection)
            self.connection = None
        if exc_type is None and self._emitted:
            self._on_events_committed()

    async def claim(self, envelope: Envelope) -> bool:
        """True the first time the message is seen; False for a redelivery or a re-publish,
        which must then change nothing. A concurrent claim of the same id waits for this
        transaction and then gets False."""
        claimed = await self.connection.fetchval(
            "INSERT INTO processed_message (message_id, queue) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING RETURNING true", envelope.message_id, envelope.queue)
        return bool(claimed)

    async def emit(self, event: Event) -> None:
        """Record `event` in the outbox; the relay publishes it once this transaction commits."""
        await self.connection.execute(
            "INSERT INTO outbox (event_id, routing_key, body, correlation_id) VALUES ($1, $2, $3, $4)",
            event.event_id, event.routing_key, encode(event), event.correlation_id)
        self._emitted += 1
