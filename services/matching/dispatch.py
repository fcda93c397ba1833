"""A matching decision: the waiting tasks of one community are staffed together (burst mode),
offers are booked against the volunteers' caps in PostgreSQL, and a task nobody can take is
escalated (a request) or climbs a level (a case): domain/search.py decides which."""
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime

from prometheus_client import Counter as Metric

from services.matching.context import Matching
from services.matching.decisions import apply
from services.matching.domain.candidates import able
from services.matching.domain.changes import AddTask, Decision, WidenSearch
from services.matching.domain.lifecycle import offer
from services.matching.domain.mediation import within_reach
from services.matching.domain.model import Task
from services.matching.domain.offers import offers_wanted, places_held
from services.matching.domain.search import after_offers, wider_area
from services.matching.domain.staffing import Demand, Offer, staff_batch
from services.matching.domain.subjects import Subject
from services.matching.domain.tasks import TaskState, week_of_task, weighed
from services.matching.store import assignments, households, roster, staff, tasks
from shared.unit_of_work import UnitOfWork

OFFERS = Metric("linli_matching_offers_total", "Offers made, by urgency", ["urgency"])
# Passes over one community in a row (a case that climbs becomes a new waiting task).
MAX_PASSES = 4


@dataclass(frozen=True)
class _Search:
    """A waiting task (with the area searched) and what it staffs, the week its hours count
    in, why the volunteers searched could not take it, and its demand for offers (None: it
    needs none, or nobody can take it)."""

    task: TaskState
    subject: Subject
    week: date
    failures: Counter
    demand: Demand | None


async def dispatch(matching: Matching, community: str) -> None:
    for _ in range(MAX_PASSES):
        if not await decide(matching, community):
            return


async def decide(matching: Matching, community: str) -> bool:
    """One decision; True if it left new waiting tasks behind (a case moved up)."""
    now, policy = matching.now(), matching.policy
    async with matching.unit_of_work() as uow:
        await tasks.lock_community(uow.connection, community)
        waiting = await tasks.waiting(uow.connection, community, matching.settings.matching_batch_size)
        searches = {task.task_id: await _search(matching, uow, task, now) for task in waiting}
        offers = staff_batch([s.demand for s in searches.values() if s.demand], policy.limits)
        made = Counter()
        for chosen in offers:
            made[chosen.task.task_id] += await _offer(matching, uow, searches[chosen.task.task_id], chosen, now)
        planned = Counter(chosen.task.task_id for chosen in offers)
        climbed = False
        for task_id, search in searches.items():
            decision = after_offers(search.task, search.subject, await assignments.of_task(uow.connection, task_id),
                                    planned[task_id], made[task_id], search.failures, now, policy)
            await apply(uow, decision)
            climbed |= any(isinstance(change, AddTask) for change in decision.changes)
        return climbed


async def _search(matching: Matching, uow: UnitOfWork, task: TaskState, now: datetime) -> _Search:
    """Read the task's candidates in its area, or its street's when its community has too few."""
    conn, policy = uow.connection, matching.policy
    held = await assignments.of_task(conn, task.task_id)
    wanted = offers_wanted(task.needed, *places_held(held), task.urgency, policy.emergency_fan_out)
    subject, week = await tasks.subject(conn, task), week_of_task(task, now, policy.limits.timezone)
    if wanted == 0:
        return _Search(task, subject, week, Counter(), None)
    paired = await tasks.paired(conn, task.request_id, task.occurrence) if task.request_id else frozenset()
    # A mediator offered the case at a lower level is not asked again higher up.
    offered = await tasks.offered_for_case(conn, task.case_id) if task.case_id else frozenset()
    # Those asked before staff reopened the task may be asked again.
    weighing = weighed(task, offered | await staff.asked(conn, task.task_id), paired)
    fit, failures = await _able(matching, uow, task, weighing, week)
    area = wider_area(task, len(fit), wanted, policy)
    if area:
        task = replace(task, search_area=area)
        await apply(uow, Decision.of(WidenSearch(task.task_id, area)))
        fit, failures = await _able(matching, uow, task, weighing, week)
    paired = await households.paired_volunteer(conn, task.request_id) if task.request_id else None
    return _Search(task, subject, week, failures, Demand(weighing, wanted, tuple(fit), paired) if fit else None)


async def _able(matching: Matching, uow: UnitOfWork, task: TaskState, weighing: Task, week: date):
    volunteers = await roster.candidates(uow.connection, list(task.search_area), task.skills[0], week)
    return able(within_reach(volunteers, task), weighing, matching.policy.limits)


async def _offer(matching: Matching, uow: UnitOfWork, search: _Search, chosen: Offer, now: datetime) -> int:
    """Book the volunteer and send the offer; 0 if another decision filled their caps first."""
    task = search.task
    if not await roster.book(uow.connection, chosen.volunteer.volunteer_id, search.week, task.planned_hours,
                             matching.policy.limits.max_open_assignments):
        return 0
    await apply(uow, offer(task, search.subject, chosen, search.week, now, matching.policy))
    OFFERS.labels(task.urgency).inc()
    return 1
