"""matching's handlers: one function per message."""
from prometheus_client import Counter

from services.matching import store
from services.matching.domain import Choice, choose_volunteer
from shared.catalogue import skills_for
from shared.consumer import Envelope
from shared.events import (AssignmentOffered, RequestAssigned, RequestEscalated, RequestReceived,
                           VolunteerRef, VolunteerRegistered)
from shared.service import Runtime
from shared.unit_of_work import UnitOfWork

# How many of the least loaded able volunteers one decision weighs.
CANDIDATES_WEIGHED = 20

DECISIONS = Counter("linli_matching_decisions_total", "Requests matched, by outcome", ["outcome"])


async def on_volunteer_registered(runtime: Runtime, envelope: Envelope) -> None:
    event = VolunteerRegistered.model_validate_json(envelope.body)
    async with runtime.unit_of_work() as uow:
        if await uow.claim(envelope):
            await store.save_volunteer(uow.connection, event)


async def on_request_received(runtime: Runtime, envelope: Envelope) -> None:
    event = RequestReceived.model_validate_json(envelope.body)
    async with runtime.unit_of_work() as uow:
        if not await uow.claim(envelope) or await store.request_known(uow.connection, event.request_id):
            return
        outcome = await match(uow, event)
    DECISIONS.labels(outcome).inc()


async def match(uow: UnitOfWork, event: RequestReceived) -> str:
    """Offer the request to the best volunteer of its community, or escalate it with the reason."""
    await store.lock_community(uow.connection, event.community_code)
    candidates = await store.candidates(uow.connection, event.community_code, skills_for(event.category),
                                        CANDIDATES_WEIGHED)
    decision = choose_volunteer(candidates, event.community_code, event.category)
    if isinstance(decision, Choice):
        await store.save_request(uow.connection, event, "assigned")
        assignment_id = await store.save_assignment(uow.connection, event.request_id, decision)
        await _announce_assignment(uow, event, decision, assignment_id)
        return "assigned"
    await store.save_request(uow.connection, event, "escalated", decision.reason)
    await uow.emit(RequestEscalated(**_about(event), reason=decision.reason, urgency=event.urgency))
    return "escalated"


async def _announce_assignment(uow: UnitOfWork, event: RequestReceived, choice: Choice, assignment_id) -> None:
    volunteer = VolunteerRef(volunteer_id=choice.volunteer.volunteer_id, source=choice.volunteer.source,
                             external_id=choice.volunteer.external_id)
    await uow.emit(AssignmentOffered(
        **_about(event), assignment_id=assignment_id, volunteer=volunteer, urgency=event.urgency,
        description=event.description, address=event.address,
        window_start=event.window.start if event.window else None))
    await uow.emit(RequestAssigned(**_about(event), assignment_id=assignment_id, volunteer=volunteer))


def _about(event: RequestReceived) -> dict:
    """What every event about the request carries, so its publisher and the statistics can follow it."""
    return {"correlation_id": event.correlation_id, "request_id": event.request_id, "source": event.source,
            "external_id": event.external_id, "category": event.category,
            "community_code": event.community_code}
