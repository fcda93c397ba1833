"""reporting's handler: each event is archived once and projected once, and the dashboards hear
of it at commit."""
from prometheus_client import Counter

from services.reporting import live
from services.reporting.context import Reporting
from services.reporting.store import archive
from services.reporting.store.projections import project
from shared.consumer import Envelope, Handler
from shared.events import Event

PROJECTED = Counter("linli_reporting_events_projected_total", "Events projected into the figures", ["routing_key"])


def projecting(event_type: type[Event]) -> Handler:
    """The handler of events of `event_type`.

    Two guards, both in the projection's transaction: the claim stops a redelivered message, the
    archive's event_id stops the same event re-published under another message id.
    """
    async def project_event(reporting: Reporting, envelope: Envelope) -> None:
        event = event_type.model_validate_json(envelope.body)
        async with reporting.runtime.unit_of_work() as uow:
            if not await uow.claim(envelope) or not await archive.keep(uow.connection, event):
                return
            await project(uow.connection, event, reporting.city_timezone)
            await live.announce(uow.connection)
        PROJECTED.labels(event.routing_key).inc()
    return project_event
