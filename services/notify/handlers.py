"""notify's handlers: an event that concerns people becomes pending notifications (or settles
pending ones); the delivery worker sends them."""
from datetime import datetime

import asyncpg

from services.notify import store
from services.notify.context import Notifier
from services.notify.domain.messages import Context, Message, messages_for, resident, settled_by
from services.notify.domain.routing import SMS, Contact, channels_for, language_for
from shared.events import (AssignmentEvent, CaseAssigned, CaseEvent, Event, RequestEvent, RequestReceived,
                           VolunteerRegistered)
from shared.quiet_hours import not_before
from shared.unit_of_work import UnitOfWork


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
    context = await _context(notifier, uow.connection, event)
    for message in messages_for(event, context):
        await _tell(notifier, uow.connection, message, event, context.now)
    uow.after_commit(notifier.worker.wake)


async def _context(notifier: Notifier, conn: asyncpg.Connection, event: Event) -> Context:
    """What the rules need to know besides the event: the time, the resident, a case's mediators."""
    mediators = await store.mediators(conn, event.case_id) if isinstance(event, CaseEvent) else {}
    return Context(notifier.timezone, notifier.now(), await _resident_of(conn, event), mediators,
                   notifier.offer_reminder, notifier.window_reminders, texting=SMS in notifier.worker.available)


async def _resident_of(conn: asyncpg.Connection, event: Event) -> Contact | None:
    """The beneficiary of the request an event is about (a case's parties are not residents to tell)."""
    if isinstance(event, RequestEvent) or (isinstance(event, AssignmentEvent) and event.request_id):
        return await store.contact(conn, resident(event.source, event.external_id))
    return None


async def _tell(notifier: Notifier, conn: asyncpg.Connection, message: Message, event: Event, now: datetime) -> None:
    """The message, in its recipient's language, on each channel their profile and its urgency give."""
    contact = notifier.staff.get(message.recipient) or await store.contact(conn, message.recipient)
    language = language_for(contact)
    text = notifier.renderer.render(message.kind, language, message.fields)
    when = not_before(message.send_at or now, message.urgent, notifier.timezone, notifier.quiet, message.deadline)
    if message.assignment_id:
        await store.lock_assignment(conn, message.assignment_id)
    available = notifier.worker.available
    for channel, address in channels_for(contact, message.urgent, message.private, available).items():
        await store.add(conn, message, text, language, channel, address, event, when)
