"""matching's wiring: its queues, its handlers, its API."""
from pathlib import Path

from services.matching import api, handlers
from shared.consumer import Consumers
from shared.service import ServiceDefinition
from shared.topology import EVENTS

consumers = Consumers()
consumers.add("matching.volunteer-registered", EVENTS, "volunteer.registered", handlers.on_volunteer_registered)
consumers.add("matching.request-received", EVENTS, "request.received", handlers.on_request_received)

SERVICE = ServiceDefinition(name="matching", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations")
