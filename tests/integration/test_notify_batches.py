"""Two of notify's batches at once (tests/batches.py), against real PostgreSQL. Each batch's
second message takes the turns the other's first took: two volunteers' contacts (registrations,
offers to them), two communities' backlog windows (escalations). They do not deadlock: a batch
takes every turn its messages will take first, in the one order (store.take_turns). Nor does an
arrival that takes the assignment turns of the events it releases after its own."""
import asyncio
import uuid

import pytest

from services.notify import store
from services.notify.app import SERVICE
from services.notify.domain.ordering import assignment_turn, contact_of, turns
from tests.batches import crossed
from tests.builders.notify import offer, registered
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
