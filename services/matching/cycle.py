"""What happens to a task and its offers: accepted, declined, expired, withdrawn, completed,
missed, escalated, or (a case) moved up a level. Each function runs inside the caller's unit
of work, with the task's community locked."""
from datetime import UTC, datetime, timedelta

import asyncpg

from services.matching.announce import Subjects, staffed, volunteer_of
from services.matching.context import Matching
from services.matching.domain.offers import HOLDING, Status
from services.matching.plan import case_task, request_task
from services.matching.store import assignments, roster, tasks
from shared.events import (AssignmentAccepted, AssignmentDeclined, AssignmentExpired, AssignmentWithdrawn,
                           CaseAssigned, CaseClosed, CaseEscalated, RequestAssigned, RequestCompleted,
                           RequestEscalated, RequestMissed)
from shared.mediation import Level, next_level
from shared.unit_of_work import UnitOfWork


async def escalate_request(uow: UnitOfWork, subjects: Subjects, task: asyncpg.Record, reason: str,
                           accepted: int) -> None:
    request = await subjects.request(task["request_id"])
    await tasks.set_task(uow.connection, task["task_id"], "escalated", reason=reason)
    await uow.emit(RequestEscalated(**await subjects.about_occurrence(task), reason=reason, urgency=request.urgency,
                                    needed=task["needed"], accepted=accepted))


async def climb(matching: Matching, uow: UnitOfWork, subjects: Subjects, task: asyncpg.Record, reason: str) -> None:
    """The case moves up a level (小事不出网格,大事不出社区), or past the street to its staff."""
    await tasks.set_task(uow.connection, task["task_id"], "moved_up", reason=reason)
    case = await subjects.case(task["case_id"])
    level = next_level(task["level"])
    if level != Level.STREET_STAFF:
        await tasks.insert_task(uow.connection, case_task(case["case_id"], case["community_code"], case["grid_code"],
                                                          level, matching.areas, matching.settings))
    await tasks.move_case(uow.connection, case["case_id"], level)
    await uow.emit(CaseEscalated(**await subjects.about_case(case["case_id"], level),
                                 from_level=task["level"], reason=reason))


async def accept(uow: UnitOfWork, subjects: Subjects, assignment: asyncpg.Record) -> None:
    """The volunteer takes it; once every place is taken the rest of the offers are withdrawn."""
    conn = uow.connection
    await assignments.answer(conn, assignment["assignment_id"], Status.ACCEPTED)
    task = await tasks.task(conn, assignment["task_id"], lock=True)
    about = await subjects.about_assignment(task, assignment["assignment_id"], volunteer_of(assignment))
    address = (await subjects.request(task["request_id"])).address if task["request_id"] else None
    await uow.emit(AssignmentAccepted(**about, address=address, window_start=task["window_start"],
                                      window_end=task["window_end"]))
    held = await assignments.of_task(conn, task["task_id"])
    taken = [a for a in held if a["status"] == Status.ACCEPTED]
    if len(taken) < task["needed"]:
        return
    await tasks.set_task(conn, task["task_id"], "assigned")
    for other in held:
        if other["status"] == Status.OFFERED:
            await withdraw(uow, subjects, task, other, "every place was taken by volunteers who accepted first")
    if task["request_id"]:
        await uow.emit(RequestAssigned(**await subjects.about_occurrence(task),
                                       volunteers=tuple(staffed(a) for a in taken)))
        return
    case = await subjects.case(task["case_id"])
    await uow.emit(CaseAssigned(**await subjects.about_case(case["case_id"], task["level"]),
                                assignment_id=assignment["assignment_id"], volunteer=volunteer_of(assignment),
                                dispute_type=case["dispute_type"], summary=case["summary"]))


async def fall_away(uow: UnitOfWork, subjects: Subjects, assignment: asyncpg.Record, status: Status,
                    reason: str | None = None) -> None:
    """A declined or expired offer: its place and hours go back, and the task wants another offer."""
    await _release(uow.connection, assignment, status, reason)
    task = await tasks.task(uow.connection, assignment["task_id"])
    about = await subjects.about_assignment(task, assignment["assignment_id"], volunteer_of(assignment))
    event = AssignmentDeclined(**about, reason=reason) if status == Status.DECLINED else AssignmentExpired(**about)
    await uow.emit(event)
    await tasks.want_offers(uow.connection, task["task_id"])


async def withdraw(uow: UnitOfWork, subjects: Subjects, task: asyncpg.Record, assignment: asyncpg.Record,
                   reason: str) -> None:
    await _release(uow.connection, assignment, Status.WITHDRAWN, reason)
    await uow.emit(AssignmentWithdrawn(**await subjects.about_assignment(task, assignment["assignment_id"],
                                                                         volunteer_of(assignment)), reason=reason))


async def _release(conn: asyncpg.Connection, assignment: asyncpg.Record, status: Status, reason: str | None) -> None:
    await assignments.answer(conn, assignment["assignment_id"], status, reason)
    await roster.settle(conn, assignment["volunteer_id"], assignment["week"], float(assignment["planned_hours"]), 0.0)


async def complete(matching: Matching, uow: UnitOfWork, subjects: Subjects, assignment: asyncpg.Record,
                   hours: float, people_served: int, outcome: str | None) -> None:
    """Record the service; when the task's last volunteer has reported, the task is done."""
    conn = uow.connection
    await assignments.complete(conn, assignment["assignment_id"], hours, people_served, outcome)
    await roster.settle(conn, assignment["volunteer_id"], assignment["week"], float(assignment["planned_hours"]), hours)
    task = await tasks.task(conn, assignment["task_id"], lock=True)
    held = await assignments.of_task(conn, task["task_id"])
    if any(a["status"] in HOLDING for a in held):
        return
    done = [a for a in held if a["status"] == Status.COMPLETED]
    if task["request_id"]:
        await _occurrence_done(matching, uow, subjects, task, done)
    else:
        await _session_done(matching, uow, subjects, task, done[-1])


async def _occurrence_done(matching, uow, subjects, task, done) -> None:
    await tasks.set_task(uow.connection, task["task_id"], "completed")
    following = await next_occurrence(matching, uow, subjects, task)
    await uow.emit(RequestCompleted(**await subjects.about_occurrence(task), volunteers=tuple(map(staffed, done)),
                                    hours=sum(float(a["hours"]) for a in done),
                                    people_served=sum(a["people_served"] for a in done), next_occurrence=following))


async def _session_done(matching, uow, subjects, task, session) -> None:
    """Agreement closes the case; no agreement takes it up a level, or closes it above the street."""
    if session["outcome"] == "no_agreement" and next_level(task["level"]) != Level.STREET_STAFF:
        await climb(matching, uow, subjects, task, f"no agreement at {task['level']} level")
        return
    await tasks.set_task(uow.connection, task["task_id"], "closed")
    follow_up_at = datetime.now(UTC) + timedelta(days=matching.settings.matching_follow_up_days)
    await tasks.close_case(uow.connection, task["case_id"], session["outcome"], follow_up_at)
    await uow.emit(CaseClosed(**await subjects.about_case(task["case_id"], task["level"]), outcome=session["outcome"],
                              hours=float(session["hours"]), follow_up_at=follow_up_at))


async def miss(matching: Matching, uow: UnitOfWork, subjects: Subjects, task: asyncpg.Record) -> None:
    """The window ended before the service was reported done: offers are withdrawn, the
    volunteers' bookings released, staff told, and the series goes on."""
    held = await assignments.of_task(uow.connection, task["task_id"])
    for assignment in held:
        if assignment["status"] == Status.OFFERED:
            await withdraw(uow, subjects, task, assignment, "the service window ended")
        elif assignment["status"] == Status.ACCEPTED:
            await _release(uow.connection, assignment, Status.MISSED, "not reported done within the window")
    await tasks.set_task(uow.connection, task["task_id"], "missed")
    following = await next_occurrence(matching, uow, subjects, task)
    await uow.emit(RequestMissed(**await subjects.about_occurrence(task), next_occurrence=following,
                                 volunteers=tuple(staffed(a) for a in held if a["status"] == Status.ACCEPTED)))


async def cancel(uow: UnitOfWork, subjects: Subjects, request_id) -> None:
    """The publisher withdrew the request: every open offer and assignment of it is withdrawn."""
    for task in await tasks.open_tasks_of_request(uow.connection, request_id):
        for assignment in await assignments.of_task(uow.connection, task["task_id"]):
            if assignment["status"] in HOLDING:
                await withdraw(uow, subjects, task, assignment, "the request was cancelled")
        await tasks.set_task(uow.connection, task["task_id"], "cancelled")
    await tasks.set_request_status(uow.connection, request_id, "cancelled")


async def next_occurrence(matching: Matching, uow: UnitOfWork, subjects: Subjects, task: asyncpg.Record) -> int | None:
    """Open the series' next occurrence, if any; it is offered to the same volunteer first."""
    request = await subjects.request(task["request_id"])
    following = task["occurrence"] + 1
    if request.recurrence is None or following > request.recurrence.times:
        await tasks.set_request_status(uow.connection, request.request_id, "done")
        return None
    await tasks.insert_task(uow.connection, request_task(request, following, matching.settings))
    return following
