"""reporting's wiring: its queues, its handler, its API, the listener that makes it live."""
from pathlib import Path

from services.reporting import api, live
from services.reporting.context import Reporting
from services.reporting.handlers import project_event
from services.reporting.store.projections import PROJECTIONS
from shared.consumer import Consumers
from shared.service import ServiceDefinition

consumers = Consumers()
for event_type in PROJECTIONS:  # queues reporting.request-received, reporting.volunteer-registered, …
    consumers.on_event("reporting", event_type, project_event)

SERVICE = ServiceDefinition(
    name="reporting", consumers=consumers, api=api.router, migrations=Path(__file__).parent / "migrations",
    make_deps=Reporting.of,
    background=lambda reporting: [live.listen(reporting.runtime.settings.database_url, reporting.changes)])
