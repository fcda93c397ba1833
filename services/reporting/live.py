"""Live figures: every projection's commit tells the dashboards.

A handler's transaction calls `announce` (PostgreSQL NOTIFY, delivered at commit, to every
reporting process); each process listens on a connection of its own (`listen`) and wakes the
dashboards' event streams through `Changes`."""
import asyncio
import contextlib
import logging

import asyncpg

CHANNEL = "reporting_changed"
LISTENER = "linli-reporting-live"  # the listening connection's application_name
log = logging.getLogger(__name__)


class Changes:
    """A counter of committed changes that streams can wait on."""

    def __init__(self) -> None:
        self.version = 0
        self._next = asyncio.Event()

    def changed(self) -> None:
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


async def announce(conn: asyncpg.Connection) -> None:
    await conn.execute(f"NOTIFY {CHANNEL}")


async def listen(database_url: str, changes: Changes, check_seconds: float = 5.0) -> None:
    """Hear every reporting process's commits until cancelled, on a dedicated connection (a pooled
    one would lose its LISTEN when given back). A lost connection is made again, and the streams
    told, since changes may have been missed meanwhile."""
    while True:
        try:
            conn = await asyncpg.connect(database_url, server_settings={"application_name": LISTENER})
        except (OSError, asyncpg.PostgresError):
            log.warning("reporting cannot listen for changes yet; trying again in %s s", check_seconds)
            await asyncio.sleep(check_seconds)
            continue
        try:
            await conn.add_listener(CHANNEL, lambda *_: changes.changed())
            changes.changed()
            while True:
                await asyncio.sleep(check_seconds)
                await conn.fetchval("SELECT 1")  # fails once the connection is gone
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.warning("reporting lost its connection listening for changes; making it again")
        finally:
            conn.terminate()
