"""reporting's wiring: its queues, its handler, its API, the listener that makes it live."""
from pathlib import Path

from services.reporting import api, console, live, station_metrics
from services.reporting.context import Reporting
from services.reporting.handlers import on_person_erased, project_event, rekey_legacy, take_turns
from services.reporting.store.projections import PROJECTIONS
from shared.consumer import Consumers
from shared.events import ErasureDone, PersonErased, RequestReceived
from shared.service import ServiceDefinition

api.router.include_router(console.router)  # the staff console beside the dashboard
consumers = Consumers()
for event_type in PROJECTIONS:  # queues reporting.request-received, reporting.volunteer-registered, …
    # A request whole (linli.personal), only to key its beneficiary: the archive keeps the public form.
    consumers.on_event("reporting", event_type, project_event, personal=event_type is RequestReceived,
                       prepare=take_turns)
consumers.on_event("reporting", PersonErased, on_person_erased)

SERVICE = ServiceDefinition(
    name="reporting", consumers=consumers, api=api.router, migrations=Path(__file__).parent / "migrations",
    make_deps=Reporting.of, publishes=(ErasureDone,),
    background=lambda reporting: [
        live.listen(reporting.runtime.settings.database_url_of("reporting"), reporting.changes),
        rekey_legacy(reporting), station_metrics.run(reporting)])
