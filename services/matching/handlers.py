"""matching's handlers: one function per message. Each changes state in one unit of work, and
a decision (offers) follows in its own, so that a burst's waiting tasks are staffed together."""
from prometheus_client import Counter

from services.matching import cycle
from services.matching.announce import Subjects
from services.matching.context import Matching
from services.matching.dispatch import dispatch, lock_community
from services.matching.domain.offers import Status, refusal
from services.matching.plan import case_task, request_task
from services.matching.store import assignments, roster, tasks
from shared.consumer import Envelope
from shared.events import (AssignmentResponded, CaseReceived, CompletionRejected, CompletionReported,
                           RequestCancelled, RequestReceived, ResponseRejected, VolunteerRegistered)

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
        await tasks.insert_task(uow.connection, request_task(event, 1, matching.settings))
    await dispatch(matching, event.community_code)


async def on_case_received(matching: Matching, envelope: Envelope) -> None:
    event = CaseReceived.model_validate_json(envelope.body)
    level = event.level  # intake placed it (shared.mediation.starting_level)
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope) or not await tasks.save_case(uow.connection, event, level):
            return
        await tasks.insert_task(uow.connection, case_task(event.case_id, event.community_code, event.grid_code,
                                                          level, matching.areas, matching.settings))
    await dispatch(matching, event.community_code)


async def on_request_cancelled(matching: Matching, envelope: Envelope) -> None:
    event = RequestCancelled.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if await uow.claim(envelope):
            await lock_community(uow.connection, event.community_code)
            await cycle.cancel(uow, Subjects(uow.connection), event.request_id)


async def on_assignment_responded(matching: Matching, envelope: Envelope) -> None:
    """Accept or decline: only the volunteer offered, and only while the offer is open."""
    event = AssignmentResponded.model_validate_json(envelope.body)
    target = Status.ACCEPTED if event.accept else Status.DECLINED
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope):
            return
        assignment = await _locked(uow.connection, event.assignment_id)
        why = _not_theirs(assignment, event) or refusal(assignment["status"], target)
        if why:
            await uow.emit(ResponseRejected(correlation_id=envelope.correlation_id, submission="assignment.respond",
                                            reason=why, source=event.source, external_id=event.volunteer_external_id))
            ANSWERS.labels("refused").inc()
            return
        subjects = Subjects(uow.connection)
        if event.accept:
            await cycle.accept(uow, subjects, assignment)
        else:
            await cycle.fall_away(uow, subjects, assignment, Status.DECLINED, event.reason)
    ANSWERS.labels(target.value).inc()
    await dispatch(matching, assignment["community_code"])


async def on_completion_reported(matching: Matching, envelope: Envelope) -> None:
    event = CompletionReported.model_validate_json(envelope.body)
    async with matching.unit_of_work() as uow:
        if not await uow.claim(envelope):
            return
        assignment = await _locked(uow.connection, event.assignment_id)
        why = _no_completion(assignment, event)
        if why:
            await uow.emit(CompletionRejected(correlation_id=envelope.correlation_id, submission="service.complete",
                                              reason=why))
            ANSWERS.labels("completion_refused").inc()
            return
        await cycle.complete(matching, uow, Subjects(uow.connection), assignment, event.hours, event.people_served,
                             event.outcome)
    ANSWERS.labels("completed").inc()
    await dispatch(matching, assignment["community_code"])


async def _locked(conn, assignment_id):
    """The assignment, locked after its community (the order every path takes); None if unknown."""
    found = await assignments.find(conn, assignment_id)
    if found is None:
        return None
    await lock_community(conn, found["community_code"])
    return await assignments.find(conn, assignment_id, lock=True)


def _not_theirs(assignment, event: AssignmentResponded) -> str | None:
    if assignment is None:
        return f"no assignment {event.assignment_id}"
    if (assignment["volunteer_source"], assignment["volunteer_external_id"]) != (event.source,
                                                                                  event.volunteer_external_id):
        return f"assignment {event.assignment_id} was not offered to {event.source}/{event.volunteer_external_id}"
    return None


def _no_completion(assignment, event: CompletionReported) -> str | None:
    if assignment is None:
        return f"no assignment {event.assignment_id}"
    if assignment["case_id"] and event.outcome is None:
        return "a mediation session is reported with its outcome: agreement or no_agreement"
    return refusal(assignment["status"], Status.COMPLETED)
