"""notify's handlers: an event that concerns people becomes pending notifications; the
delivery worker sends them."""
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.notify import store
from services.notify.delivery import DeliveryWorker
from services.notify.domain import channels_for, messages_for, not_before, quiet_hours
from shared.consumer import Envelope, Handler
from shared.events import Event, VolunteerRegistered
from shared.service import Runtime


@dataclass(frozen=True)
class Notifier:
    """What notify's handlers and API are given."""

    runtime: Runtime
    worker: DeliveryWorker

    @property
    def pool(self):
        return self.runtime.pool


async def on_volunteer_registered(notifier: Notifier, envelope: Envelope) -> None:
    """How to reach a volunteer: their address book entry follows their latest registration."""
    event = VolunteerRegistered.model_validate_json(envelope.body)
    async with notifier.runtime.unit_of_work() as uow:
        if await uow.claim(envelope):
            await store.save_contact(uow.connection, event)


def notifying(event_type: type[Event]) -> Handler:
    """The handler that turns events of `event_type` into notifications."""
    async def notify(notifier: Notifier, envelope: Envelope) -> None:
        event = event_type.model_validate_json(envelope.body)
        settings = notifier.runtime.settings
        async with notifier.runtime.unit_of_work() as uow:
            if not await uow.claim(envelope):
                return
            city, now = ZoneInfo(settings.linli_timezone), datetime.now(UTC)
            for message in messages_for(event, city):
                when = not_before(now, message.urgent, city, quiet_hours(settings.notify_quiet_hours))
                contact = await store.contact(uow.connection, message.recipient)
                for channel, address in channels_for(contact, message.urgent, notifier.worker.available).items():
                    await store.add(uow.connection, message, channel, address, event, when)
        notifier.worker.wake()
    return notify
