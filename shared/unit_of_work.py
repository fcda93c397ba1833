"""The unit of work: one transaction holds the claim on the incoming message, the state change
and the events it causes. Either all of it commits or none of it does."""
import inspect
from collections.abc import Callable
from typing import Any

import asyncpg

from shared.broker import encode
from shared.events import Event


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool, on_events_committed: Callable[[], None]):
        self._pool = pool
        self._on_events_committed = on_events_committed
        self.connection: asyncpg.Connection | None = None
        self._after_commit: list[Callable[[], Any]] = []

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
        if exc_type is None:
            await self._committed()

    def after_commit(self, callback: Callable[[], Any]) -> None:
        """Run `callback` (plain or async) once this transaction has committed, never if it rolls
        back: work that needs the committed state, such as a decision in a unit of work of its own."""
        self._after_commit.append(callback)

    async def _committed(self) -> None:
        if self._emitted:
            self._on_events_committed()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            result = callback()
            if inspect.isawaitable(result):
                await result

    async def claim(self, message_id: str, queue: str, publisher: str | None = None) -> bool:
        """True the first time `publisher` (its broker user) sends the message id on `queue`;
        False for a redelivery or a re-publish, which must then change nothing. A concurrent
        claim of the same key waits for this transaction and then gets False."""
        claimed = await self.connection.fetchval(
            "INSERT INTO processed_message (message_id, queue, publisher) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING true", message_id, queue, publisher or "")
        return bool(claimed)

    async def emit(self, event: Event) -> None:
        """Record `event` in the outbox; the relay publishes it once this transaction commits."""
        await self.connection.execute(
            "INSERT INTO outbox (event_id, routing_key, body, correlation_id) VALUES ($1, $2, $3, $4)",
            event.event_id, event.routing_key, encode(event), event.correlation_id)
        self._emitted += 1
