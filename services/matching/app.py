"""matching's wiring: its queues, its handlers, its API."""
from pathlib import Path

from services.matching import api, handlers
from shared.consumer import Consumers
from shared.service import ServiceDefinition
from shared.events import RequestReceived, VolunteerRegistered

consumers = Consumers()
consumers.on_event("matching", VolunteerRegistered, handlers.on_volunteer_registered)
consumers.on_event("matching", RequestReceived, handlers.on_request_received)

SERVICE = ServiceDefinition(name="matching", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations")
