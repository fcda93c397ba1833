"""A batch of answers and reports (shared/consumer.py) takes, before any handler runs, the locks
its handlers will take, each kind in one order: its communities' then its accepting volunteers'.
Two batches holding them in opposite orders would deadlock (PostgreSQL then undoes one after a
second); taken sorted, they only wait for each other."""
from types import SimpleNamespace

import asyncpg
import pytest

from services.matching.app import SERVICE
from services.matching.decisions import lock_answered
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
