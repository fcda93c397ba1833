"""The station's headline figures for this month (on the city's clock) over the whole city, as
Prometheus gauges (`linli_station_figure{figure=…}`), for the operations board beside the
system's own metrics.

They come from reporting's own summary (tables.summary), read by a background worker every
REFRESH_SECONDS, never at a scrape: a scrape must not cost a report query."""
from datetime import datetime

from prometheus_client import Gauge

from services.reporting import tables
from services.reporting.context import Reporting
from services.reporting.domain.periods import day_of, period_start
from services.reporting.domain.scope import Scope
from shared.sweeper import Sweeper

# The figures exported, as reporting names them (domain/figures.py): a fixed set, so the label is bounded.
HEADLINE = ("sessions", "person_times", "service_hours", "participations", "disputes_received",
            "disputes_agreed", "households_visited")
REFRESH_SECONDS = 30.0
FIGURE = Gauge("linli_station_figure", "The station's headline figures this month (city time), over the whole "
               "city, as reporting's summary gives them", ["figure"])


def this_month(now: datetime, city_timezone: str) -> Scope:
    """From the first of this month to today, on the city's clock."""
    today = day_of(now, city_timezone)
    return Scope(first=period_start(today, "month"), last=today)


async def refresh(reporting: Reporting) -> int:
    """Read this month's summary and set the gauges; returns 0 (one round of the worker's loop)."""
    async with reporting.runtime.pool.acquire() as conn:
        figures = await tables.summary(conn, reporting, this_month(reporting.now(), reporting.city_timezone))
    for name in HEADLINE:
        FIGURE.labels(name).set(figures[name] or 0)
    return 0


async def run(reporting: Reporting) -> None:
    """Refresh now and every REFRESH_SECONDS (a failed round is logged and tried again at the next)."""
    await Sweeper("station figures", lambda: refresh(reporting), 1, REFRESH_SECONDS).run()
