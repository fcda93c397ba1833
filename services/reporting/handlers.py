"""reporting's handler: each event is archived once and projected once, and the dashboards hear
of it at commit."""
from prometheus_client import Counter

from services.reporting import live
from services.reporting.context import Reporting
from services.reporting.store import archive
from services.reporting.store.projections import project
from shared.events import Event
from shared.unit_of_work import UnitOfWork

PROJECTED = Counter("linli_reporting_events_projected_total", "Events projected into the figures", ["routing_key"])


async def project_event(reporting: Reporting, uow: UnitOfWork, event: Event) -> None:
    """Two guards, both in the projection's transaction: the consumer's claim stops a
    redelivered message, the archive's event_id stops the same event re-published under another
    message id."""
    if not await archive.keep(uow.connection, event):
        return
    await project(uow.connection, event, reporting.city_timezone)
    await live.announce(uow.connection)
    uow.after_commit(PROJECTED.labels(event.routing_key).inc)
