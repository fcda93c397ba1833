"""Telling an outage from a failure. A message that fails because PostgreSQL does not answer
(stopped, restarting, failing over) is not at fault: its consumer waits for the database and
tries it again, and that delivery does not count toward the queue's delivery limit. Only a
message that fails on a healthy system is retried with backoff and, past the limit,
dead-lettered (shared/consumer.py)."""
import asyncio
import contextlib
import logging
import time

import asyncpg
from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)
PROBE_TIMEOUT_SECONDS = 2.0
WAITING = Gauge("linli_consumers_waiting_for_database",
                "1 while the service's consumers wait for PostgreSQL to answer again")
OUTAGES = Counter("linli_database_outages_total", "Times the consumers found PostgreSQL not answering")

# What a lost or refused database connection raises (a bug raises none of these).
CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                     asyncpg.CannotConnectNowError, asyncpg.exceptions.OperatorInterventionError)


def is_connection_error(error: BaseException) -> bool:
    return isinstance(error, CONNECTION_ERRORS)


def backoff(attempt: int) -> float:
    """Seconds between looks at a database that does not answer: 0.5, 1, 2, 4, then every 5."""
    return min(0.5 * 2 ** attempt, 5.0)


class DatabaseWatch:
    """Whether the service's pool reaches PostgreSQL, and a wait until it does. However many
    consumers wait, one of them looks (with backoff) and logs; the others wait for it."""

    def __init__(self, pool: asyncpg.Pool, service: str):
        self._pool = pool
        self._service = service
        self._lock = asyncio.Lock()

    async def answers(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                return bool(await self._pool.fetchval("SELECT true"))
        except Exception:  # whatever keeps it from answering
            with contextlib.suppress(Exception):  # after a restart the pool's connections are stale
                await self._pool.expire_connections()
            return False

    async def back(self) -> None:
        """Return once PostgreSQL answers (at once if it does)."""
        async with self._lock:
            if await self.answers():
                return
            OUTAGES.inc()
            WAITING.set(1)
            started = time.monotonic()
            log.warning("%s: PostgreSQL does not answer; consumers wait for it (no message counts as failed)",
                        self._service)
            attempt = 0
            while not await self.answers():
                await asyncio.sleep(backoff(attempt))
                attempt += 1
            WAITING.set(0)
            log.warning("%s: PostgreSQL answers again after %.1fs; consumers go on", self._service,
                        time.monotonic() - started)
