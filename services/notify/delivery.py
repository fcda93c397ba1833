"""The delivery worker: sends due notifications and records each outcome with its event.

Pending notifications live in the database, so a restart of notify loses none: the worker
picks them up at its next sweep. Each row is locked while it is sent, so two notify processes
never send the same one.
"""
import asyncio
import contextlib
from datetime import datetime, timedelta

import asyncpg
from prometheus_client import Counter

from services.notify import store
from services.notify.channels import Channel
from shared.events import NotificationFailed, NotificationSent
from shared.privacy import mask_phone_numbers
from shared.service import Runtime
from shared.sweeper import Sweeper
from shared.unit_of_work import UnitOfWork
from shared.webhooks import retry_delay

BATCH_SIZE = 10
POLL_SECONDS = 1.0
OUTCOMES = Counter("linli_notify_deliveries_total", "Delivery attempts, by channel and outcome",
                   ["channel", "outcome"])


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
        """Try one batch of due notifications; returns how many were tried. Channels that go
        out over the network are tried together, so one slow endpoint does not hold the rest."""
        async with self._runtime.unit_of_work() as uow:
            due = await store.lock_due(uow.connection, self._runtime.clock.now(), BATCH_SIZE)
            remote = [n for n in due if not self.channels[n["channel"]].in_database]
            errors = dict(zip((n["notification_id"] for n in remote),
                              await asyncio.gather(*(self._try(n, None) for n in remote))))
            for notification in due:
                if notification["notification_id"] not in errors:  # one at a time on the connection
                    errors[notification["notification_id"]] = await self._try(notification, uow.connection)
            tried_at = self._runtime.clock.now()
            outcomes = [await self._record(uow, n, errors[n["notification_id"]], tried_at) for n in due]
        for notification, outcome in zip(due, outcomes):  # counted once committed
            OUTCOMES.labels(notification["channel"], outcome).inc()
        return len(due)

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

    async def _record(self, uow: UnitOfWork, notification: asyncpg.Record, error: str | None, now: datetime) -> str:
        """Record the outcome of the try that ended at `now`: sent, retried or failed."""
        if error is not None:
            return await self._failed(uow, notification, error, now)
        await store.NOTIFICATIONS.sent(uow.connection, notification["notification_id"], now)
        await uow.emit(NotificationSent(**_about(notification, now)))
        return "sent"

    async def _failed(self, uow: UnitOfWork, notification: asyncpg.Record, error: str, now: datetime) -> str:
        attempts = notification["attempts"] + 1
        if attempts < self._settings.notify_max_attempts:
            delay = retry_delay(attempts, self._settings.notify_retry_base_seconds)
            await store.NOTIFICATIONS.failed_attempt(uow.connection, notification["notification_id"], error, now,
                                                     timedelta(seconds=delay))
            return "retried"
        await store.NOTIFICATIONS.failed_attempt(uow.connection, notification["notification_id"], error, now, None)
        await uow.emit(NotificationFailed(**_about(notification, now), error=error, attempts=attempts))
        return "failed"


def _about(notification: asyncpg.Record, now: datetime) -> dict:
    return {"correlation_id": notification["correlation_id"], "occurred_at": now,
            "notification_id": notification["notification_id"],
            "recipient": notification["recipient"], "channel": notification["channel"],
            "about_event_id": notification["about_event_id"], "about": notification["about"]}
