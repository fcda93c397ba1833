"""Where a task's volunteers are searched, and what becomes of a task the search leaves short:
a request goes to the community's staff, a case climbs a level."""
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from services.matching.domain.candidates import nobody_reason
from services.matching.domain.changes import Decision, MoveTask, WantOffers
from services.matching.domain.mediation import climb
from services.matching.domain.offers import AssignmentState, is_exhausted, places_held
from services.matching.domain.policy import Policy
from services.matching.domain.subjects import Case, Subject, about_occurrence
from services.matching.domain.tasks import TaskState, TaskStatus
from shared.events import RequestEscalated, RequestReceived
from shared.reasons import Reason


def wider_area(task: TaskState, found: int, wanted: int, policy: Policy) -> tuple[str, ...] | None:
    """The street to search when the request's community has fewer able volunteers than the
    offers it wants (None: no widening). A case widens only by climbing to the street."""
    neighbours = policy.areas.neighbours(task.community_code)
    if found >= wanted or task.request_id is None or not policy.widen_to_street or not neighbours:
        return None
    return task.community_code, *neighbours


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
    return escalate(task, subject, why, accepted, now)


def escalate(task: TaskState, request: RequestReceived, why: Reason, accepted: int, now: datetime) -> Decision:
    """The request goes to the community's staff, with why; the places already held stay held."""
    return Decision.of(MoveTask.because(task.task_id, TaskStatus.ESCALATED, why),
                       RequestEscalated(**about_occurrence(task, request), **why.fields(), urgency=request.urgency,
                                        needed=task.needed, accepted=accepted, occurred_at=now))
