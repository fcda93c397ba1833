"""Where a task's volunteers are searched, and what becomes of a task the search leaves short:
a request goes to the community's staff, a case climbs a level.

A request that is short only because every volunteer able to take it is busy (at their cap
of open assignments or weekly hours, or booked at its time) waits for one to free a place
before it goes to the staff: MATCHING_WAIT_FOR_FREE_SECONDS from the first time it found them
busy. A freed place wakes the waiting tasks (store/tasks.wake_waiting) for the next decision;
matching's clock wakes those whose wait is over, and a decision then escalates them as it
would have at once. Urgent and emergency requests do not wait: a later offer is worth less to
them than a person on the telephone now."""
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from services.matching.domain.candidates import nobody_reason
from services.matching.domain.changes import Decision, MoveTask, WaitForFree, WantOffers
from services.matching.domain.mediation import climb
from services.matching.domain.offers import AssignmentState, is_exhausted, places_held
from services.matching.domain.policy import Policy
from services.matching.domain.subjects import Case, Subject, about_occurrence
from services.matching.domain.tasks import TaskState, TaskStatus
from shared.events import RequestEscalated, RequestReceived
from shared.reasons import Reason
from shared.submissions import Urgency

# The rules (domain/candidates.unfit, checked last) a volunteer fails only by being busy: a
# place they free may make them able.
BUSY = frozenset({"booked", "weekly_cap", "open_cap"})


def wider_area(task: TaskState, found: int, wanted: int, policy: Policy) -> tuple[str, ...] | None:
    """The street to search when the request's community has fewer able volunteers than the
    offers it wants (None: no widening). A case widens only by climbing to the street."""
    neighbours = policy.areas.neighbours(task.community_code)
    if found >= wanted or task.request_id is None or not policy.widen_to_street or not neighbours:
        return None
    return task.community_code, *neighbours


def apart(areas: Sequence[Sequence[str]]) -> list[list[int]]:
    """The tasks searched in `areas` (by their place in it) in groups that can share no
    volunteer: a volunteer belongs to one community, so tasks whose areas have no community in
    common are staffed apart, each group as one burst (a decision over many communities would
    otherwise solve one matching of them all, which costs far more than one of each). Groups in
    the order of their first task, each in the tasks' order."""
    group_of: dict[str, int] = {}
    parent = list(range(len(areas)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = n = parent[parent[n]]
        return n
    for n, area in enumerate(areas):
        for community in area:
            other = group_of.setdefault(community, n)
            parent[root(n)] = root(other)
    groups: dict[int, list[int]] = {}
    for n in range(len(areas)):
        groups.setdefault(root(n), []).append(n)
    return list(groups.values())


def after_offers(task: TaskState, subject: Subject, held: Sequence[AssignmentState], planned: int, made: int,
                 failures: Counter, now: datetime, policy: Policy) -> Decision:
    """After a decision's offers: a task with a place that nobody holds, not even a pending
    offer, is escalated (a request) or climbs (a case); one with every offer it needs waits
    for answers. One whose booking lost a race to another decision (fewer `made` than
    `planned`) keeps wanting offers, for the next decision."""
    if made < planned:
        return Decision()
    accepted, pending = places_held(held)
    if not is_exhausted(task.needed, accepted, pending):
        return Decision.of(WantOffers(task.task_id, False))
    if isinstance(subject, Case):
        why = nobody_reason("case", task.search_area, failures, level=str(task.level))
        return climb(task, subject, why, now, policy)
    why = nobody_reason(subject.category, task.search_area, failures)
    if accepted + pending:
        why = Reason(code="short_staffed", params={**why.params, "found": accepted + pending, "needed": task.needed})
    until = waits_for_free(task, failures, now, policy)
    if until:
        return Decision.of(WaitForFree(task.task_id, until))
    return escalate(task, subject, why, accepted, now)


def waits_for_free(task: TaskState, failures: Counter, now: datetime, policy: Policy) -> datetime | None:
    """Until when a request nobody can take now waits for a busy volunteer (None: it goes to the
    staff now): only a request that is not urgent, only if some volunteer failed nothing but
    being busy, and only until the wait begun the first time it found them busy is over."""
    if task.urgency != Urgency.NORMAL or not policy.wait_for_free or not any(failures[rule] for rule in BUSY):
        return None
    until = task.wait_until or now + policy.wait_for_free
    return until if now < until else None


def escalate(task: TaskState, request: RequestReceived, why: Reason, accepted: int, now: datetime) -> Decision:
    """The request goes to the community's staff, with why; the places already held stay held."""
    return Decision.of(MoveTask.because(task.task_id, TaskStatus.ESCALATED, why),
                       RequestEscalated(**about_occurrence(task, request), **why.fields(), urgency=request.urgency,
                                        needed=task.needed, accepted=accepted, occurred_at=now))
