"""intake's wiring: its queues, its handlers, its API."""
from pathlib import Path

from fastapi import APIRouter

from services.intake import api, erasure, handlers, open311, staff_api
from services.intake.context import Intake
from services.intake.submissions import EXPIRED_BATCH, KINDS, refuse_expired_cancellations
from shared.consumer import Consumers
from shared.events import (AssignmentResponded, CampaignStarted, CaseReceived, CompletionReported, ErasureDone,
                           HouseholdRegistered, PersonErased, RequestAssigned, RequestCancelled, RequestCompleted,
                           RequestDuplicate, RequestEscalated, RequestHandledByStaff, RequestMissed, RequestReceived,
                           VolunteerRegistered)
from shared.retention import Prune
from shared.service import ServiceDefinition
from shared.sweeper import Sweeper
from shared.topology import INTAKE

consumers = Consumers()
for kind in KINDS:  # intake.request-submit, intake.volunteer-register, intake.household-register, …
    # No size limit of the consumer's: parse_submission rejects an oversized body, with the reason.
    consumers.add(f"intake.{kind.routing_key.replace('.', '-')}", INTAKE, kind.routing_key, handlers.on_submission(kind),
                  max_bytes=None, prepare=kind.prepare)
consumers.add("intake.person-erase", INTAKE, "person.erase", erasure.on_erase)
consumers.on_event("intake", RequestAssigned, handlers.on_request_assigned)
consumers.on_event("intake", RequestEscalated, handlers.on_request_escalated)
consumers.on_event("intake", RequestCompleted, handlers.on_request_completed)
consumers.on_event("intake", RequestMissed, handlers.on_request_missed)
# What staff did by hand (matching's events): the publisher hears of it as of any other status.
consumers.on_event("intake", RequestHandledByStaff, handlers.on_request_handled_by_staff)
consumers.on_event("intake", RequestCancelled, handlers.on_request_cancelled)
consumers.on_event("intake", RequestDuplicate, handlers.on_request_duplicate)


def _expiry(intake: Intake) -> Sweeper:
    """Refuses the cancellations whose request never came (submissions.refuse_expired_cancellations)."""
    return Sweeper("early cancellations", lambda: refuse_expired_cancellations(intake), EXPIRED_BATCH,
                   poll_seconds=1.0)


http = APIRouter()  # /api/v1 and /open311/v2
http.include_router(api.router)
http.include_router(staff_api.router)
http.include_router(open311.router)

SERVICE = ServiceDefinition(name="intake", consumers=consumers, api=http,
                            migrations=Path(__file__).parent / "migrations", make_deps=Intake.of,
                            background=lambda intake: [intake.status_webhooks.run(), _expiry(intake).run()],
                            api_keys=lambda intake, key: intake.sources.caller_for_key(key),
                            retention=(Prune("rejection", "rejected_at"),
                                       Prune("status_update", "COALESCE(sent_at, created_at)", "status <> 'pending'")),
                            publishes=(RequestReceived, RequestDuplicate, RequestCancelled, CaseReceived,
                                       VolunteerRegistered, AssignmentResponded, CompletionReported, PersonErased,
                                       ErasureDone, HouseholdRegistered, CampaignStarted,
                                       *(kind.rejected for kind in KINDS)))
