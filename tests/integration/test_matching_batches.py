"""A batch of answers and reports (shared/consumer.py) takes, before any handler runs, the locks
its handlers will take, each kind in one order: its communities' then its accepting volunteers'.
Two batches holding them in opposite orders would deadlock (PostgreSQL then undoes one after a
second); taken sorted, they only wait for each other. So does a batch of requests or of
registrations: its requests' and erasure locks."""
from types import SimpleNamespace

import asyncpg
import pytest

from services.matching.app import SERVICE
from services.matching.decisions import lock_answered
from services.matching.dispatch import decide
from services.matching.domain.changes import AddTask
from services.matching.domain.series import request_task
from services.matching.erasure import erasure_lock
from services.matching.handlers import lock_received
from services.matching.store import tasks
from services.matching.store.tasks import request_lock
from services.matching.timers import tick
from tests.batches import crossed
from tests.builders.matching import answer, community, done, received, registered
from tests.support import announce, enrol, event_tap, running

pytestmark = pytest.mark.integration


async def held(conn: asyncpg.Connection, kind: str, key: str) -> bool:
    """Whether another transaction holds matching's advisory lock on `key`."""
    async with conn.transaction():
        return not await conn.fetchval(f"SELECT pg_try_advisory_xact_lock(hashtext('matching.{kind}:' || $1))", key)


async def test_a_batch_of_answers_takes_its_communities_and_accepting_volunteers_locks_first(settings):
    places, volunteers, offers = [community(), community(), community()], [], []
    async with running(SERVICE, settings) as matching, event_tap(settings) as tap:
        for place in places:
            volunteers.append(registered(place, "cooking"))
            await enrol(matching, settings, volunteers[-1])
            await announce(settings, received(place, "elder_care.meals"))
            offers.append((await tap.wait_for("assignment.offered", len(offers) + 1))[-1])
    batch = [answer(offers[1], accept=True), done(offers[0]), answer(offers[0], accept=False)]
    first = await asyncpg.connect(settings.database_url, server_settings={"search_path": "matching"}, timeout=10)
    other = await asyncpg.connect(settings.database_url, timeout=10)
    try:
        async with first.transaction():
            await lock_answered(None, SimpleNamespace(connection=first), batch)
            assert [await held(other, "community", place) for place in places] == [True, True, False]
            assert [await held(other, "volunteer", str(v.volunteer_id)) for v in volunteers] == [False, True, False]
        assert not await held(other, "community", places[0])  # until the transaction ends
    finally:
        await first.close()
        await other.close()


@pytest.mark.parametrize("kind", ["requests", "registrations"])
async def test_two_batches_of_the_same_arrivals_in_opposite_orders_both_commit(settings, kind):
    """Each arrival takes its request's lock and its erasure lock (a registration, its volunteer's
    erasure lock): taken message after message, two batches of the same two, crossed, each held
    one and waited for the other's. A batch takes them all first now (lock_received, lock_registered)."""
    place = community()
    make = (lambda: received(place, "elder_care.meals")) if kind == "requests" else (
        lambda: registered(place, "cooking"))
    arrivals = [make(), make()]
    async with running(SERVICE, settings) as matching:
        outcomes = await crossed(SERVICE, matching.app.state.deps, arrivals, arrivals[::-1])
    assert outcomes == [["done", "done"], ["done", "done"]]


async def test_a_batch_of_requests_takes_its_requests_and_erasure_locks_first(settings):
    batch = [received(community(), "elder_care.meals") for _ in range(2)]
    other = await asyncpg.connect(settings.database_url, timeout=10)
    try:
        async with running(SERVICE, settings) as matching:
            async with matching.app.state.deps.unit_of_work() as uow:
                await lock_received(None, uow, batch)
                assert [await held(other, kind, str(event.request_id)) for kind in ("request", "erasure")
                        for event in batch] == [True] * 4
                assert uow.not_yet_held([request_lock(batch[0].request_id), erasure_lock(batch[1].request_id)]) == []
    finally:
        await other.close()


async def _waiting_task(matching, request) -> None:
    """The request stored with its task waiting for offers, as its arrival leaves it, but with no
    decision after it (the test makes that one)."""
    async with matching.runtime.pool.acquire() as conn:
        await tasks.save_request(conn, request)
        await tasks.insert_task(conn, AddTask(request_task(request, 1, matching.policy.service_hours)))


async def test_the_communities_of_a_batch_are_staffed_in_one_decision_each_its_oldest_first(settings):
    """After a batch of requests, the communities it touched are decided together (one unit of
    work: one transaction wrote every offer), each at most MATCHING_BATCH_SIZE of its oldest
    waiting tasks; the request beyond waits for the next decision."""
    places = sorted([community(), community()])
    quiet = settings.model_copy(update={"matching_clock_seconds": 3600, "matching_batch_size": 1})
    async with running(SERVICE, quiet) as client:
        matching = client.app.state.deps
        await enrol(client, quiet, *(registered(place, "cooking") for place in places for _ in range(2)))
        first, later, other = (received(places[0], "elder_care.meals"), received(places[0], "elder_care.meals"),
                               received(places[1], "elder_care.meals"))
        for request in (first, later, other):
            await _waiting_task(matching, request)
        assert await decide(matching, places) == []
        async with matching.runtime.pool.acquire() as conn:
            offers = await conn.fetch("SELECT t.request_id, a.xmin::text AS xact FROM assignment a "
                                      "JOIN task t USING (task_id) WHERE t.community_code = ANY($1::text[])", places)
            outbox = await conn.fetchval("SELECT count(DISTINCT xmin::text) FROM outbox "
                                         "WHERE routing_key = 'assignment.offered' AND convert_from(body, 'UTF8') LIKE ANY($1::text[])",
                                         [f"%{r.request_id}%" for r in (first, other)])
    assert sorted(str(o["request_id"]) for o in offers) == sorted([str(first.request_id), str(other.request_id)])
    assert len({o["xact"] for o in offers}) == 1 and outbox == 1


async def test_the_clock_decides_waiting_communities_together_and_sets_aside_only_the_one_at_fault(settings):
    """Communities left waiting (a process that died between a request and its decision) are
    decided together by the clock; when that decision fails, each is tried alone: the one whose
    request cannot be read is set aside, the other is offered."""
    places = sorted([community(), community()])
    quiet = settings.model_copy(update={"matching_clock_seconds": 3600})
    async with running(SERVICE, quiet) as client:
        matching = client.app.state.deps
        await enrol(client, quiet, *(registered(place, "cooking") for place in places))
        broken, sound = (received(place, "elder_care.meals") for place in places)
        for request in (broken, sound):
            await _waiting_task(matching, request)
        pool = matching.runtime.pool
        await pool.execute("UPDATE service_request SET received = '{\"request_id\": \"?\"}' WHERE request_id = $1",
                           broken.request_id)
        await tick(matching)
        offered = await pool.fetch("SELECT t.community_code FROM assignment a JOIN task t USING (task_id) "
                                   "WHERE t.community_code = ANY($1::text[])", places)
        set_aside = await pool.fetch("SELECT key FROM timer_setback WHERE timer = 'dispatch' "
                                     "AND key = ANY($1::text[])", places)
    assert [row["community_code"] for row in offered] == [sound.community_code]
    assert [row["key"] for row in set_aside] == [broken.community_code]


async def test_the_clock_decides_the_communities_it_finds_waiting_in_one_decision(settings):
    places = sorted([community(), community()])
    quiet = settings.model_copy(update={"matching_clock_seconds": 3600})
    async with running(SERVICE, quiet) as client:
        matching = client.app.state.deps
        await enrol(client, quiet, *(registered(place, "cooking") for place in places))
        for place in places:
            await _waiting_task(matching, received(place, "elder_care.meals"))
        await tick(matching)
        offers = await matching.runtime.pool.fetch(
            "SELECT a.xmin::text AS xact FROM assignment a JOIN task t USING (task_id) "
            "WHERE t.community_code = ANY($1::text[])", places)
    assert len(offers) == 2 and len({offer["xact"] for offer in offers}) == 1
