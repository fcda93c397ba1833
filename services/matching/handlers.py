"""matching's handlers: one function per message. Each changes state in one unit of work, and
a decision (offers) follows in its own, so that a burst's waiting tasks are staffed together."""
from prometheus_client import Counter

from services.matching.context import Matching
from services.matching.decisions import apply, situation
from services.matching.dispatch import dispatch
from services.matching.domain.changes import AddTask, Decision
from services.matching.domain.lifecycle import cancel, report, respond
from services.matching.domain.mediation import case_task
from services.matching.domain.series import request_task
from services.matching.domain.subjects import Case
from services.matching.store import assignments, roster, tasks
from shared.consumer import Envelope
from shared.events import (AssignmentResponded, CaseReceived, CompletionReported, RequestCancelled, RequestReceived,
                           SubmissionRejected, VolunteerRegistered)
from shared.mediation import Level

ANSWERS = Counter("linli_matching_answers_total", "Answers to offers and reports of service, by outcome", ["outcome"])


async def on_volunteer_registered(matching: Matching, envelope: Envelope) -> None:
    event = VolunteerRegistered.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if await uow.claim(envelope):
            await roster.save_volunteer(uow.connection, event)


async def on_request_received(matching: Matching, envelope: Envelope) -> None:
    event = RequestReceived.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope) or not await tasks.save_request(uow.connection, event):
            return
        await apply(uow, Decision.of(AddTask(request_task(event, 1, matching.policy.service_hours))))
    await dispatch(matching, event.community_code)


async def on_case_received(matching: Matching, envelope: Envelope) -> None:
    event = CaseReceived.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope) or not await tasks.save_case(uow.connection, event, event.level):
            return
        # It starts where intake placed it (shared.mediation.starting_level).
        await apply(uow, Decision.of(AddTask(case_task(Case.received(event), Level(event.level), matching.policy))))
    await dispatch(matching, event.community_code)


async def on_request_cancelled(matching: Matching, envelope: Envelope) -> None:
    event = RequestCancelled.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope):
            return
        conn = uow.connection
        await tasks.lock_community(conn, event.community_code)
        occurrences = [(task, await assignments.of_task(conn, task.task_id))
                       for task in await tasks.open_tasks_of_request(conn, event.request_id)]
        await apply(uow, cancel(event.request_id, await tasks.request(conn, event.request_id), occurrences,
                                matching.now()))


async def on_assignment_responded(matching: Matching, envelope: Envelope) -> None:
    """Accept or decline: only the volunteer offered, and only while the offer is open."""
    event = AssignmentResponded.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope):
            return
        found = await situation(uow, event.assignment_id)
        decision = respond(event, found, matching.now())
        await apply(uow, decision)
    if _refused(decision):
        ANSWERS.labels("refused").inc()
        return
    ANSWERS.labels("accepted" if event.accept else "declined").inc()
    await dispatch(matching, found.task.community_code)


async def on_completion_reported(matching: Matching, envelope: Envelope) -> None:
    event = CompletionReported.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope):
            return
        found = await situation(uow, event.assignment_id)
        decision = report(event, found, matching.now(), matching.policy)
        await apply(uow, decision)
    if _refused(decision):
        ANSWERS.labels("completion_refused").inc()
        return
    ANSWERS.labels("completed").inc()
    await dispatch(matching, found.task.community_code)


def _refused(decision: Decision) -> bool:
    return any(isinstance(event, SubmissionRejected) for event in decision.events)
