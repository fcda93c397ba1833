"""Two of notify's batches at once (tests/batches.py), against real PostgreSQL. Each batch's
second message takes the turns the other's first took: two volunteers' contacts (registrations,
offers to them), two communities' backlog windows (escalations). They do not deadlock: a batch
takes every turn its messages will take first, in the one order of the locks' ids."""
import uuid

import pytest

from services.notify.app import SERVICE
from services.notify.domain.ordering import turns
from tests.batches import crossed
from tests.builders.notify import offer, registered
from tests.integration.test_notify_backlog import community, escalated
from tests.support import running

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
