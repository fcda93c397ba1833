"""The delivery worker: sends due notifications and records each outcome with its event.

Pending notifications live in the database, so a restart of notify loses none: the worker
picks them up at its next sweep. Each row is locked while it is sent, so two notify processes
never send the same one.
"""
from datetime import timedelta

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
        """Try one batch of due notifications; returns how many were tried."""
        async with self._runtime.unit_of_work() as uow:
            due = await store.lock_due(uow.connection, BATCH_SIZE)
            outcomes = [await self._attempt(uow, notification) for notification in due]
        for notification, outcome in zip(due, outcomes):  # counted once committed
            OUTCOMES.labels(notification["channel"], outcome).inc()
        return len(due)

    async def _attempt(self, uow: UnitOfWork, notification: asyncpg.Record) -> str:
        """Deliver one notification and record the outcome: sent, retried or failed."""
        try:
            async with uow.connection.transaction():  # a failed channel leaves no half-written rows
                await self.channels[notification["channel"]].deliver(notification, uow.connection)
        except Exception as error:
            # a gateway's answer may quote the number it was given: the error is shown in the API and events
            return await self._failed(uow, notification, mask_phone_numbers(f"{error}" or type(error).__name__))
        await store.NOTIFICATIONS.sent(uow.connection, notification["notification_id"])
        await uow.emit(NotificationSent(**_about(notification)))
        return "sent"

    async def _failed(self, uow: UnitOfWork, notification: asyncpg.Record, error: str) -> str:
        attempts = notification["attempts"] + 1
        if attempts < self._settings.notify_max_attempts:
            delay = retry_delay(attempts, self._settings.notify_retry_base_seconds)
            await store.NOTIFICATIONS.failed_attempt(uow.connection, notification["notification_id"], error,
                                            timedelta(seconds=delay))
            return "retried"
        await store.NOTIFICATIONS.failed_attempt(uow.connection, notification["notification_id"], error, None)
        await uow.emit(NotificationFailed(**_about(notification), error=error, attempts=attempts))
        return "failed"


def _about(notification: asyncpg.Record) -> dict:
    return {"correlation_id": notification["correlation_id"], "notification_id": notification["notification_id"],
            "recipient": notification["recipient"], "channel": notification["channel"],
            "about_event_id": notification["about_event_id"], "about": notification["about"]}
