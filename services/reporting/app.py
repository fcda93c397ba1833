"""reporting's wiring: its queues, its handlers, its API."""
from pathlib import Path

from services.reporting import api
from services.reporting.domain import COUNTER_OF
from services.reporting.handlers import counting
from shared.consumer import Consumers
from shared.service import ServiceDefinition

consumers = Consumers()
for event_type in COUNTER_OF:  # queues reporting.request-received, reporting.request-assigned, …
    consumers.on_event("reporting", event_type, counting(event_type))

SERVICE = ServiceDefinition(name="reporting", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations")
