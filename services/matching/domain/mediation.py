"""A mediation case's life in matching: the task at each level (小事不出网格,大事不出社区), a
climb when nobody can take it there or a session ends without agreement, its closing with a
return visit, and the visit falling due. The levels themselves are shared: shared/mediation.py."""
from collections.abc import Iterable
from datetime import datetime
from uuid import uuid4

from services.matching.domain.changes import (AddTask, CloseCase, Decision, FollowUpAnnounced, MoveCase,
                                              MoveTask)
from services.matching.domain.model import Volunteer
from services.matching.domain.offers import AssignmentState
from services.matching.domain.policy import Policy
from services.matching.domain.subjects import Case, about_case
from services.matching.domain.tasks import TaskState, TaskStatus
from shared.events import CaseClosed, CaseEscalated, CaseFollowUpDue
from shared.mediation import Level, next_level
from shared.reasons import Reason
from shared.submissions import Urgency

MEDIATOR_SKILLS = ("mediation",)
HELPFUL_SKILLS = ("legal",)
NO_AGREEMENT = "no_agreement"


def case_task(case: Case, level: Level, policy: Policy) -> TaskState:
    """The case at `level`: for a mediator of its grid, of its community, or of any community of its street."""
    community = case.community_code
    area = (community, *policy.areas.neighbours(community)) if level == Level.STREET else (community,)
    return TaskState(task_id=uuid4(), community_code=community, status=TaskStatus.OPEN, skills=MEDIATOR_SKILLS,
                     needed=1, urgency=Urgency.HIGH, planned_hours=policy.service_hours, search_area=area,
                     case_id=case.case_id, level=level, grid_code=case.grid_code if level == Level.GRID else None,
                     helpful_skills=HELPFUL_SKILLS)


def within_reach(volunteers: Iterable[Volunteer], task: TaskState) -> list[Volunteer]:
    """At grid level only the grid's own mediators are asked."""
    if task.level == Level.GRID:
        return [v for v in volunteers if v.grid_code == task.grid_code]
    return list(volunteers)


def climb(task: TaskState, case: Case, why: Reason, now: datetime, policy: Policy) -> Decision:
    """The case moves up a level, or past the street to its staff (no task there: the staff
    take it over)."""
    level = next_level(task.level)
    new_task = () if level == Level.STREET_STAFF else (AddTask(case_task(case, level, policy)),)
    return Decision.of(MoveTask.because(task.task_id, TaskStatus.MOVED_UP, why), *new_task,
                       MoveCase(case.case_id, level),
                       CaseEscalated(**about_case(case, level), from_level=task.level, **why.fields(),
                                     occurred_at=now))


def session_done(task: TaskState, case: Case, session: AssignmentState, now: datetime, policy: Policy) -> Decision:
    """Agreement closes the case; no agreement takes it up a level, or closes it at the street."""
    if session.outcome == NO_AGREEMENT and next_level(task.level) != Level.STREET_STAFF:
        return climb(task, case, Reason(code=NO_AGREEMENT, params={"level": str(task.level)}), now, policy)
    follow_up_at = now + policy.follow_up
    return Decision.of(MoveTask(task.task_id, TaskStatus.CLOSED),
                       CloseCase(case.case_id, session.outcome, follow_up_at),
                       CaseClosed(**about_case(case, task.level), outcome=session.outcome, hours=session.hours,
                                  follow_up_at=follow_up_at, occurred_at=now))


def follow_up_due(case: Case, now: datetime) -> Decision:
    """The return visit of a closed case, once its time has come; announced once."""
    if case.follow_up_announced or case.follow_up_at is None or case.follow_up_at > now:
        return Decision()
    return Decision.of(FollowUpAnnounced(case.case_id),
                       CaseFollowUpDue(**about_case(case, case.level), outcome=case.outcome,
                                       follow_up_at=case.follow_up_at, occurred_at=now))
