"""reporting's handler: each event is archived once and projected once, and the dashboards hear
of it at commit."""
import logging

from prometheus_client import Counter

from services.reporting import live
from services.reporting.context import Reporting
from services.reporting.domain.changes import CellChanges
from services.reporting.store import archive, cells, projections
from shared.events import ErasureDone, Event, PersonErased
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
PROJECTED = Counter("linli_reporting_events_projected_total", "Events projected into the figures", ["routing_key"])


async def project_event(reporting: Reporting, uow: UnitOfWork, event: Event) -> None:
    """Two guards, both in the projection's transaction: the consumer's claim stops a
    redelivered message, the archive's event_id stops the same event re-published under another
    message id. The cells it adds to are written with the transaction's others, before the commit."""
    if not await archive.keep(uow.connection, event, reporting.person_key):
        return
    changes = uow.collect("reporting.cells", CellChanges, cells.write)
    await projections.take_turns(uow.connection, [event], uow.not_yet_held)  # none after a batch's
    await projections.project(uow.connection, event, reporting.city_timezone, changes)
    live.announce_at_commit(uow)
    uow.after_commit(PROJECTED.labels(event.routing_key).inc)


async def take_turns(reporting: Reporting, uow: UnitOfWork, events: list[Event]) -> None:
    """A batch's requests' and assignments' locks first, sorted (shared/consumer.py's prepare)."""
    await projections.take_turns(uow.connection, events, uow.not_yet_held)


async def on_person_erased(reporting: Reporting, uow: UnitOfWork, event: PersonErased) -> None:
    """Nothing to erase: reporting holds ids, keyed beneficiaries and counts, never a name, phone
    or address (its archive keeps public forms). The keys stay, so the figures stay correct."""
    await uow.emit(ErasureDone(correlation_id=event.correlation_id, occurred_at=reporting.now(),
                               erasure_id=event.erasure_id, service="reporting", changed={}))


async def rekey_legacy(reporting: Reporting) -> None:
    """Once at start: key the requests archived before the archive kept only public forms."""
    async with reporting.runtime.pool.acquire() as conn:
        if rekeyed := await archive.rekey_legacy(conn, reporting.person_key):
            log.info("re-keyed %d archived requests with the HMAC and kept their public form", rekeyed)
