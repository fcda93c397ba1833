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
from services.matching.domain.changes import AddAssignment, AddTask, Decision, WidenSearch
from services.matching.domain.lifecycle import offer
from services.matching.domain.mediation import within_reach
from services.matching.domain.model import Task, Volunteer
from services.matching.domain.offers import AssignmentState, Status, offers_wanted, places_held
from services.matching.domain.search import after_offers, wider_area
from services.matching.domain.staffing import Demand, Offer, staff_batch
from services.matching.domain.subjects import Subject
from services.matching.domain.tasks import TaskState, week_of_task, weighed
from services.matching.store import roster, tasks, waiting
from shared.events import VolunteerRef
from shared.unit_of_work import UnitOfWork

OFFERS = Metric("linli_matching_offers_total", "Offers made, by urgency", ["urgency"])
# Passes over one community in a row (a case that climbs becomes a new waiting task).
MAX_PASSES = 4


@dataclass(frozen=True)
class _Search:
    """A waiting task (with the area searched) and what it staffs, its assignments, the week its
    hours count in, why the volunteers searched could not take it, and its demand for offers
    (None: it needs none, or nobody can take it)."""

    task: TaskState
    subject: Subject
    held: tuple[AssignmentState, ...]
    week: date
    failures: Counter
    demand: Demand | None


async def dispatch(matching: Matching, community: str) -> None:
    for _ in range(MAX_PASSES):
        if not await decide(matching, community):
            return


async def decide(matching: Matching, community: str) -> bool:
    """One decision; True if it left new waiting tasks behind (a case moved up). The waiting
    tasks and what they need are read in one statement; a task's assignments after its offers
    are those it had and those made here (no other decision writes them under the lock)."""
    now, policy = matching.now(), matching.policy
    async with matching.unit_of_work() as uow:
        await tasks.lock_community(uow.connection, community)
        found = await waiting.waiting(uow.connection, community, matching.settings.matching_batch_size)
        searches = {w.task.task_id: await _search(matching, uow, w, now) for w in found}
        offers = staff_batch([s.demand for s in searches.values() if s.demand], policy.limits)
        made = {task_id: [] for task_id in searches}
        for chosen in offers:
            made[chosen.task.task_id] += await _offer(matching, uow, searches[chosen.task.task_id], chosen, now)
        planned = Counter(chosen.task.task_id for chosen in offers)
        climbed = False
        for task_id, search in searches.items():
            decision = after_offers(search.task, search.subject, search.held + tuple(made[task_id]),
                                    planned[task_id], len(made[task_id]), search.failures, now, policy)
            await apply(uow, decision)
            climbed |= any(isinstance(change, AddTask) for change in decision.changes)
        return climbed


async def _search(matching: Matching, uow: UnitOfWork, found: waiting.Waiting, now: datetime) -> _Search:
    """Read the task's candidates in its area, or its street's when its community has too few."""
    task, policy = found.task, matching.policy
    wanted = offers_wanted(task.needed, *places_held(found.held), task.urgency, policy.emergency_fan_out)
    week = week_of_task(task, now, policy.limits.timezone)
    if wanted == 0:
        return _Search(task, found.subject, found.held, week, Counter(), None)
    # A mediator offered the case at a lower level is not asked again higher up; those asked
    # before staff reopened the task may be asked again.
    weighing = weighed(task, found.offered, found.paired)
    fit, failures = await _able(matching, uow, task, weighing, week)
    area = wider_area(task, len(fit), wanted, policy)
    if area:
        task = replace(task, search_area=area)
        await apply(uow, Decision.of(WidenSearch(task.task_id, area)))
        fit, failures = await _able(matching, uow, task, weighing, week)
    demand = Demand(weighing, wanted, tuple(fit), found.household_paired) if fit else None
    return _Search(task, found.subject, found.held, week, failures, demand)


async def _able(matching: Matching, uow: UnitOfWork, task: TaskState, weighing: Task, week: date):
    volunteers = await roster.candidates(uow.connection, list(task.search_area), task.skills[0], week)
    return able(within_reach(volunteers, task), weighing, matching.policy.limits)


async def _offer(matching: Matching, uow: UnitOfWork, search: _Search, chosen: Offer,
                 now: datetime) -> list[AssignmentState]:
    """Book the volunteer and send the offer: the offer made, or none if another decision
    filled their caps first."""
    task = search.task
    if not await roster.book(uow.connection, chosen.volunteer.volunteer_id, search.week, task.planned_hours,
                             matching.policy.limits.max_open_assignments):
        return []
    decision = offer(task, search.subject, chosen, search.week, now, matching.policy)
    await apply(uow, decision)
    OFFERS.labels(task.urgency).inc()
    return [_pending(added, chosen.volunteer) for added in decision.changes if isinstance(added, AddAssignment)]


def _pending(added: AddAssignment, volunteer: Volunteer) -> AssignmentState:
    return AssignmentState(assignment_id=added.assignment_id, task_id=added.task_id, status=Status.OFFERED,
                           volunteer=VolunteerRef(volunteer_id=volunteer.volunteer_id, source=volunteer.source,
                                                  external_id=volunteer.external_id),
                           week=added.week, planned_hours=added.planned_hours, expires_at=added.expires_at)
