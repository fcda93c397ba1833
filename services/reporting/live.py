"""Live figures: every projection's commit tells the dashboards.

A handler's transaction calls `announce_at_commit` (PostgreSQL NOTIFY, sent once just before the
commit however many of the transaction's messages changed figures, delivered at commit, to every
reporting process); each process listens on a connection of its own (`listen`) and wakes the
dashboards' event streams through `Changes`."""
import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Hashable

import asyncpg

from shared.unit_of_work import UnitOfWork
from shared.workers import alive

CHANNEL = "reporting_changed"
LISTENER = "linli-reporting-live"  # the listening connection's application_name
log = logging.getLogger(__name__)


class Changes:
    """A counter of committed changes that streams can wait on. A burst of commits is told at most
    once every `every` seconds, and to every stream at once: the open dashboards redraw together
    (their identical queries then share one answer, `SingleFlight`) rather than once per event."""

    def __init__(self, every: float = 0.0) -> None:
        self.version = 0
        self._every = every
        self._next = asyncio.Event()
        self._told_at = -math.inf
        self._pending: asyncio.TimerHandle | None = None

    def changed(self) -> None:
        if self._pending is not None:
            return  # told soon, with this change
        loop = asyncio.get_running_loop()
        wait = self._told_at + self._every - loop.time()
        if wait > 0:
            self._pending = loop.call_later(wait, self._tell)
        else:
            self._tell()

    def _tell(self) -> None:
        self._pending = None
        self._told_at = asyncio.get_running_loop().time()
        self.version += 1
        woken, self._next = self._next, asyncio.Event()
        woken.set()

    async def after(self, seen: int, timeout: float) -> int:
        """The version once it is past `seen`, or the current one after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.version <= seen:
                    await self._next.wait()
        return self.version


class SingleFlight:
    """Identical report queries asked while one is being answered share that answer: a dozen
    dashboards redrawing at the same tick cost one query. Nothing is kept once answered, so no
    answer is older than the request that computes it."""

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future] = {}

    async def answer(self, key: Hashable, compute: Callable[[], Awaitable]):
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = asyncio.ensure_future(compute())
            running.add_done_callback(lambda _: self._running.pop(key, None))
        return await asyncio.shield(running)  # one caller going away does not cancel the others'


async def announce(conn: asyncpg.Connection) -> None:
    await conn.execute(f"NOTIFY {CHANNEL}")


def announce_at_commit(uow: UnitOfWork) -> None:
    """`announce` once in the unit of work, with its other writes (a batch of 32 messages sent
    32 NOTIFYs, which PostgreSQL folds into one anyway: 4% of reporting's samples in a full cycle)."""
    uow.collect(CHANNEL, tuple, lambda conn, _: announce(conn))


async def listen(database_url: str, changes: Changes, check_seconds: float = 5.0) -> None:
    """Hear every reporting process's commits until cancelled, on a dedicated connection (a pooled
    one would lose its LISTEN when given back). A lost connection is made again, and the streams
    told, since changes may have been missed meanwhile. Whatever the connection fails with is
    such a loss: in a full fault run of 8 December the listener ended during PostgreSQL's restart
    on an error it did not catch (asyncpg also raises InternalClientError), and reporting stayed
    not ready."""
    while True:
        alive("live listener", check_seconds)
        try:
            conn = await asyncpg.connect(database_url, timeout=check_seconds * 2,
                                         server_settings={"application_name": LISTENER})
        except Exception as error:  # noqa: BLE001 - see above
            log.warning("reporting cannot listen for changes yet (%s); trying again in %s s",
                        type(error).__name__, check_seconds)
            await asyncio.sleep(check_seconds)
            continue
        try:
            await conn.add_listener(CHANNEL, lambda *_: changes.changed())
            changes.changed()
            while True:
                alive("live listener", check_seconds)
                await asyncio.sleep(check_seconds)
                await conn.fetchval("SELECT 1")  # fails once the connection is gone
        except Exception as error:  # noqa: BLE001 - see above
            log.warning("reporting lost its connection listening for changes (%s); making it again",
                        type(error).__name__)
        finally:
            conn.terminate()
