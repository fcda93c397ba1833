"""A matching decision: the waiting tasks of some communities are staffed together (burst mode:
each group of tasks that can share volunteers as one burst), offers are booked against the
volunteers' caps in PostgreSQL, and a task nobody can take is escalated (a request) or climbs a
level (a case): domain/search.py decides which."""
from collections import Counter
from collections.abc import Iterable
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
from services.matching.domain.search import after_offers, apart, wider_area
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


async def dispatch(matching: Matching, communities: Iterable[str]) -> None:
    """Staff the waiting tasks of `communities`, all in one decision, then those of any where a
    case moved up, in one more (at most MAX_PASSES in all)."""
    pending = sorted(set(communities))
    for _ in range(MAX_PASSES):
        if not pending:
            return
        pending = await decide(matching, pending)


async def decide(matching: Matching, communities: list[str]) -> list[str]:
    """One decision over the communities' waiting tasks; returns the communities where it left
    new waiting tasks behind (a case moved up). The waiting tasks and what they need are read in
    one statement; a task's assignments after its offers are those it had and those made here
    (no other decision writes them under the communities' locks). Each offer is written with its
    booking; the rest of what was decided is applied at the end, together."""
    now, policy = matching.now(), matching.policy
    async with matching.unit_of_work() as uow:
        await tasks.lock_communities(uow.connection, communities)
        found = await waiting.waiting(uow.connection, communities, matching.settings.matching_batch_size)
        searches = {search.task.task_id: search for search in await _searches(matching, uow, found, now)}
        wanting = [search for search in searches.values() if search.demand]
        chosen = [choice for group in apart([search.task.search_area for search in wanting])
                  for choice in staff_batch([wanting[n].demand for n in group], policy.limits)]
        made = {task_id: [] for task_id in searches}
        offered = []
        for choice in chosen:
            if booked := await _offer(matching, uow, searches[choice.task.task_id], choice, now):
                assignment, rest = booked
                made[choice.task.task_id].append(assignment)
                offered.append(rest)
        planned = Counter(choice.task.task_id for choice in chosen)
        closing = [after_offers(search.task, search.subject, search.held + tuple(made[task_id]),
                                planned[task_id], len(made[task_id]), search.failures, now, policy)
                   for task_id, search in searches.items()]
        await apply(uow, *offered, *closing)
        return sorted({search.task.community_code for search, decision in zip(searches.values(), closing)
                       if any(isinstance(change, AddTask) for change in decision.changes)})


async def _searches(matching: Matching, uow: UnitOfWork, found: list[waiting.Waiting],
                    now: datetime) -> list[_Search]:
    """Each waiting task's search: its candidates in its area, or its street's when its community
    has too few; all the tasks' candidates read in one statement (and those widened in one more)."""
    policy = matching.policy
    weeks = [week_of_task(w.task, now, policy.limits.timezone) for w in found]
    wanted = [offers_wanted(w.task.needed, *places_held(w.held), w.task.urgency, policy.emergency_fan_out)
              for w in found]
    # A mediator offered the case at a lower level is not asked again higher up; those asked
    # before staff reopened the task may be asked again.
    weighing = [weighed(w.task, w.offered, w.paired) for w in found]
    looking = [i for i, count in enumerate(wanted) if count]
    areas = {i: found[i].task.search_area for i in looking}
    fits = await _able(matching, uow, found, areas, weighing, weeks)
    wider = {i: area for i in looking
             if (area := wider_area(found[i].task, len(fits[i][0]), wanted[i], policy))}
    if wider:
        await apply(uow, *(Decision.of(WidenSearch(found[i].task.task_id, area)) for i, area in wider.items()))
        fits |= await _able(matching, uow, found, wider, weighing, weeks)
    searches = []
    for i, w in enumerate(found):
        task = replace(w.task, search_area=wider[i]) if i in wider else w.task
        fit, failures = fits.get(i, ((), Counter()))
        demand = Demand(weighing[i], wanted[i], tuple(fit), w.household_paired) if fit else None
        searches.append(_Search(task, w.subject, w.held, weeks[i], failures, demand))
    return searches


async def _able(matching: Matching, uow: UnitOfWork, found: list[waiting.Waiting], areas: dict[int, tuple[str, ...]],
                weighing: list[Task], weeks: list[date]) -> dict[int, tuple[list[Volunteer], Counter]]:
    """For each task (by its place in `found`) searched in its area, the volunteers able to take
    it and why the others could not."""
    listed = await roster.candidates(uow.connection, [(list(area), found[i].task.skills[0], weeks[i])
                                                      for i, area in areas.items()])
    return {i: able(within_reach(volunteers, found[i].task), weighing[i], matching.policy.limits)
            for i, volunteers in zip(areas, listed)}


async def _offer(matching: Matching, uow: UnitOfWork, search: _Search, chosen: Offer,
                 now: datetime) -> tuple[AssignmentState, Decision] | None:
    """Book the volunteer and write the offer, in one statement: the offer made, and what is
    left of its decision to apply (its event); None if another decision filled their caps first."""
    decision = offer(search.task, search.subject, chosen, search.week, now, matching.policy)
    added, = (change for change in decision.changes if isinstance(change, AddAssignment))
    if not await roster.book(uow.connection, added, matching.policy.limits.max_open_assignments):
        return None
    OFFERS.labels(search.task.urgency).inc()
    return _pending(added, chosen.volunteer), Decision(tuple(c for c in decision.changes if c is not added),
                                                       decision.events)


def _pending(added: AddAssignment, volunteer: Volunteer) -> AssignmentState:
    return AssignmentState(assignment_id=added.assignment_id, task_id=added.task_id, status=Status.OFFERED,
                           volunteer=VolunteerRef(volunteer_id=volunteer.volunteer_id, source=volunteer.source,
                                                  external_id=volunteer.external_id),
                           week=added.week, planned_hours=added.planned_hours, expires_at=added.expires_at)
