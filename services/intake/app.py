"""intake's wiring: its queues, its handlers, its API."""
from pathlib import Path

from services.intake import api, handlers
from shared.consumer import Consumers
from shared.service import ServiceDefinition
from shared.events import RequestAssigned, RequestEscalated
from shared.topology import INTAKE

consumers = Consumers()
consumers.add("intake.request-submit", INTAKE, "request.submit", handlers.on_request_submit)
consumers.add("intake.volunteer-register", INTAKE, "volunteer.register", handlers.on_volunteer_register)
consumers.on_event("intake", RequestAssigned, handlers.on_request_assigned)
consumers.on_event("intake", RequestEscalated, handlers.on_request_escalated)

SERVICE = ServiceDefinition(name="intake", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations")
