"""reporting's projections in many orders of the same week, each event handled to the end
before the next (so that the order is the one chosen, not the broker's): every figure and table
the API serves comes out the same as in the order the events happened. Completions before
receipts, acceptances and reports before their steps, a case's escalations before it arrived."""
import random

import asyncpg
import pytest

from services.reporting.app import SERVICE
from services.reporting.handlers import project_event
from tests.builders.reporting import off_bounds, station_week
from tests.integration.test_reporting import AREAS, everything, get
from tests.support import running

pytestmark = pytest.mark.integration

TABLES = ("event_archive", "request_rollup", "request_month_rollup", "dispute_rollup", "dispute_month_rollup",
          "request_fact", "occurrence_fact", "participation", "reported_hours", "volunteer", "reach_sketch",
          "duration_histogram")


def orders(events: list) -> dict[str, list]:
    """As they happened, backwards, the latest kinds of event first, each twice, and shuffles."""
    stage = ("Completion", "Closed", "Completed", "Missed", "Cancelled", "Escalated", "Assigned", "Registered")
    def lateness(event) -> int:
        return next((i for i, word in enumerate(stage) if word in type(event).__name__), len(stage))
    chosen = {"in order": events, "backwards": events[::-1], "latest kinds first": sorted(events, key=lateness),
              "each twice": [event for event in events for _ in (0, 1)][::-1]}
    for seed in range(6):
        chosen[f"shuffle {seed}"] = random.Random(seed).sample(events, len(events))
    return chosen


async def figures_after(reporting, events: list) -> dict:
    """The API's tables once `events` alone are projected, one after the other, into empty read models."""
    deps = reporting.app.state.deps
    owner = await asyncpg.connect(deps.runtime.settings.database_url)  # the service's own role may not empty them
    try:
        await owner.execute(f"TRUNCATE {', '.join('reporting.' + table for table in TABLES)}")
    finally:
        await owner.close()
    for event in events:
        async with deps.runtime.unit_of_work() as uow:
            await project_event(deps, uow, event)
    return await everything(reporting)


async def test_every_order_of_the_week_gives_the_same_figures_and_tables(fresh_settings):
    events = station_week()
    async with running(SERVICE, fresh_settings.model_copy(update={"matching_areas_file": AREAS})) as reporting:
        results = {name: await figures_after(reporting, order) for name, order in orders(events).items()}
        summary = (await get(reporting, "summary"))["figures"]
    assert off_bounds(summary) == {}  # the last order's figures are the week's
    in_order = results.pop("in order")
    assert {name: tables for name, tables in results.items() if tables != in_order} == {}
