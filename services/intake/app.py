"""intake's wiring: its queues, its handlers, its API."""
from pathlib import Path

from services.intake import api, handlers
from shared.consumer import Consumers
from shared.service import ServiceDefinition
from shared.topology import EVENTS, INTAKE

consumers = Consumers()
consumers.add("intake.request-submit", INTAKE, "request.submit", handlers.on_request_submit)
consumers.add("intake.volunteer-register", INTAKE, "volunteer.register", handlers.on_volunteer_register)
consumers.add("intake.request-assigned", EVENTS, "request.assigned", handlers.on_request_assigned)
consumers.add("intake.request-escalated", EVENTS, "request.escalated", handlers.on_request_escalated)

SERVICE = ServiceDefinition(name="intake", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations")
