"""Two of reporting's batches at once (tests/batches.py), against real PostgreSQL. Each batch's
second message touches what the other's first did: rollup cells of two communities, two
requests, two assignments. They do not deadlock: the cells are written at the commit, sorted,
and a batch takes its requests' and assignments' locks first, sorted. And what a batch of 32
receipts costs."""
import asyncio
import contextlib
import dataclasses
import uuid
from datetime import datetime, timedelta

import pytest

from services.reporting.app import SERVICE
from shared.events import CompletionReported, RequestCancelled, RequestReceived
from tests.batches import crossed, deliveries, subscription
from tests.builders.reporting import CITY, Request, _volunteer
from tests.conftest import isolated_settings
from tests.integration.test_reporting import AREAS
from tests.support import running

pytestmark = pytest.mark.integration

DAY = datetime(2026, 3, 2, 9, tzinfo=CITY)
VOLUNTEER = _volunteer("v1", "east-1", "康乃馨", DAY)


def received(community: str):
    return Request(community, "elder_care.meals", DAY).received


def completed(community: str):
    """A completion: rollup cells, and the sketches' (its volunteer's, at three levels)."""
    return Request(community, "elder_care.meals", DAY).completed(DAY + timedelta(hours=2), [VOLUNTEER], 1.0, 1)


def cancelled(request_id) -> RequestCancelled:
    return RequestCancelled(correlation_id="c", occurred_at=DAY, request_id=request_id, source="hotline-12345",
                            external_id=request_id.hex, category="elder_care.meals", community_code="east-1")


def report(assignment_id) -> CompletionReported:
    return CompletionReported(correlation_id="c", occurred_at=DAY, hours=1.5, people_served=1,
                              assignment_id=assignment_id)


def crossing(kind: str) -> tuple[list, list]:
    """Two batches that touch the same two things in opposite orders."""
    if kind in ("cells", "sketches"):  # four requests, in two communities' cells
        make = received if kind == "cells" else completed
        return [make("east-1"), make("west-1")], [make("west-1"), make("east-1")]
    ids = uuid.uuid4(), uuid.uuid4()
    make = cancelled if kind == "requests" else report
    return [make(ids[0]), make(ids[1])], [make(ids[1]), make(ids[0])]


@pytest.fixture(scope="module")
async def reporting(servers):
    with isolated_settings(servers) as settings:
        async with running(SERVICE, settings.model_copy(update={"matching_areas_file": AREAS})) as client:
            yield client.app.state.deps


@pytest.mark.parametrize("kind", ["cells", "sketches", "requests", "assignments"])
async def test_two_batches_touching_the_same_rows_in_opposite_orders_both_commit(reporting, kind):
    assert await crossed(SERVICE, reporting, *crossing(kind)) == [["done", "done"], ["done", "done"]]


async def test_a_batch_of_32_receipts_in_one_cell_writes_the_cell_in_two_statements(reporting):
    """One statement for the day cell and one for the month cell, whatever the batch's size: 230
    statements in all (7 a receipt, 6 a batch), where writing the cells at each receipt took 259.
    Counted on the second batch: the first teaches the connection the statements' types."""
    subscribed = subscription(SERVICE, RequestReceived)
    async with reporting.runtime.pool.acquire() as conn:
        deps = dataclasses.replace(reporting, runtime=dataclasses.replace(reporting.runtime, pool=OnePool(conn)))
        for _ in range(2):
            statements = []
            events = [Request("east-2", "elder_care.meals", DAY + timedelta(minutes=n)).received for n in range(32)]
            async with counted(conn, statements):
                assert await subscribed.handle(deps, deliveries(subscribed.queue, events)) == ["done"] * 32
    assert [query.split()[2] for query in statements if "rollup" in query] == ["request_rollup",
                                                                               "request_month_rollup"]
    assert len(statements) <= 7 * 32 + 6, statements


@contextlib.asynccontextmanager
async def counted(conn, statements: list[str]):
    """Every statement sent on `conn` meanwhile, into `statements`."""
    with conn.query_logger(lambda query: statements.append(query.query)):
        yield
        await asyncio.sleep(0)  # each is told soon after it is sent


class OnePool:
    """A pool of one connection, lent again and again (the unit of work's transaction on it)."""

    def __init__(self, conn):
        self.conn = conn

    async def acquire(self):
        return self.conn

    async def release(self, conn):
        pass
