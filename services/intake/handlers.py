"""intake's broker handlers: the submissions of `linli.intake` (each through the pipeline of
submissions.py), and what matching reports about requests, for status queries and publishers."""
from services.intake import store
from services.intake.context import Intake
from services.intake.submissions import Kind, count, over_broker, take
from shared.consumer import Envelope
from shared.events import (Event, RequestAssigned, RequestCancelled, RequestCompleted, RequestDuplicate,
                           RequestEscalated, RequestHandledByStaff, RequestMissed)
from shared.statuses import RequestStatus
from shared.unit_of_work import UnitOfWork


def on_submission(kind: Kind):
    """The broker handler of one kind of submission: given the raw message, since bad input is
    a rejection with its reason, not a dead letter. The publisher is the message's user_id."""
    async def handle(intake: Intake, uow: UnitOfWork, envelope: Envelope) -> None:
        result = await take(intake, uow, kind, envelope.body, envelope.correlation_id, envelope.message_id,
                            over_broker(envelope.user_id))
        uow.after_commit(lambda: count(kind, result))
    return handle


async def _follow(intake: Intake, uow: UnitOfWork, event: Event, status: RequestStatus, detail: dict) -> None:
    """Record what matching reports; the publisher hears of it only if the status moved."""
    if await store.set_status(uow.connection, event.request_id, status, detail, event.occurred_at):
        await intake.status_webhooks.queue_request(uow, event, status, **detail)


async def on_request_assigned(intake: Intake, uow: UnitOfWork, event: RequestAssigned) -> None:
    await _follow(intake, uow, event, RequestStatus.ASSIGNED, event.model_dump(
        mode="json", include={"occurrence", "volunteers"}))


async def on_request_completed(intake: Intake, uow: UnitOfWork, event: RequestCompleted) -> None:
    """Done; a recurring request goes on with its next occurrence (and is received again for it)."""
    detail = event.model_dump(mode="json", include={"occurrence", "hours", "people_served", "next_occurrence"})
    status = RequestStatus.COMPLETED if event.next_occurrence is None else RequestStatus.RECEIVED
    await _follow(intake, uow, event, status, detail)


async def on_request_missed(intake: Intake, uow: UnitOfWork, event: RequestMissed) -> None:
    detail = event.model_dump(mode="json", include={"occurrence", "window_end", "next_occurrence"})
    status = RequestStatus.MISSED if event.next_occurrence is None else RequestStatus.RECEIVED
    await _follow(intake, uow, event, status, detail)


async def on_request_escalated(intake: Intake, uow: UnitOfWork, event: RequestEscalated) -> None:
    await _follow(intake, uow, event, RequestStatus.ESCALATED, {"reason": event.reason})


async def on_request_handled_by_staff(intake: Intake, uow: UnitOfWork, event: RequestHandledByStaff) -> None:
    """Staff did the service themselves: done for the publisher, as a volunteer's report would be."""
    detail = event.model_dump(mode="json", include={"occurrence", "hours", "people_served", "next_occurrence"})
    status = RequestStatus.COMPLETED if event.next_occurrence is None else RequestStatus.RECEIVED
    await _follow(intake, uow, event, status, {**detail, "handled_by_staff": True})


async def on_request_cancelled(intake: Intake, uow: UnitOfWork, event: RequestCancelled) -> None:
    """Staff cancelled the request as not needed (matching's event); a publisher's own
    cancellation is intake's and already recorded."""
    if event.cancelled_by is not None:
        await _follow(intake, uow, event, RequestStatus.CANCELLED, {"reason": event.reason, "by": "staff"})


async def on_request_duplicate(intake: Intake, uow: UnitOfWork, event: RequestDuplicate) -> None:
    """Staff linked the request to another as the same need (intake's own links are recorded)."""
    if event.linked_by is not None:
        await _follow(intake, uow, event, RequestStatus.DUPLICATE, {"duplicate_of": str(event.duplicate_of)})
