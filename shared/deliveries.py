"""The bookkeeping of a table of outgoing deliveries that are retried with backoff (notify's
notifications, intake's status updates). Such a table has the columns status ('pending',
'sent', 'failed'), attempts, last_error, next_attempt_at and sent_at. The time of a try, `at`,
comes from the service's clock, as does the time its due rows are compared with."""
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg


@dataclass(frozen=True)
class DeliveryTable:
    table: str  # a name from the service's own code, never from input
    key: str

    async def sent(self, conn: asyncpg.Connection, key, at: datetime) -> None:
        await conn.execute(f"UPDATE {self.table} SET status = 'sent', attempts = attempts + 1, sent_at = $2, "
                           f"last_error = NULL WHERE {self.key} = $1", key, at)

    async def failed_attempt(self, conn: asyncpg.Connection, key, error: str, at: datetime,
                             retry_in: timedelta | None) -> None:
        """Record a failed try at `at`: retried `retry_in` later, or failed for good when None."""
        await conn.execute(
            f"UPDATE {self.table} SET attempts = attempts + 1, last_error = $2, "
            "status = CASE WHEN $4::interval IS NULL THEN 'failed' ELSE 'pending' END, "
            f"next_attempt_at = $3::timestamptz + coalesce($4::interval, '0 seconds') WHERE {self.key} = $1",
            key, error, at, retry_in)
