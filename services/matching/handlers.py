"""matching's handlers: one function per message, given the event and its unit of work. Each
changes state in that unit of work, and a decision (offers) follows in its own once it has
committed, so that a burst's waiting tasks are staffed together."""
from prometheus_client import Counter

from services.matching import cycle
from services.matching.announce import Subjects
from services.matching.context import Matching
from services.matching.dispatch import dispatch, lock_community
from services.matching.domain.offers import Status, refusal
from services.matching.plan import case_task, request_task
from services.matching.store import assignments, roster, tasks
from shared.events import (AssignmentResponded, CaseReceived, CompletionRejected, CompletionReported,
                           RequestCancelled, RequestReceived, ResponseRejected, VolunteerRegistered)
from shared.mediation import starting_level
from shared.unit_of_work import UnitOfWork

ANSWERS = Counter("linli_matching_answers_total", "Answers to offers and reports of service, by outcome", ["outcome"])


async def on_volunteer_registered(matching: Matching, uow: UnitOfWork, event: VolunteerRegistered) -> None:
    await roster.save_volunteer(uow.connection, event)


async def on_request_received(matching: Matching, uow: UnitOfWork, event: RequestReceived) -> None:
    if not await tasks.save_request(uow.connection, event):
        return
    await tasks.insert_task(uow.connection, request_task(event, 1, matching.settings))
    uow.after_commit(lambda: dispatch(matching, event.community_code))


async def on_case_received(matching: Matching, uow: UnitOfWork, event: CaseReceived) -> None:
    level = starting_level(event.grid_code, event.severity, placed=event.level)
    if not await tasks.save_case(uow.connection, event, level):
        return
    await tasks.insert_task(uow.connection, case_task(event.case_id, event.community_code, event.grid_code,
                                                      level, matching.areas, matching.settings))
    uow.after_commit(lambda: dispatch(matching, event.community_code))


async def on_request_cancelled(matching: Matching, uow: UnitOfWork, event: RequestCancelled) -> None:
    await lock_community(uow.connection, event.community_code)
    await cycle.cancel(uow, Subjects(uow.connection), event.request_id)


async def on_assignment_responded(matching: Matching, uow: UnitOfWork, event: AssignmentResponded) -> None:
    """Accept or decline: only the volunteer offered, and only while the offer is open."""
    target = Status.ACCEPTED if event.accept else Status.DECLINED
    assignment = await _locked(uow.connection, event.assignment_id)
    why = _not_theirs(assignment, event) or refusal(assignment["status"], target)
    if why:
        await uow.emit(ResponseRejected(correlation_id=event.correlation_id, submission="assignment.respond",
                                        reason=why, source=event.source, external_id=event.volunteer_external_id))
        uow.after_commit(ANSWERS.labels("refused").inc)
        return
    subjects = Subjects(uow.connection)
    if event.accept:
        await cycle.accept(uow, subjects, assignment)
    else:
        await cycle.fall_away(uow, subjects, assignment, Status.DECLINED, event.reason)
    uow.after_commit(ANSWERS.labels(target.value).inc)
    uow.after_commit(lambda: dispatch(matching, assignment["community_code"]))


async def on_completion_reported(matching: Matching, uow: UnitOfWork, event: CompletionReported) -> None:
    assignment = await _locked(uow.connection, event.assignment_id)
    why = _no_completion(assignment, event)
    if why:
        await uow.emit(CompletionRejected(correlation_id=event.correlation_id, submission="service.complete",
                                          reason=why))
        uow.after_commit(ANSWERS.labels("completion_refused").inc)
        return
    await cycle.complete(matching, uow, Subjects(uow.connection), assignment, event.hours, event.people_served,
                         event.outcome)
    uow.after_commit(ANSWERS.labels("completed").inc)
    uow.after_commit(lambda: dispatch(matching, assignment["community_code"]))


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
