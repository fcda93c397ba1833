"""The unit of work: one transaction holds the claim on the incoming messages, the state change
and the events it causes. Either all of it commits or none of it does.

It is cheap on purpose, since every message pays for it: the events a transaction emits are
written to the outbox in one statement just before the commit, the claims of a batch of
messages in one statement, and work after the commit that several messages of a batch ask for
(a decision over one community) is run once. Writes that several messages add to (reporting's
rollup cells) can be collected and written once, just before the commit (`collect`)."""
import inspect
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

import asyncpg

from shared.broker import encode
from shared.events import Event

# (message_id, queue, publisher's broker user or "")
Claim = tuple[str, str, str]
_CLAIM = ("INSERT INTO processed_message (message_id, queue, publisher) "
          "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING "
          "RETURNING message_id, queue, publisher")
# created_at is the clock's when the events are written, just before the commit: the relay's
# delay (linli_outbox_publish_seconds) counts from about the commit, not the transaction's start.
_EMIT = ("INSERT INTO outbox (event_id, routing_key, body, correlation_id, created_at) "
         "SELECT e, r, b, c, clock_timestamp() FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::text[]) "
         "WITH ORDINALITY AS events(e, r, b, c, n) ORDER BY n")
T = TypeVar("T")


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool, on_events_committed: Callable[[], None]):
        self._pool = pool
        self._on_events_committed = on_events_committed
        self.connection: asyncpg.Connection | None = None
        self._after_commit: dict[Hashable, Callable[[], Any]] = {}
        self._gathered: dict[Hashable, Any] = {}
        self._collected: dict[Hashable, tuple[Any, Callable[[asyncpg.Connection, Any], Awaitable[None]]]] = {}
        self._events: list[Event] = []
        self._held: set[Hashable] = set()

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
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        emitted = len(self._events)
        try:
            if exc_type is None:
                await self._commit()
            else:
                await self._transaction.rollback()
        finally:
            await self._pool.release(self.connection)
            self.connection = None
            self._events, self._collected, self._held, self._gathered = [], {}, set(), {}
        if exc_type is None:
            await self._committed(emitted)

    async def _commit(self) -> None:
        try:
            for collected, write in self._collected.values():
                await write(self.connection, collected)
            await self._write_events()
        except BaseException:
            await self._transaction.rollback()
            raise
        await self._transaction.commit()

    def collect(self, key: Hashable, factory: Callable[[], T],
                write: Callable[[asyncpg.Connection, T], Awaitable[None]]) -> T:
        """This transaction's object under `key`, made by `factory` the first time it is asked for;
        `write(connection, it)` runs once, just before the commit (before the outbox's events), in
        the order the keys were first asked for. Never if the transaction rolls back."""
        if key not in self._collected:
            self._collected[key] = (factory(), write)
        return self._collected[key][0]

    def not_yet_held(self, locks: Iterable[Hashable]) -> list:
        """Of the transaction locks this unit of work is about to take, those it does not hold
        yet, sorted; it holds them from now on. A transaction lock lasts until the transaction
        ends, so taking it again (a message of a batch whose locks were taken first) is only a
        round trip to the database."""
        fresh = sorted(set(locks) - self._held)
        self._held.update(fresh)
        return fresh

    def after_commit(self, callback: Callable[[], Any], key: Hashable | None = None) -> None:
        """Run `callback` (plain or async) once this transaction has committed, never if it rolls
        back: work that needs the committed state, such as a decision in a unit of work of its own.
        Callbacks given the same `key` run once (the last one given)."""
        self._after_commit[key if key is not None else object()] = callback

    def after_commit_with(self, key: Hashable, factory: Callable[[], T], callback: Callable[[T], Any]) -> T:
        """This transaction's object under `key`, made by `factory` the first time it is asked for,
        and given to `callback` (plain or async) once the transaction has committed: work that a
        batch's messages each add to, done once for them all."""
        if key not in self._gathered:
            gathered = self._gathered[key] = factory()
            self.after_commit(lambda: callback(gathered), key=key)
        return self._gathered[key]

    async def _committed(self, emitted: int) -> None:
        if emitted:
            self._on_events_committed()
        callbacks, self._after_commit = list(self._after_commit.values()), {}
        for callback in callbacks:
            result = callback()
            if inspect.isawaitable(result):
                await result

    async def claim(self, message_id: str, queue: str, publisher: str | None = None) -> bool:
        """True the first time `publisher` (its broker user) sends the message id on `queue`;
        False for a redelivery or a re-publish, which must then change nothing. A concurrent
        claim of the same key waits for this transaction and then gets False."""
        return (await self.claim_all([(message_id, queue, publisher or "")]))[0]

    async def claim_all(self, claims: Sequence[Claim]) -> list[bool]:
        """`claim` for several messages in one statement, in their order; a key given twice is
        claimed by its first."""
        rows = await self.connection.fetch(_CLAIM, *(list(column) for column in zip(*claims)))
        fresh = {tuple(row) for row in rows}
        claimed = []
        for key in claims:
            claimed.append(key in fresh)
            fresh.discard(key)
        return claimed

    async def emit(self, event: Event) -> None:
        """Record `event` in the outbox (written just before the commit); the relay publishes it
        once this transaction commits."""
        self._events.append(event)

    async def _write_events(self) -> None:
        if self._events:
            await self.connection.execute(_EMIT, [e.event_id for e in self._events],
                                          [e.routing_key for e in self._events],
                                          [encode(e) for e in self._events],
                                          [e.correlation_id for e in self._events])
