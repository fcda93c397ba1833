"""The delivery worker: sends due notifications and records each outcome with its event.

Pending notifications live in the database, so a restart of notify loses none: the worker
picks them up at its next sweep. Each row is locked while it is taken, and one that goes over the
network is marked 'sending' until its outcome is recorded, so two notify processes never send the
same one; one left 'sending' by a process that died mid-call is sent again once, with the same
id (shared/deliveries.py).
"""
import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import NamedTuple

import asyncpg
from prometheus_client import Counter, Histogram

from services.notify import store
from services.notify.channels import CONNECTIONS, Channel
from shared.deliveries import INTERRUPTED, REPEATS, Claim, claim, stale_before, to_the_end
from shared.events import NotificationFailed, NotificationSent
from shared.metrics import DELIVERY_BUCKETS
from shared.privacy import mask_phone_numbers
from shared.service import Runtime
from shared.sweeper import Sweeper
from shared.unit_of_work import UnitOfWork
from shared.webhooks import retry_delay

# a sweep's statements are shared by its batch (the more due at once, the fewer per notification), and
# each of its network calls has a connection kept open
BATCH_SIZE = CONNECTIONS
POLL_SECONDS = 1.0
# outcome: sent | retried (failed, tried again later) | failed (its last attempt failed, or it was
# given up after a second interruption) | taken_over (another process took it meanwhile)
OUTCOMES = Counter("linli_notify_deliveries_total", "Delivery attempts, by channel and outcome",
                   ["channel", "outcome"])
DELIVERY_SECONDS = Histogram("linli_notify_delivery_seconds", "Seconds from the time a notification was meant "
                             "to go (its event's, or a reminder's) to its delivery", ["channel"],
                             buckets=DELIVERY_BUCKETS)


class Outcome(NamedTuple):
    """What came of one try, counted once it is committed; `seconds` since it was meant to go, if it was sent."""

    channel: str
    outcome: str
    seconds: float | None = None


class DeliveryWorker:
    def __init__(self, runtime: Runtime, channels: dict[str, Channel]):
        self._runtime = runtime
        self._settings = runtime.settings
        self.channels = channels
        self.available = frozenset(channels)
        self._sweeper = Sweeper("delivery worker", self.deliver_due, BATCH_SIZE, POLL_SECONDS)

    def wake(self) -> None:
        """Called after a commit that added notifications, so they go out now."""
        self._sweeper.wake()

    async def run(self) -> None:
        try:
            await self._sweeper.run()
        finally:
            for channel in self.channels.values():
                if hasattr(channel, "close"):
                    await channel.close()

    async def deliver_due(self) -> int:
        """Try one batch of due notifications; returns how many were taken. The inbox is written
        in the sweep's transaction; the others are marked 'sending' and committed first, then
        called together (one slow endpoint does not hold the rest), outside any transaction, and
        their outcomes recorded in a second one: a crash after a call cannot undo that it was made."""
        now = self._runtime.clock.now()
        outcomes: list[Outcome] = []
        async with self._runtime.unit_of_work() as uow:
            due = await store.lock_due(uow.connection, now, stale_before(now, self._settings.delivery_call_seconds),
                                       BATCH_SIZE)
            in_database = [n for n in due if self.channels[n["channel"]].in_database]
            outcomes += await self._store_all(uow, in_database)
            calls = await self._claim_all(uow, [n for n in due if not self.channels[n["channel"]].in_database],
                                          now, outcomes)
        for notification in calls:
            if notification["status"] == "sending":
                REPEATS.labels(notification["channel"]).inc()
        if calls:
            await to_the_end(self._call(calls, now, outcomes))
        for channel, outcome, seconds in outcomes:
            OUTCOMES.labels(channel, outcome).inc()
            if seconds is not None:
                DELIVERY_SECONDS.labels(channel).observe(seconds)
        return len(due)

    async def _store_all(self, uow: UnitOfWork, notifications: list[asyncpg.Record]) -> list[Outcome]:
        """The sweep's deliveries into the database, a statement per channel, and one to record
        them sent; should a channel's statement fail, its notifications are tried one by one (a
        savepoint each), so that one bad row fails alone."""
        outcomes = []
        for channel in {n["channel"] for n in notifications}:
            batch = [n for n in notifications if n["channel"] == channel]
            try:
                async with uow.connection.transaction():
                    await self.channels[channel].deliver_all(batch, uow.connection)
            except Exception:
                outcomes += [await self._record(uow, n, await self._try(n, uow.connection), self._runtime.clock.now())
                             for n in batch]
            else:
                outcomes += await self._record_sent(uow, batch, self._runtime.clock.now())
        return outcomes

    async def _claim_all(self, uow: UnitOfWork, notifications: list[asyncpg.Record], now: datetime,
                         outcomes: list[Outcome]) -> list[asyncpg.Record]:
        """Mark them as being sent from `now` (a statement per kind of claim); those a second
        interruption gave up instead are failed (counted in `outcomes`). Returns the ones to call."""
        claims = {n["notification_id"]: claim(n["status"], n["repeats"]) for n in notifications}
        for notification in notifications:
            if claims[notification["notification_id"]] == Claim.GIVE_UP:
                await store.NOTIFICATIONS.given_up(uow.connection, notification["notification_id"], now)
                await uow.emit(NotificationFailed(**_about(notification, now), error=INTERRUPTED,
                                                  attempts=notification["attempts"] + 1))
                outcomes.append(Outcome(notification["channel"], "failed"))
        for kind in (Claim.SEND, Claim.REPEAT):
            if keys := [key for key, claimed in claims.items() if claimed == kind]:
                await store.NOTIFICATIONS.all_sending(uow.connection, keys, now, kind)
        return [n for n in notifications if claims[n["notification_id"]] != Claim.GIVE_UP]

    async def _call(self, calls: list[asyncpg.Record], since: datetime, outcomes: list[Outcome]) -> None:
        """Call each (together), then record their outcomes in one transaction."""
        errors = await asyncio.gather(*(self._try(n, None) for n in calls))
        async with self._runtime.unit_of_work() as uow:
            tried_at = self._runtime.clock.now()
            outcomes += await self._record_sent(uow, [n for n, error in zip(calls, errors) if error is None],
                                                tried_at, since)
            outcomes += [Outcome(n["channel"], await self._failed(uow, n, error, tried_at, since))
                         for n, error in zip(calls, errors) if error is not None]

    async def _try(self, notification: asyncpg.Record, connection: asyncpg.Connection | None) -> str | None:
        """Deliver one notification; None when it went, else why not. A gateway's answer may quote
        the number it was given: the error, shown in the API and events, is masked."""
        # on the connection, a savepoint: a failed channel leaves no half-written rows
        try:
            async with connection.transaction() if connection else contextlib.nullcontext():
                await self.channels[notification["channel"]].deliver(notification, connection)
        except Exception as error:
            return mask_phone_numbers(f"{error}" or type(error).__name__)
        return None

    async def _record(self, uow: UnitOfWork, notification: asyncpg.Record, error: str | None,
                      now: datetime) -> Outcome:
        """Record the outcome of the try that ended at `now`: sent, retried or failed."""
        if error is not None:
            return Outcome(notification["channel"], await self._failed(uow, notification, error, now, None))
        return (await self._record_sent(uow, [notification], now))[0]

    async def _record_sent(self, uow: UnitOfWork, notifications: list[asyncpg.Record], now: datetime,
                           since: datetime | None = None) -> list[Outcome]:
        """Record that these went at `now` (one statement), each with its event; a call marked
        `since` that another process has taken over meanwhile (it thought this one dead) is theirs."""
        if not notifications:
            return []
        confirmed = await store.NOTIFICATIONS.all_sent(uow.connection, [n["notification_id"] for n in notifications],
                                                       now, since)
        outcomes = []
        for notification in notifications:
            channel, meant_at = notification["channel"], notification["meant_at"]
            if notification["notification_id"] not in confirmed:
                outcomes.append(Outcome(channel, "taken_over"))
                continue
            await uow.emit(NotificationSent(**_about(notification, now)))
            outcomes.append(Outcome(channel, "sent", None if meant_at is None else (now - meant_at).total_seconds()))
        return outcomes

    async def _failed(self, uow: UnitOfWork, notification: asyncpg.Record, error: str, now: datetime,
                      since: datetime | None) -> str:
        attempts = notification["attempts"] + 1
        last = attempts >= self._settings.notify_max_attempts
        delay = None if last else timedelta(seconds=retry_delay(attempts, self._settings.notify_retry_base_seconds))
        if not await store.NOTIFICATIONS.failed_attempt(uow.connection, notification["notification_id"], error, now,
                                                        delay, since):
            return "taken_over"
        if not last:
            return "retried"
        await uow.emit(NotificationFailed(**_about(notification, now), error=error, attempts=attempts))
        return "failed"


def _about(notification: asyncpg.Record, now: datetime) -> dict:
    return {"correlation_id": notification["correlation_id"], "occurred_at": now,
            "notification_id": notification["notification_id"],
            "recipient": notification["recipient"], "channel": notification["channel"],
            "about_event_id": notification["about_event_id"], "about": notification["about"]}
