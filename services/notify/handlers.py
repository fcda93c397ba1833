"""notify's handlers: an event that concerns people becomes pending notifications (or settles
pending ones); the delivery worker sends them."""
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

import asyncpg

from services.notify import store
from services.notify.delivery import DeliveryWorker
from services.notify.domain.messages import Context, Message, messages_for, resident, settled_by
from services.notify.domain.routing import SMS, Contact, channels_for, language_for
from services.notify.rendering import Renderer
from shared.events import (AssignmentEvent, CaseAssigned, CaseEvent, Event, RequestEvent, RequestReceived,
                           VolunteerRegistered)
from shared.quiet_hours import not_before
from shared.service import Runtime
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Notifier:
    """What notify's handlers and API are given: the runtime, the delivery worker, and the
    rules' configuration, read once at start-up."""

    runtime: Runtime
    worker: DeliveryWorker
    renderer: Renderer
    staff: dict[str, Contact]  # the staff directory, by recipient
    timezone: tzinfo
    quiet: tuple[time, time] | None
    offer_reminder: timedelta | None
    window_reminders: tuple[timedelta, ...]

    @property
    def pool(self):
        return self.runtime.pool

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    async def contact(self, conn: asyncpg.Connection, recipient: str) -> Contact | None:
        return self.staff.get(recipient) or await store.contact(conn, recipient)

    async def context(self, conn: asyncpg.Connection, event: Event) -> Context:
        mediators = await store.mediators(conn, event.case_id) if isinstance(event, CaseEvent) else {}
        return Context(self.timezone, datetime.now(UTC), await _resident_of(conn, event), mediators,
                       self.offer_reminder, self.window_reminders, texting=SMS in self.worker.available)

    async def tell(self, conn: asyncpg.Connection, message: Message, event: Event, now: datetime) -> None:
        """The message, in its recipient's language, on each channel their profile and its urgency give."""
        contact = await self.contact(conn, message.recipient)
        language = language_for(contact)
        text = self.renderer.render(message.kind, language, message.fields)
        when = not_before(message.send_at or now, message.urgent, self.timezone, self.quiet, message.deadline)
        if message.assignment_id:
            await store.lock_assignment(conn, message.assignment_id)
        for channel, address in channels_for(contact, message.urgent, message.private, self.worker.available).items():
            await store.add(conn, message, text, language, channel, address, event, when)


async def _resident_of(conn: asyncpg.Connection, event: Event) -> Contact | None:
    """The beneficiary of the request an event is about (a case's parties are not residents to tell)."""
    if isinstance(event, RequestEvent) or (isinstance(event, AssignmentEvent) and event.request_id):
        return await store.contact(conn, resident(event.source, event.external_id))
    return None


async def on_volunteer_registered(notifier: Notifier, uow: UnitOfWork, event: VolunteerRegistered) -> None:
    """How to reach a volunteer: their contact follows their latest registration."""
    await store.save_volunteer(uow.connection, event)


async def on_request_received(notifier: Notifier, uow: UnitOfWork, event: RequestReceived) -> None:
    """How to reach the resident a request is for, when it gave a phone."""
    await store.save_resident(uow.connection, event)


async def notify(notifier: Notifier, uow: UnitOfWork, event: Event) -> None:
    """An event becomes notifications, and settles the pending ones it makes pointless."""
    for assignment_id, kinds in settled_by(event):
        await store.settle(uow.connection, assignment_id, kinds)
    if isinstance(event, CaseAssigned):
        await store.save_mediator(uow.connection, event)
    context = await notifier.context(uow.connection, event)
    for message in messages_for(event, context):
        await notifier.tell(uow.connection, message, event, context.now)
    uow.after_commit(notifier.worker.wake)
