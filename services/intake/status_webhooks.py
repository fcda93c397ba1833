"""Status updates to publishers' webhooks: a publishing system follows its own requests
without polling. Updates are queued in the transaction of the change they report, then posted
signed (shared/webhooks.py) and retried with backoff; they survive a restart of intake. Each is
marked 'sending' before its call and confirmed after it; one cut off by a crash is sent again
once, with the same Idempotency-Key header (shared/deliveries.py)."""
import asyncio
import json
from datetime import datetime, timedelta

import httpx

from services.intake import store
from services.intake.sources import Sources
from shared.deliveries import REPEATS, Claim, claim, stale_before, to_the_end
from shared.events import Event
from shared.service import Runtime
from shared.sweeper import Sweeper
from shared.unit_of_work import UnitOfWork
from shared.webhooks import DeliveryFailed, post_signed, retry_delay

BATCH_SIZE = 20
POLL_SECONDS = 1.0
CHANNEL = "status_webhook"  # its label in linli_delivery_repeats_total


class StatusWebhooks:
    def __init__(self, runtime: Runtime, sources: Sources):
        self._runtime = runtime
        self._sources = sources
        self._client = httpx.AsyncClient(timeout=runtime.settings.delivery_call_seconds)
        self._sweeper = Sweeper("status webhooks", self.deliver_due, BATCH_SIZE, POLL_SECONDS)

    async def queue(self, uow: UnitOfWork, source: str | None, occurred_at: datetime, **status) -> None:
        """Owe `source` a status update, if it registered a webhook; it is due at once."""
        registered = self._sources.webhook_of(source) if source else None
        if registered is None:
            return
        body = json.dumps({"source": source, "occurred_at": occurred_at.isoformat(), **status},
                          ensure_ascii=False, default=str).encode()
        await store.queue_status_update(uow.connection, source, str(registered.webhook_url), body,
                                        self._runtime.clock.now())

    async def queue_request(self, uow: UnitOfWork, event: Event, status: str, **detail) -> None:
        """Owe the publisher of the request `event` is about its new `status`."""
        await self.queue(uow, event.source, event.occurred_at, status=status, external_id=event.external_id,
                         request_id=str(event.request_id), **detail)

    async def run(self) -> None:
        try:
            await self._sweeper.run()
        finally:
            await self._client.aclose()

    async def deliver_due(self) -> int:
        """Take one batch of due updates: marked 'sending' and committed, then posted outside any
        transaction, then their outcomes recorded (shared/deliveries.py); returns how many."""
        now = self._runtime.clock.now()
        async with self._runtime.unit_of_work() as uow:
            stale = stale_before(now, self._runtime.settings.delivery_call_seconds)
            due = await store.lock_due_status_updates(uow.connection, now, stale, BATCH_SIZE)
            calls = [update for update in due if await self._claim(uow, update, now)]
        REPEATS.labels(CHANNEL).inc(sum(update["status"] == "sending" for update in calls))
        if calls:
            await to_the_end(self._post_and_record(calls, now))
        return len(due)

    async def _post_and_record(self, calls: list, since: datetime) -> None:
        errors = await asyncio.gather(*(self._post(update) for update in calls))  # one per source (store)
        async with self._runtime.unit_of_work() as uow:
            for update, error in zip(calls, errors):
                await self._record(uow, update, error, since)

    @staticmethod
    async def _claim(uow: UnitOfWork, update, now: datetime) -> bool:
        claimed = claim(update["status"], update["repeats"])
        if claimed == Claim.GIVE_UP:
            await store.STATUS_UPDATES.given_up(uow.connection, update["id"], now)
            return False
        await store.STATUS_UPDATES.sending(uow.connection, update["id"], now, claimed)
        return True

    async def _post(self, update) -> str | None:
        """Post one update, with its delivery id as Idempotency-Key; None when it was taken, else why not."""
        registered = self._sources.webhook_of(update["source"])
        try:
            if registered is None:
                raise DeliveryFailed(f"source {update['source']!r} no longer has a webhook")
            await post_signed(self._client, update["url"], registered.webhook_secret or "", update["body"],
                              str(update["delivery_id"]))
        except DeliveryFailed as error:
            return str(error)
        return None

    async def _record(self, uow: UnitOfWork, update, error: str | None, since: datetime) -> None:
        at = self._runtime.clock.now()
        if error is None:
            await store.STATUS_UPDATES.sent(uow.connection, update["id"], at, since)
        else:
            await store.STATUS_UPDATES.failed_attempt(uow.connection, update["id"], error, at,
                                                      self._retry_in(update), since)

    def _retry_in(self, update) -> timedelta | None:
        settings = self._runtime.settings
        attempts = update["attempts"] + 1
        if attempts >= settings.intake_webhook_max_attempts:
            return None
        return timedelta(seconds=retry_delay(attempts, settings.intake_webhook_retry_base_seconds))
