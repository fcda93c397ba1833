"""Live figures: every projection's commit tells the dashboards.

A handler's transaction calls `announce` (PostgreSQL NOTIFY, delivered at commit, to every
reporting process); each process listens on a connection of its own (`listen`) and wakes the
dashboards' event streams through `Changes`."""
import asyncio
import contextlib

import asyncpg

CHANNEL = "reporting_changed"


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


async def listen(database_url: str, changes: Changes) -> None:
    """Hear every reporting process's commits until cancelled (a dedicated connection: a pooled
    one would lose its LISTEN when given back)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.add_listener(CHANNEL, lambda *_: changes.changed())
        await asyncio.Event().wait()
    finally:
        await conn.close()
