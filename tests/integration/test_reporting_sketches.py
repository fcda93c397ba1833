"""reporting's sketches (migration 0008) against real PostgreSQL: two months of a few hundred
services, projected in a shuffled order with every event told twice, give the distinct people
and duration percentiles of the facts within their bounds, per community and category too; and
the sketches the events built are byte for byte those that the migration's fill makes from the
facts, so that a receipt after its completion, or an earlier time told later, counts as it should."""
import random
from datetime import datetime, timedelta

import asyncpg
import pytest

from services.reporting import tables
from services.reporting.app import SERVICE
from services.reporting.domain.figures import finish
from services.reporting.domain.scope import Scope
from services.reporting.domain.sketches import ESTIMATES, RELATIVE_ERROR, STANDARD_ERROR, distinct, registers_of
from services.reporting.handlers import project_event
from services.reporting.store import reports
from services.reporting.store.archive import READ_MODELS
from shared.submissions import Beneficiary
from tests.builders.reporting import CITY, Request, _volunteer, reported
from tests.integration.test_reporting import AREAS
from tests.conftest import isolated_settings
from tests.support import running

pytestmark = pytest.mark.integration

START = datetime(2026, 2, 1, 8, tzinfo=CITY)
TWO_MONTHS = Scope(datetime(2026, 2, 1).date(), datetime(2026, 3, 31).date())
CATEGORIES = ("elder_care.meals", "elder_care.home_visit")
FACTS = (reports.VOLUNTEERS_AT_WORK, reports.SERVED, reports.TIMES_TO_ASSIGN, reports.TIMES_TO_COMPLETE)


def two_months(rng: random.Random) -> list:
    """300 requests over February and March in three communities, served by 40 volunteers for
    150 people; some completed by two, some reported with other hours, some a second time earlier."""
    volunteers = [_volunteer(f"v{n}", f"c-{n % 3}", "康乃馨", START) for n in range(40)]
    residents = [Beneficiary(name=f"居民{n}", phone=f"139{n:08d}") for n in range(150)]
    events = list(volunteers)
    for n in range(300):
        received = START + timedelta(hours=rng.uniform(0, 24 * 57))
        request = Request(f"c-{n % 3}", rng.choice(CATEGORIES), received, rng.choice(residents + [None]))
        assigned = received + timedelta(minutes=rng.uniform(0.5, 300))
        done = request.completed(assigned + timedelta(hours=rng.uniform(1, 30)), rng.sample(volunteers, rng.choice((1, 2))),
                                 rng.choice((1.0, 2.5)), 1)
        events += [request.received, request.assigned(assigned), done]
        if n % 4 == 0:
            events.append(reported(done, 0, 0.5, done.occurred_at))
        if n % 10 == 0:  # matching told the assignment twice, the earlier time last
            events.append(request.assigned(assigned - timedelta(minutes=5)))
    return events


async def project(deps, events) -> None:
    for event in events:
        async with deps.runtime.unit_of_work() as uow:
            await project_event(deps, uow, event)


def exact(counts: dict) -> dict:
    return finish(counts, {step: counts.pop(f"seconds_to_{step}") for step in ("assign", "complete")})


def within_bound(name: str, estimate, truth) -> bool:
    if truth is None or estimate is None:
        return estimate == truth
    if name.endswith(("_assign", "_complete")):
        return abs(estimate - truth) <= RELATIVE_ERROR * truth + 0.1
    return abs(estimate - truth) <= max(1, 4 * STANDARD_ERROR * truth)


@pytest.fixture(scope="module")
async def projected(servers):
    rng = random.Random(16)
    events = two_months(rng)
    shuffled = rng.sample(events, len(events))
    with isolated_settings(servers) as settings:
        async with running(SERVICE, settings.model_copy(update={"matching_areas_file": AREAS})) as client:
            await project(client.app.state.deps, [event for event in shuffled for _ in (0, 1)])
            yield client, settings


@pytest.mark.parametrize("group, scope", [
    ("all", TWO_MONTHS), ("community", TWO_MONTHS), ("category", TWO_MONTHS),
    ("all", Scope(TWO_MONTHS.first, datetime(2026, 3, 20).date())),                  # a month and 20 days of facts
    ("month", Scope(TWO_MONTHS.first, TWO_MONTHS.last, category="elder_care.home_visit")),
    ("community", Scope(TWO_MONTHS.first, TWO_MONTHS.last, category="elder_care.meals")),
    ("category", Scope(TWO_MONTHS.first, TWO_MONTHS.last, communities=("c-0", "c-2"))),
])
async def test_the_sketches_give_the_facts_figures_within_their_bounds(projected, group, scope):
    deps = projected[0].app.state.deps
    async with deps.runtime.pool.acquire() as conn:
        estimated = {row[group]: row for row in (await tables.figures(conn, deps, group, scope)).rows}
        truth = await reports.figures(conn, group, scope, {}, sources=FACTS)
    assert estimated.keys() == truth.keys() and len(truth) > 0
    off = {(key, name): (estimated[key][name], exact(dict(counts))[name])
           for key, counts in truth.items() for name in ESTIMATES
           if not within_bound(name, estimated[key][name], exact(dict(counts))[name])}
    assert off == {}


async def test_the_api_says_which_figures_are_estimates_and_their_bounds(projected):
    client = projected[0]
    months = (await client.get("/api/v1/reports/summary", params={"from": "2026-02-01"})).json()
    days = (await client.get("/api/v1/reports/summary", params={"from": "2026-02-02", "to": "2026-02-20"})).json()
    # 40 volunteers with random ids: two may share a register (about one run in six), which the bound allows
    assert months["estimates"] == ESTIMATES and within_bound("active_volunteers", months["figures"]["active_volunteers"], 40)
    assert days["estimates"] == {}  # no whole month: from the facts, exact


async def test_what_the_events_built_is_what_the_fill_makes_from_the_facts(projected):
    _, settings = projected
    owner = await asyncpg.connect(settings.database_url, server_settings={"search_path": "reporting"})
    try:
        built = {table: await owner.fetch(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4")
                 for table in ("reach_sketch", "duration_histogram")}
        hours = await owner.fetch("SELECT month, community_code, category, volunteer_hours FROM request_month_rollup "
                                  "ORDER BY 1, 2, 3")
        await owner.execute("TRUNCATE reach_sketch, duration_histogram; UPDATE request_rollup SET volunteer_hours = 0; "
                            "UPDATE request_month_rollup SET volunteer_hours = 0")
        await owner.execute("CALL sketches_fill(); CALL volunteer_hours_fill()")
        filled = {table: await owner.fetch(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4") for table in built}
        refilled_hours = await owner.fetch("SELECT month, community_code, category, volunteer_hours "
                                           "FROM request_month_rollup ORDER BY 1, 2, 3")
    finally:
        await owner.close()
    assert filled == built and len(built["reach_sketch"]) > 0
    assert refilled_hours == hours
    assert {"reach_sketch", "duration_histogram"} <= set(READ_MODELS)  # a rebuild empties and refills them


@pytest.mark.parametrize("count", [30, 3_000, 100_000])
async def test_the_sql_hash_counts_a_known_set_within_four_standard_errors(projected, count):
    deps = projected[0].app.state.deps
    async with deps.runtime.pool.acquire() as conn:
        slots = await conn.fetchval("SELECT array_agg(hll_slot('person-' || i)) FROM generate_series(1, $1) AS i", count)
    assert abs(distinct(registers_of(slots)) - count) <= max(1, 4 * STANDARD_ERROR * count)
