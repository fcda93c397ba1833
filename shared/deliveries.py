"""The bookkeeping of a table of outgoing deliveries that are retried with backoff (notify's
notifications, intake's status updates). Such a table has the columns status ('pending',
'sending', 'sent', 'failed'), attempts, last_error, next_attempt_at, sent_at, sending_since and
repeats. The time of a try, `at`, comes from the service's clock, as does the time its due rows
are compared with.

A delivery over the network is marked 'sending' (with the time) in a transaction of its own
before the call, and confirmed sent or failed in another after it: the call is never made inside
an open transaction, so a crash after the call cannot roll back the fact that it was made. A row
still 'sending' three times as long as a call may take (DELIVERY_CALL_SECONDS) was left by a process that died mid-call: it is sent again
once, under the same id (which the receiver is given, to drop the repeat), and given up after a
second such interruption (`claim`)."""
import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import asyncpg
from prometheus_client import Counter

# A call gives up after its timeout; a row 'sending' this many times as long was left by a sender
# that died (a live one has confirmed or failed it by then, even with a slow database).
STALE_CALLS = 3
MAX_REPEATS = 1
INTERRUPTED = "interrupted twice between the call and its confirmation: it may or may not have arrived"
REPEATS = Counter("linli_delivery_repeats_total", "Deliveries sent again, under the same id, after a sender "
                  "died between the call and its confirmation", ["channel"])


class Claim(StrEnum):
    SEND = "send"  # due: its first call, or a retry after a refusal
    REPEAT = "repeat"  # interrupted once: the call again, same id
    GIVE_UP = "give_up"  # interrupted again: never a third call


def claim(status: str, repeats: int) -> Claim:
    """What to do with a row the sweep found: 'pending' (due) is sent; 'sending' (stale, its
    sender died) is repeated at most MAX_REPEATS times, then failed for good."""
    if status == "pending":
        return Claim.SEND
    if status == "sending":
        return Claim.REPEAT if repeats < MAX_REPEATS else Claim.GIVE_UP
    raise ValueError(f"a {status!r} delivery is not due")


async def to_the_end(calls_and_record: Awaitable) -> None:
    """Run the calls of a sweep and the recording of their outcomes to the end, even when the
    service stops meanwhile (its stop waits for them, at most a call's timeout, then goes on): a
    clean stop never leaves a row 'sending', so only a crash causes a repeat."""
    task = asyncio.ensure_future(calls_and_record)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def stale_before(now: datetime, call_seconds: float) -> datetime:
    """A row marked 'sending' before this was left by a sender that died (its calls time out
    after `call_seconds`)."""
    return now - timedelta(seconds=STALE_CALLS * call_seconds)


@dataclass(frozen=True)
class DeliveryTable:
    table: str  # a name from the service's own code, never from input
    key: str

    @property
    def due(self) -> str:
        """The condition on a row the sweep takes, with $1 the time now and $2 `stale_before(now)`."""
        return ("((status = 'pending' AND next_attempt_at <= $1) "
                "OR (status = 'sending' AND sending_since <= $2))")

    async def sending(self, conn: asyncpg.Connection, key, at: datetime, claimed: Claim) -> None:
        """Mark the row as being sent from `at` (a repeat counts one more)."""
        await self.all_sending(conn, [key], at, claimed)

    async def all_sending(self, conn: asyncpg.Connection, keys: list, at: datetime, claimed: Claim) -> None:
        """`sending` for several rows claimed alike, in one statement."""
        await conn.execute(f"UPDATE {self.table} SET status = 'sending', sending_since = $2, "
                           f"repeats = repeats + $3 WHERE {self.key} = ANY($1)", keys, at, int(claimed == Claim.REPEAT))

    async def sent(self, conn: asyncpg.Connection, key, at: datetime, since: datetime | None = None) -> bool:
        """Record that it went; a call marked `since` confirms only if no other sender has taken the
        row over meanwhile (it then returns False and changes nothing)."""
        return bool(await self.all_sent(conn, [key], at, since))

    async def all_sent(self, conn: asyncpg.Connection, keys: list, at: datetime,
                       since: datetime | None = None) -> set:
        """`sent` for several rows in one statement; returns the keys it confirmed."""
        rows = await conn.fetch(
            f"UPDATE {self.table} SET status = 'sent', attempts = attempts + 1, sent_at = $2, last_error = NULL "
            f"WHERE {self.key} = ANY($1) AND {self._marked('$3')} RETURNING {self.key}", keys, at, since)
        return {row[0] for row in rows}

    async def failed_attempt(self, conn: asyncpg.Connection, key, error: str, at: datetime,
                             retry_in: timedelta | None, since: datetime | None = None) -> bool:
        """Record a failed try at `at`: retried `retry_in` later, or failed for good when None
        (`since` as for `sent`)."""
        result = await conn.execute(
            f"UPDATE {self.table} SET attempts = attempts + 1, last_error = $2, "
            "status = CASE WHEN $4::interval IS NULL THEN 'failed' ELSE 'pending' END, "
            f"next_attempt_at = $3::timestamptz + coalesce($4::interval, '0 seconds') "
            f"WHERE {self.key} = $1 AND {self._marked('$5')}", key, error, at, retry_in, since)
        return result != "UPDATE 0"

    async def given_up(self, conn: asyncpg.Connection, key, at: datetime) -> None:
        """Failed for good after a second interruption: nobody knows whether it arrived."""
        await conn.execute(f"UPDATE {self.table} SET status = 'failed', attempts = attempts + 1, last_error = $2, "
                           f"next_attempt_at = $3 WHERE {self.key} = $1", key, INTERRUPTED, at)

    @staticmethod
    def _marked(parameter: str) -> str:
        return (f"({parameter}::timestamptz IS NULL OR "
                f"(status = 'sending' AND sending_since = {parameter}::timestamptz))")
