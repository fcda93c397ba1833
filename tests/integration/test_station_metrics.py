"""reporting's headline figures as gauges: this month's summary, over the whole city, on the clock."""
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from services.reporting import station_metrics
from services.reporting.app import SERVICE
from tests.builders.reporting import EXPECTED, at, station_week
from tests.clock import SetClock
from tests.conftest import isolated_settings
from tests.support import announce, eventually, handled, metric, running, until_handled

pytestmark = pytest.mark.integration


def gauges() -> dict[str, float | None]:
    return {name: REGISTRY.get_sample_value("linli_station_figure", {"figure": name})
            for name in station_metrics.HEADLINE}


async def _refreshing(reporting) -> bool:
    """reporting's worker that keeps the gauges has come round at least once and is alive."""
    return (await reporting.get("/readyz")).json()["workers"].get("station figures") == "ok"


async def test_the_headline_figures_are_this_months_summary_kept_by_a_worker(servers):
    clock = SetClock(at(3, 21))  # the evening of the station's week, in March 2026
    with isolated_settings(servers) as settings:
        async with running(SERVICE, settings, clock) as reporting:
            await eventually(lambda: _refreshing(reporting))
            events = station_week()
            before = await handled(reporting, "reporting")
            for event in events:
                await announce(settings, event)
            await until_handled(reporting, "reporting", before, len(events))

            await station_metrics.refresh(reporting.app.state.deps)
            assert gauges() == {name: EXPECTED[name] for name in station_metrics.HEADLINE}
            assert await metric(reporting, "linli_station_figure", figure="sessions") == EXPECTED["sessions"]

            clock.advance(timedelta(days=31))  # April: nothing has happened this month yet
            await station_metrics.refresh(reporting.app.state.deps)
            assert set(gauges().values()) == {0}

