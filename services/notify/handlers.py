"""notify's handlers: an event that concerns people becomes pending notifications (or settles
pending ones); the delivery worker sends them."""
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from services.notify import store
from services.notify.context import Notifier
from services.notify.domain import backlog
from services.notify.domain.messages import Context, Message, messages_for, resident, settled_by, volunteer
from services.notify.domain.ordering import HOLD_AT_MOST, arrived, assignment_turns, awaited, turns
from services.notify.domain.routing import SMS, Contact, channels_for, language_for
from shared.events import (AssignmentEvent, CaseAssigned, CaseEvent, Event, RequestEscalated, RequestEvent,
                           RequestReceived, VolunteerRef, VolunteerRegistered)
from shared.quiet_hours import not_before
from shared.sweeper import Sweeper
from shared.unit_of_work import UnitOfWork

HELD_BATCH = 20
HELD_POLL_SECONDS = 1.0


async def on_volunteer_registered(notifier: Notifier, uow: UnitOfWork, event: VolunteerRegistered) -> None:
    """How to reach a volunteer: their contact follows their latest registration."""
    await _take_turns(uow, [event])
    await store.save_volunteer(uow.connection, event)
    await _release(notifier, uow, event)


async def on_request_received(notifier: Notifier, uow: UnitOfWork, event: RequestReceived) -> None:
    """How to reach the resident a request is for (at the phone it gave, if any)."""
    await _take_turns(uow, [event])
    await store.save_resident(uow.connection, event)
    await _release(notifier, uow, event)


async def notify(notifier: Notifier, uow: UnitOfWork, event: Event) -> None:
    """An event settles the pending messages it makes pointless at once, and becomes
    notifications once what they need has arrived (domain/ordering.py). Every turn it takes is
    taken first (a batch's, before its first message: take_turns below), and the store's writes
    rely on them (an assignment's messages added and settled one transaction at a time)."""
    await _take_turns(uow, [event])
    for assignment_id, kinds in settled_by(event):
        await store.settle(uow.connection, assignment_id, kinds)
    if isinstance(event, CaseAssigned):
        await store.save_mediator(uow.connection, event)
    if not (isinstance(event, RequestEscalated) and await _held_for_the_backlog(notifier, uow, event)):
        await _tell_when_known(notifier, uow, event)
    await _release(notifier, uow, event)


async def take_turns(notifier: Notifier, uow: UnitOfWork, events: list[Event]) -> None:
    """A batch's turns first, in the one order (shared/consumer.py's prepare): taken message
    after message, two batches deadlocked on them."""
    await _take_turns(uow, events)


async def _take_turns(uow: UnitOfWork, events: list[Event], of: Callable[[Event], tuple[str, ...]] = turns) -> None:
    """The events' turns (`of` each: all of them, or only their assignments') that this
    transaction does not hold yet, in one statement (store.take_turns' one order: a transaction
    takes assignment turns after the others, never others after them)."""
    await store.take_turns(uow.connection, uow.not_yet_held(key for event in events for key in of(event)))


async def _held_for_the_backlog(notifier: Notifier, uow: UnitOfWork, event: RequestEscalated) -> bool:
    """Whether the escalation waits for its community's backlog message rather than being told
    now (domain/backlog.py). The community's escalations take turns, so one window is opened at a
    time (the handler took the turn), and the time is read once it is taken: a window being
    told holds no more."""
    conn = uow.connection
    if taken := await store.escalation_taken(conn, event.event_id):  # a copy goes as the first did
        return taken == "held"
    latest = await store.latest_window(conn, event.community_code)
    decided = backlog.turn(event, latest, notifier.now(), notifier.staff_digest)
    if decided.now and decided.window:
        await store.open_window(conn, event.community_code, decided.window)
    elif not decided.now:
        await store.hold_escalation(conn, event, decided.window)
    return not decided.now


async def _tell_when_known(notifier: Notifier, uow: UnitOfWork, event: Event) -> None:
    """Tell what `event` means, unless it waits for a profile (then it is held), and hold it to
    be told again if a case's mediator may still come; never past HOLD_AT_MOST. The caller
    holds the turns of what it waits for."""
    conn, waits = uow.connection, awaited(event)
    missing = await store.unknown(conn, waits.before + waits.after)
    holding = bool(missing) and await store.hold(conn, event, missing, not set(missing) & set(waits.before),
                                                 notifier.now(), HOLD_AT_MOST)
    if holding and set(missing) & set(waits.before):
        return
    await _tell_all(notifier, uow, event)
    if (waits.before or waits.after) and not holding:  # it may have been held
        await store.release(conn, event.event_id)


async def _tell_all(notifier: Notifier, uow: UnitOfWork, event: Event) -> None:
    named = _named(event)
    people = dict.fromkeys(named) | await store.contacts(uow.connection, named)  # None: known to have none
    context = await _context(notifier, uow.connection, event, people)
    for message in messages_for(event, context):
        await _tell(notifier, uow.connection, message, event, context.now, people)
    uow.after_commit(notifier.worker.wake)


def _named(event: Event) -> list[str]:
    """The people an event names, whose contacts its messages need: read in one statement."""
    named = [volunteer(event.volunteer)] if isinstance(getattr(event, "volunteer", None), VolunteerRef) else []
    if _about_a_resident(event):
        named.append(resident(event.source, event.external_id))
    return named


async def _release(notifier: Notifier, uow: UnitOfWork, event: Event) -> None:
    """What `event` made known releases the events held for it (this transaction holds their keys'
    turns). They are read, locked and told just before the commit, all the batch's together: their
    rows in one statement (in one order), then their assignments' turns in one. Found and told
    message after message, two batches locked the same held events, or their assignments' turns,
    in opposite orders and deadlocked (the full fault runs' last deadlocks)."""
    if keys := arrived(event):
        uow.collect("notify.released", set, lambda conn, arrivals: _tell_released(notifier, uow, arrivals)).update(keys)


async def _tell_released(notifier: Notifier, uow: UnitOfWork, arrivals: set[str]) -> None:
    released = await store.held_for(uow.connection, arrivals)
    await _take_turns(uow, released, assignment_turns)
    for held in released:
        await _tell_when_known(notifier, uow, held)


def staff_backlogs(notifier: Notifier) -> Sweeper:
    """The background worker that tells each closed window's backlog to its community's staff."""
    return _in_batches(notifier, "staff backlogs", tell_backlogs)


async def tell_backlogs(notifier: Notifier, uow: UnitOfWork, limit: int) -> int:
    """One backlog message per closed window that held escalations, made once (the window is
    locked and marked told in the transaction that adds its notifications); returns how many."""
    now = notifier.now()
    due = await store.backlogs_due(uow.connection, now, limit)
    for community_code, window in due:
        message, about = backlog.backlog(community_code, window,
                                         await store.held_in(uow.connection, community_code, window), now)
        await _tell(notifier, uow.connection, message, about, now, {})
        await store.backlog_told(uow.connection, community_code, window, now)
    if due:
        uow.after_commit(notifier.worker.wake)
    return len(due)


def held_events(notifier: Notifier) -> Sweeper:
    """The background worker that tells the held events whose bound has passed."""
    return _in_batches(notifier, "held events", release_held)


def _in_batches(notifier: Notifier, name: str,
                work: Callable[[Notifier, UnitOfWork, int], Awaitable[int]]) -> Sweeper:
    """A background worker doing `work` on at most HELD_BATCH rows a transaction."""
    async def sweep() -> int:
        async with notifier.runtime.unit_of_work() as uow:
            return await work(notifier, uow, HELD_BATCH)
    return Sweeper(name, sweep, HELD_BATCH, HELD_POLL_SECONDS)


async def release_held(notifier: Notifier, uow: UnitOfWork, limit: int) -> int:
    """Tell the held events whose bound has passed with what is known; returns how many. Their
    assignments' turns are taken before their rows: holding a row while it waited for a turn, the
    sweeper could deadlock with a batch that holds the turn and comes to release the row."""
    conn, due = uow.connection, await store.held_past(uow.connection, notifier.now(), limit)
    await _take_turns(uow, due, assignment_turns)
    past = await store.lock_held(conn, [event.event_id for event in due])
    for event, told in past:
        if not told:
            await _tell_all(notifier, uow, event)
        await store.release(uow.connection, event.event_id)
    return len(past)


async def _context(notifier: Notifier, conn: asyncpg.Connection, event: Event,
                   people: dict[str, Contact | None]) -> Context:
    """What the rules need to know besides the event: the time, the resident, a case's mediators."""
    mediators = await store.mediators(conn, event.case_id) if isinstance(event, CaseEvent) else {}
    beneficiary = people.get(resident(event.source, event.external_id)) if _about_a_resident(event) else None
    return Context(notifier.timezone, notifier.now(), beneficiary, mediators,
                   notifier.offer_reminder, notifier.window_reminders, texting=SMS in notifier.worker.available)


def _about_a_resident(event: Event) -> bool:
    """An event about a request has its beneficiary (a case's parties are not residents to tell)."""
    return isinstance(event, RequestEvent) or (isinstance(event, AssignmentEvent) and bool(event.request_id))


async def _tell(notifier: Notifier, conn: asyncpg.Connection, message: Message, event: store.About, now: datetime,
                people: dict[str, Contact | None]) -> None:
    """The message, in its recipient's language, on each channel their profile and its urgency give.
    Adding an assignment's message and settling its messages take turns, so that neither misses
    the other's rows: every caller holds the turn of the assignment it tells of (notify, _release,
    release_held)."""
    recipient = message.recipient
    contact = notifier.staff.get(recipient) or (
        people[recipient] if recipient in people else await store.contact(conn, recipient))
    language = language_for(contact)
    text = notifier.renderer.render(message.kind, language, message.fields)
    when = not_before(message.send_at or now, message.urgent, notifier.timezone, notifier.quiet, message.deadline)
    channels = channels_for(contact, message.urgent, message.private, notifier.worker.available)
    await store.add(conn, message, text, language, channels, event, when)
