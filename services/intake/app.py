"""intake's wiring: its queues, its handlers, its API."""
from pathlib import Path

from services.intake import api, handlers
from shared.consumer import Consumers
from services.intake.sources import load_sources
from shared.service import Runtime, ServiceDefinition
from shared.events import RequestAssigned, RequestEscalated
from shared.topology import INTAKE

consumers = Consumers()
consumers.add("intake.request-submit", INTAKE, "request.submit", handlers.on_request_submit)
consumers.add("intake.volunteer-register", INTAKE, "volunteer.register", handlers.on_volunteer_register)
consumers.on_event("intake", RequestAssigned, handlers.on_request_assigned)
consumers.on_event("intake", RequestEscalated, handlers.on_request_escalated)



def intake(runtime: Runtime) -> handlers.Intake:
    settings = runtime.settings
    return handlers.Intake(runtime, load_sources(settings.intake_sources_file,
                                                 settings.intake_accept_unknown_sources))


SERVICE = ServiceDefinition(name="intake", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=intake)
