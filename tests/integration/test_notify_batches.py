"""Two of notify's batches at once (tests/batches.py), against real PostgreSQL. Each batch's
second message takes the turns the other's first took: two volunteers' contacts (registrations,
offers to them), two communities' backlog windows (escalations). They do not deadlock: a batch
takes every turn its messages will take first, in the one order (store.take_turns). Nor does an
arrival that takes the assignment turns of the events it releases after its own, nor two arrival
batches that release the same held events (their rows are locked together, in one order, at the
end of the batch), nor the sweeper of held events past their bound with a batch releasing one."""
import asyncio
import uuid
from datetime import timedelta

import pytest

from services.notify import store
from services.notify.app import SERVICE
from services.notify.domain.messages import resident
from services.notify.domain.ordering import HOLD_AT_MOST, assignment_turn, contact_of, turns
from services.notify.handlers import HELD_BATCH, notify, release_held, take_turns
from tests.batches import crossed
from shared.events import AssignmentAccepted
from tests.builders.notify import offer, received, registered
from tests.integration.test_notify_backlog import community, escalated
from tests.support import eventually, running, waiting_on_a_lock

pytestmark = pytest.mark.integration


def crossing(kind: str) -> tuple[list, list]:
    """Two batches that take the same two turns in opposite orders."""
    if kind == "registrations":
        people = [f"v-{uuid.uuid4().hex[:6]}" for _ in range(2)]
        make = registered
    elif kind == "offers":
        people = [f"v-{uuid.uuid4().hex[:6]}" for _ in range(2)]
        make = offer
    else:
        people = [community() for _ in range(2)]
        make = escalated
    return [make(people[0]), make(people[1])], [make(people[1]), make(people[0])]


@pytest.fixture(scope="module")
async def notifier(settings):
    async with running(SERVICE, settings) as client:
        yield client.app.state.deps


@pytest.mark.parametrize("kind", ["registrations", "offers", "escalations"])
async def test_two_batches_taking_the_same_turns_in_opposite_orders_both_commit(notifier, kind):
    first, second = crossing(kind)
    assert set(turns(first[0])) & set(turns(second[1]))  # they do cross
    assert await crossed(SERVICE, notifier, first, second) == [["done", "done"], ["done", "done"]]


async def crossed_ids(conn) -> tuple[str, str]:
    """A volunteer's contact turn and an assignment's turn, the assignment's lock id the lower."""
    while True:
        contact, assignment = contact_of(f"volunteer:volunteer-app:v-{uuid.uuid4().hex[:6]}"), \
            assignment_turn(uuid.uuid4())
        if await conn.fetchval("SELECT hashtext('notify.' || $2)::bigint < hashtextextended($1, 13)",
                               contact, assignment):
            return contact, assignment


async def test_an_arrival_takes_the_assignment_turns_of_what_it_releases_after_its_own_without_deadlock(notifier):
    """An arrival holds its contact's turn, then finds a held event and takes its assignment's; an
    event about that assignment takes both at once. Ordered by the locks' ids alone (the
    assignment's the lower), the event held the assignment's and waited for the contact's."""
    pool = notifier.runtime.pool
    async with pool.acquire() as conn:
        contact, assignment = await crossed_ids(conn)
    arrived_first = asyncio.Event()

    async def arrival():
        async with pool.acquire() as conn, conn.transaction():
            await store.take_turns(conn, [contact])
            arrived_first.set()
            await eventually(lambda: waiting_on_a_lock(pool), 10)  # the event waits for this one
            await store.take_turns(conn, [assignment])  # what it released

    async def event():
        await arrived_first.wait()
        async with pool.acquire() as conn, conn.transaction():
            await store.take_turns(conn, [assignment, contact])
    await asyncio.wait_for(asyncio.gather(arrival(), event()), 30)


def accepted_before_anyone_is_known() -> AssignmentAccepted:
    """An acceptance held for its resident's profile (and to be told again for its volunteer's)."""
    offered = offer(f"v-{uuid.uuid4().hex[:6]}").model_copy(update={"external_id": f"h-{uuid.uuid4().hex[:6]}"})
    return AssignmentAccepted(**offered.model_dump(include={"correlation_id", "request_id", "source", "external_id",
                                                            "category", "community_code"}),
                              assignment_id=offered.assignment_id, volunteer=offered.volunteer)


async def test_two_arrival_batches_releasing_the_same_held_events_in_opposite_orders_both_commit(notifier):
    """Two held acceptances, each waiting for its resident's and its volunteer's profile: one batch
    of registrations (the first's volunteer, then the second's) and one of request.received (the
    second's resident, then the first's). Found and locked message after message, each batch held
    one held event and waited for the other's: a deadlock."""
    held = [accepted_before_anyone_is_known() for _ in range(2)]
    for event in held:
        async with notifier.runtime.unit_of_work() as uow:
            await take_turns(notifier, uow, [event])
            await notify(notifier, uow, event)
    pool, ids = notifier.runtime.pool, [event.event_id for event in held]
    assert await pool.fetchval("SELECT count(*) FROM held_event WHERE event_id = ANY($1::uuid[])", ids) == 2
    registrations = [registered(event.volunteer.external_id) for event in held]
    receipts = [received(event) for event in held[::-1]]
    assert await crossed(SERVICE, notifier, registrations, receipts) == [["done", "done"], ["done", "done"]]
    assert await pool.fetchval("SELECT count(*) FROM held_event WHERE event_id = ANY($1::uuid[])", ids) == 0
    assert await pool.fetchval("SELECT count(DISTINCT about_event_id) FROM notification "
                               "WHERE about_event_id = ANY($1::uuid[])", ids) == 2


class Later:
    """The notifier, its clock `by` ahead (for one sweep: the service's own sweeper keeps the wall clock)."""

    def __init__(self, notifier, by: timedelta):
        self._notifier, self._by = notifier, by

    def now(self):
        return self._notifier.now() + self._by

    def __getattr__(self, name):
        return getattr(self._notifier, name)


async def test_the_sweeper_waits_for_a_held_event_s_turn_before_it_locks_its_row(notifier):
    """A batch holding an assignment's turn comes to release its held event as the sweeper finds
    the event past its bound. Locking the row first, then waiting for the turn, the sweeper held
    what the batch waited for: a deadlock."""
    event = accepted_before_anyone_is_known()
    async with notifier.runtime.unit_of_work() as uow:
        await take_turns(notifier, uow, [event])
        await notify(notifier, uow, event)
    pool, turn_taken = notifier.runtime.pool, asyncio.Event()

    async def arrival():
        async with pool.acquire() as conn, conn.transaction():
            await store.take_turns(conn, [assignment_turn(event.assignment_id)])
            turn_taken.set()
            await eventually(lambda: waiting_on_a_lock(pool), 10)  # the sweep waits for this one
            assert [held.event_id for held in await store.held_for(conn, [contact_of(resident(
                event.source, event.external_id))])] == [event.event_id]
            await store.release(conn, event.event_id)

    async def sweep():
        await turn_taken.wait()
        async with notifier.runtime.unit_of_work() as uow:
            return await release_held(Later(notifier, HOLD_AT_MOST * 2), uow, HELD_BATCH)
    await asyncio.wait_for(asyncio.gather(arrival(), sweep()), 30)  # both commit
    assert not await pool.fetchval("SELECT count(*) FROM held_event WHERE event_id = $1", event.event_id)
