"""intake's wiring: its queues, its handlers, its API."""
from pathlib import Path

from fastapi import APIRouter

from services.intake import api, handlers, open311
from services.intake.sources import load_sources
from services.intake.status_webhooks import StatusWebhooks
from shared.consumer import Consumers
from shared.events import RequestAssigned, RequestCompleted, RequestEscalated, RequestMissed
from shared.service import Runtime, ServiceDefinition
from shared.topology import INTAKE

consumers = Consumers()
for kind in handlers.KINDS:  # intake.request-submit, intake.volunteer-register, intake.case-submit, …
    consumers.add(f"intake.{kind.routing_key.replace('.', '-')}", INTAKE, kind.routing_key, handlers.on_submission(kind))
consumers.on_event("intake", RequestAssigned, handlers.on_request_assigned)
consumers.on_event("intake", RequestEscalated, handlers.on_request_escalated)
consumers.on_event("intake", RequestCompleted, handlers.on_request_completed)
consumers.on_event("intake", RequestMissed, handlers.on_request_missed)



def intake(runtime: Runtime) -> handlers.Intake:
    settings = runtime.settings
    sources = load_sources(settings.intake_sources_file, settings.intake_accept_unknown_sources)
    return handlers.Intake(runtime, sources, StatusWebhooks(runtime, sources))


http = APIRouter()  # /api/v1 and /open311/v2
http.include_router(api.router)
http.include_router(open311.router)

SERVICE = ServiceDefinition(name="intake", consumers=consumers, api=http,
                            migrations=Path(__file__).parent / "migrations", make_deps=intake,
                            background=lambda intake: [intake.status_webhooks.run()])
