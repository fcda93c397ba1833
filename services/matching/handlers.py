"""matching's handlers: one function per message, given the event and its unit of work (the
consumer has claimed the message). Each loads what its decision reads, decides (domain/),
and applies the decision in that unit of work; offers follow in a decision of their own once
it has committed, so that a burst's waiting tasks are staffed together."""
from functools import partial

from prometheus_client import Counter

from services.matching.context import Matching
from services.matching.decisions import apply, situation, with_bookings
from services.matching.dispatch import dispatch
from services.matching.erasure import erasure_lock, unless_erased
from services.matching.domain.changes import AddTask, Decision, KeepReport
from services.matching.domain.lifecycle import cancel, receive, report, respond
from services.matching.domain.mediation import case_task
from services.matching.domain.subjects import Case
from services.matching.store import assignments, roster, tasks
from shared.events import (AssignmentResponded, CaseReceived, CompletionReported, RequestCancelled, RequestReceived,
                           SubmissionRejected, VolunteerRegistered)
from shared.mediation import starting_level
from shared.unit_of_work import UnitOfWork

ANSWERS = Counter("linli_matching_answers_total", "Answers to offers and reports of service, by outcome", ["outcome"])


async def on_volunteer_registered(matching: Matching, uow: UnitOfWork, event: VolunteerRegistered) -> None:
    await roster.save_volunteer(uow.connection, await unless_erased(uow, event, event.volunteer_id))


async def lock_registered(matching: Matching, uow: UnitOfWork, events: list[VolunteerRegistered]) -> None:
    """A batch of registrations takes its volunteers' erasure locks first, sorted, in one statement."""
    await tasks.take_locks(uow.connection, uow.not_yet_held(erasure_lock(event.volunteer_id) for event in events))


async def on_request_received(matching: Matching, uow: UnitOfWork, event: RequestReceived) -> None:
    """Under the request's lock, which its cancellation takes too: of the two at once, the
    second sees the first. A batch takes its requests' locks first (lock_received)."""
    conn = uow.connection
    await tasks.take_locks(conn, uow.not_yet_held([tasks.request_lock(event.request_id)]))
    event = await unless_erased(uow, event, event.request_id)
    if not await tasks.save_request(conn, event):
        return
    await apply(uow, receive(event, await tasks.cancelled_early(conn, event.request_id),
                             matching.policy.service_hours))
    _dispatch_after(uow, matching, event.community_code)


async def lock_received(matching: Matching, uow: UnitOfWork, events: list[RequestReceived]) -> None:
    """A batch of requests takes the locks its handlers would take one by one, all first and in
    one statement: its requests', then their erasure locks, each kind sorted."""
    requests = uow.not_yet_held(tasks.request_lock(event.request_id) for event in events)
    await tasks.take_locks(uow.connection, requests + uow.not_yet_held(erasure_lock(e.request_id) for e in events))


async def on_case_received(matching: Matching, uow: UnitOfWork, event: CaseReceived) -> None:
    level = starting_level(event.grid_code, event.severity, placed=event.level)
    event = await unless_erased(uow, event, event.case_id)
    if not await tasks.save_case(uow.connection, event, level):
        return
    case = Case.received(event, level)
    await apply(uow, Decision.of(AddTask(case_task(case, level, matching.policy))))
    _dispatch_after(uow, matching, event.community_code)


async def on_request_cancelled(matching: Matching, uow: UnitOfWork, event: RequestCancelled) -> None:
    """A publisher's cancellation (from intake); staff's (`cancelled_by`) is matching's own, already applied."""
    if event.cancelled_by is not None:
        return
    conn = uow.connection
    await tasks.lock_community(conn, event.community_code)
    await tasks.lock_request(conn, event.request_id)
    occurrences = [(task, await assignments.of_task(conn, task.task_id))
                   for task in await tasks.open_tasks_of_request(conn, event.request_id)]
    await apply(uow, cancel(event.request_id, await tasks.request(conn, event.request_id), occurrences,
                            matching.now(), event.reason))


async def on_assignment_responded(matching: Matching, uow: UnitOfWork, event: AssignmentResponded) -> None:
    """Accept or decline: only the volunteer offered, and only while the offer is open."""
    found = await situation(uow, event.assignment_id)
    if found and event.accept:
        found = await with_bookings(uow, found)
    decision = respond(event, found, matching.now(), matching.policy)
    await apply(uow, decision)
    if _refused(decision):
        uow.after_commit(ANSWERS.labels("refused").inc)
        return
    uow.after_commit(ANSWERS.labels("accepted" if event.accept else "declined").inc)
    _dispatch_after(uow, matching, found.task.community_code)


async def on_completion_reported(matching: Matching, uow: UnitOfWork, event: CompletionReported) -> None:
    found = await situation(uow, event.assignment_id)
    decision = report(event, found, matching.now(), matching.policy)
    await apply(uow, decision)
    if _refused(decision):
        uow.after_commit(ANSWERS.labels("completion_refused").inc)
        return
    if any(isinstance(change, KeepReport) for change in decision.changes):
        uow.after_commit(ANSWERS.labels("completion_kept").inc)
        return
    uow.after_commit(ANSWERS.labels("completed").inc)
    _dispatch_after(uow, matching, found.task.community_code)


def _dispatch_after(uow: UnitOfWork, matching: Matching, community: str) -> None:
    """Once committed, the community's waiting tasks are staffed: in one decision for all the
    communities a batch's messages asked for, however many asked for each."""
    uow.after_commit_with("dispatch", set, partial(dispatch, matching)).add(community)


def _refused(decision: Decision) -> bool:
    return any(isinstance(event, SubmissionRejected) for event in decision.events)
