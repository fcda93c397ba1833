"""intake's handlers: one function per message. A request reaches linli by one path,
`receive_request`, whether it came over the broker or over HTTP."""
from dataclasses import dataclass
from uuid import UUID

from prometheus_client import Counter

from services.intake import store
from services.intake.domain import Rejection, S, parse_submission
from services.intake.sources import Sources, unknown_source_reason
from shared.consumer import Envelope
from shared.events import (Event, RequestAssigned, RequestEscalated, RequestReceived, RequestRejected,
                           SubmissionRejected, VolunteerRegistered, VolunteerRejected)
from shared.service import Runtime
from shared.submissions import ServiceRequestSubmission, VolunteerRegistration
from shared.unit_of_work import UnitOfWork

SUBMIT_REQUEST = "request.submit"
REGISTER_VOLUNTEER = "volunteer.register"

SUBMISSIONS = Counter("linli_intake_submissions_total", "Submissions taken in, by outcome",
                      ["submission", "outcome"])


@dataclass(frozen=True)
class Intake:
    """What intake's handlers and API are given."""

    runtime: Runtime
    sources: Sources

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()


@dataclass(frozen=True)
class Received:
    request_id: UUID
    duplicate: bool

    @property
    def outcome(self) -> str:
        return "duplicate" if self.duplicate else "received"


async def receive_request(uow: UnitOfWork, sources: Sources, body: bytes, correlation_id: str,
                          message_id: str | None = None, sent_by: str | None = None) -> Received | Rejection:
    """Validate, de-duplicate on (source, external_id), store, and announce a request.
    `sent_by` is the source an HTTP caller's API key proves; the body must name the same."""
    submission = _admitted(parse_submission(ServiceRequestSubmission, body), sources, sent_by)
    if isinstance(submission, Rejection):
        await _reject(uow, RequestRejected, SUBMIT_REQUEST, submission, body, correlation_id, message_id)
        return submission
    request_id = await store.insert_request(uow.connection, submission, correlation_id)
    if request_id is None:
        existing = await store.request_by_key(uow.connection, submission.source, submission.external_id)
        return Received(existing["request_id"], duplicate=True)
    await uow.emit(RequestReceived(**submission.model_dump(), request_id=request_id,
                                   correlation_id=correlation_id))
    return Received(request_id, duplicate=False)


async def register_volunteer(uow: UnitOfWork, sources: Sources, body: bytes, correlation_id: str,
                             message_id: str | None = None) -> str:
    """A new volunteer or an update of a known one; either way the roster hears of it."""
    registration = _admitted(parse_submission(VolunteerRegistration, body), sources)
    if isinstance(registration, Rejection):
        await _reject(uow, VolunteerRejected, REGISTER_VOLUNTEER, registration, body, correlation_id, message_id)
        return "rejected"
    volunteer_id = await store.upsert_volunteer(uow.connection, registration)
    await uow.emit(VolunteerRegistered(**registration.model_dump(), volunteer_id=volunteer_id,
                                       correlation_id=correlation_id))
    return "registered"


def _admitted(submission: S | Rejection, sources: Sources, sent_by: str | None = None) -> S | Rejection:
    """A valid submission from a source linli knows (and, over HTTP, the one the key proves)."""
    if isinstance(submission, Rejection):
        return submission
    identity = {"source": submission.source, "external_id": submission.external_id,
                "community_code": getattr(submission, "community_code", None)}
    if sent_by is not None and submission.source != sent_by:
        return Rejection(f"source {submission.source!r} is not the one of the API key ({sent_by!r})", **identity)
    if not sources.accepts(submission.source):
        return Rejection(unknown_source_reason(submission.source), **identity)
    return submission


async def _reject(uow: UnitOfWork, event_type: type[SubmissionRejected], submission: str,
                  rejection: Rejection, body: bytes, correlation_id: str, message_id: str | None) -> None:
    await store.record_rejection(uow.connection, submission, rejection, body, message_id)
    await uow.emit(event_type(correlation_id=correlation_id, submission=submission, reason=rejection.reason,
                              source=rejection.source, external_id=rejection.external_id,
                              community_code=rejection.community_code))


async def on_request_submit(intake: Intake, envelope: Envelope) -> None:
    async with intake.unit_of_work() as uow:
        if not await uow.claim(envelope):
            return
        result = await receive_request(uow, intake.sources, envelope.body, envelope.correlation_id,
                                       envelope.message_id)
    SUBMISSIONS.labels(SUBMIT_REQUEST, "rejected" if isinstance(result, Rejection) else result.outcome).inc()


async def on_volunteer_register(intake: Intake, envelope: Envelope) -> None:
    async with intake.unit_of_work() as uow:
        if not await uow.claim(envelope):
            return
        outcome = await register_volunteer(uow, intake.sources, envelope.body, envelope.correlation_id,
                                           envelope.message_id)
    SUBMISSIONS.labels(REGISTER_VOLUNTEER, outcome).inc()


async def _follow(intake: Intake, envelope: Envelope, event: Event, status: str, detail: dict) -> None:
    async with intake.unit_of_work() as uow:
        if await uow.claim(envelope):
            await store.set_status(uow.connection, event.request_id, status, detail, event.occurred_at)


async def on_request_assigned(intake: Intake, envelope: Envelope) -> None:
    event = RequestAssigned.model_validate_json(envelope.body)
    await _follow(intake, envelope, event, "assigned", event.model_dump(
        mode="json", include={"assignment_id", "volunteer"}))


async def on_request_escalated(intake: Intake, envelope: Envelope) -> None:
    event = RequestEscalated.model_validate_json(envelope.body)
    await _follow(intake, envelope, event, "escalated", {"reason": event.reason})
