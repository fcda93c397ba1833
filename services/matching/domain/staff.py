"""What the staff's actions decide (the staff console, issue 15), as pure decisions like
lifecycle.py's: assign a named volunteer, reopen an occurrence, handle it themselves, cancel a
request as not needed, link it as a duplicate, move a case up or close it, record a return
visit. Each returns a Decision, or a `Refusal` (a code and its parameters, worded in REFUSALS
for the member of staff in Chinese or English) when the state does not allow the action.

The staff's choice of a volunteer overrides skills, availability and caps (they know the
volunteer), never an overlapping booking."""
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from uuid import uuid4

from services.matching.domain.bookings import Window, clash
from services.matching.domain.changes import (AddAssignment, AskAgain, BookPlace, CloseCase, Decision,
                                              FollowUpAnnounced, LinkDuplicate, MoveTask, RecordHandled,
                                              RecordReturnVisit, ReopenTask, SetSeries, WantOffers)
from services.matching.domain.lifecycle import accept, cancel, withdraw
from services.matching.domain.mediation import climb
from services.matching.domain.offers import HOLDING, TAKEN, AssignmentState, Status, places_held
from services.matching.domain.policy import Policy
from services.matching.domain.series import next_occurrence
from services.matching.domain.subjects import Case, about_assignment, about_case, about_occurrence, offer_details
from services.matching.domain.tasks import SeriesStatus, TaskState, TaskStatus
from shared.events import (AssignmentAccepted, AssignmentOffered, CaseClosed, CaseEscalated, RequestCancelled,
                           RequestDuplicate, RequestHandledByStaff, RequestReceived, RequestReopened,
                           RequestStaffAssigned, ReturnVisitRecorded, StaffRef, VolunteerRef)
from shared.mediation import Level
from shared.reasons import Reason

HANDLED_BY_STAFF = "handled by staff"
DUPLICATE = "the request is a duplicate of another"
MOVED_UP = "the case was moved up by staff"
CLOSED_BY_STAFF = "the case was closed by staff"
TIME = "%Y-%m-%d %H:%M"

# Why an action is refused: code -> (English, Chinese), formatted with the refusal's params.
REFUSALS: dict[str, tuple[str, str]] = {
    "series_over": ("the request is {status}: nothing more can be done on it", "该需求{status_zh},不能再操作"),
    "no_occurrence": ("no occurrence of this request can be {action} now", "该需求没有可{action_zh}的服务场次"),
    "occurrence_state": ("occurrence {occurrence} is {status}: it cannot be {action}",
                         "第{occurrence}次服务{status_zh},不能{action_zh}"),
    "places_taken": ("every place of occurrence {occurrence} is taken", "第{occurrence}次服务的名额已满"),
    "series_went_on": ("the series went on to occurrence {following}: act on that one",
                       "该系列服务已进行到第{following}次,请对该次操作"),
    "volunteer_unknown": ("the volunteer is not on matching's roster", "志愿者名册中没有该志愿者"),
    "volunteer_paused": ("the volunteer is paused (not active)", "该志愿者已暂停服务"),
    "volunteer_holds_place": ("the volunteer already holds a place on occurrence {occurrence}",
                              "该志愿者已在第{occurrence}次服务中"),
    "volunteer_booked": ("the volunteer is booked from {booked_start} to {booked_end}, which overlaps this window "
                         "({start} to {end})",
                         "该志愿者 {booked_start} 至 {booked_end} 已有服务,与本次时段({start} 至 {end})冲突"),
    "duplicate_of_itself": ("a request cannot be a duplicate of itself", "不能把需求关联为它自己的重复"),
    "duplicate_of_duplicate": ("request {duplicate_of} is itself a duplicate of {first}: link to that one",
                               "需求 {duplicate_of} 本身是 {first} 的重复,请关联到该需求"),
    "case_closed": ("the case is closed", "该案件已结案"),
    "case_at_top": ("the case is already with the street's staff", "该案件已在街道工作人员处,无法再上报"),
    "case_open": ("the case is not closed yet: a return visit follows its closing", "该案件尚未结案,结案后才能回访"),
    "visit_recorded": ("the case's return visit is already recorded", "该案件已回访"),
}
STATUS_ZH = {"open": "待派单", "assigned": "已派单", "completed": "已完成", "escalated": "已上报社区", "missed": "已错过",
             "cancelled": "已取消", "moved_up": "已上报", "closed": "已结案", "done": "已结束", "duplicate": "已标记重复"}
ACTIONS_ZH = {"assigned": "指派", "reopened": "重新派单", "handled": "标记为工作人员处理"}


@dataclass(frozen=True)
class Refusal:
    """Why the staff's action is refused (409): REFUSALS' code with its parameters."""

    code: str
    params: dict

    def text(self, language: str) -> str:
        english, chinese = REFUSALS[self.code]
        params = {**self.params, "status_zh": STATUS_ZH.get(self.params.get("status"), self.params.get("status")),
                  "action_zh": ACTIONS_ZH.get(self.params.get("action"), self.params.get("action"))}
        return (english if language == "en" else chinese).format(**params)


def refused(code: str, **params) -> Refusal:
    return Refusal(code, params)


@dataclass(frozen=True)
class Named:
    """The volunteer staff named, as the roster holds them: their windows already accepted."""

    volunteer: VolunteerRef
    active: bool
    booked: tuple[Window, ...] = ()


# --- which occurrence -----------------------------------------------------------------------

# The occurrence statuses each action takes.
ACTS_ON = {"assigned": (TaskStatus.OPEN, TaskStatus.ESCALATED),
           "reopened": (TaskStatus.ESCALATED, TaskStatus.MISSED),
           "handled": (TaskStatus.OPEN, TaskStatus.ASSIGNED, TaskStatus.ESCALATED, TaskStatus.MISSED)}
LIVE = (SeriesStatus.OPEN, SeriesStatus.DONE)  # done: a missed last occurrence can be reopened or handled


def occurrence_refusal(action: str, series: SeriesStatus, task: TaskState, last: int) -> Refusal | None:
    """Why `action` cannot be taken on occurrence `task` of a series (`series`, whose latest
    occurrence is `last`), or None."""
    if series not in LIVE:
        return refused("series_over", status=series.value)
    if task.status == TaskStatus.ASSIGNED and action == "assigned":
        return refused("places_taken", occurrence=task.occurrence)
    if task.status not in ACTS_ON[action]:
        return refused("occurrence_state", occurrence=task.occurrence, status=task.status.value, action=action)
    if action == "reopened" and task.status == TaskStatus.MISSED and last > task.occurrence:
        return refused("series_went_on", following=last)
    return None


def choose(action: str, series: SeriesStatus, tasks: Sequence[TaskState],
           occurrence: int | None) -> TaskState | Refusal:
    """The occurrence asked for, or (None) the earliest the action can be taken on."""
    last = max((t.occurrence for t in tasks), default=0)
    if occurrence is not None:
        task = next((t for t in tasks if t.occurrence == occurrence), None)
        if task is None:
            return refused("no_occurrence", action=action)
        return occurrence_refusal(action, series, task, last) or task
    for task in sorted(tasks, key=lambda t: t.occurrence):
        if occurrence_refusal(action, series, task, last) is None:
            return task
    if series != SeriesStatus.OPEN:
        return refused("series_over", status=series.value)
    return refused("no_occurrence", action=action)


# --- requests -------------------------------------------------------------------------------

def assign(task: TaskState, request: RequestReceived, held: Sequence[AssignmentState], named: Named | None,
           agreed: bool, staff: StaffRef, now: datetime, week: date, policy: Policy) -> Decision | Refusal:
    """The volunteer staff named gets an offer (expiring per policy), or, agreed by phone, the
    assignment: their place and hours are booked as for any offer. An escalated occurrence is
    under way again, and wants offers for any place still nobody's."""
    why = _named_refusal(task, held, named, policy.limits.timezone)
    if why:
        return why
    made = AssignmentState(assignment_id=uuid4(), task_id=task.task_id, volunteer=named.volunteer,
                           status=Status.OFFERED, week=week, planned_hours=task.planned_hours,
                           expires_at=policy.offer_expires(now, task.urgency))
    volunteer_id = named.volunteer.volunteer_id
    decision = Decision.of(
        AskAgain(task.task_id, volunteer_id),  # they may have declined it before
        AddAssignment(made.assignment_id, task.task_id, volunteer_id, {"assigned_by": staff.model_dump(),
                      "agreed": agreed}, made.planned_hours, week, made.expires_at),
        BookPlace(volunteer_id, week, made.planned_hours),
        RequestStaffAssigned(**about_occurrence(task, request), assignment_id=made.assignment_id,
                             volunteer=named.volunteer, agreed=agreed, staff=staff, occurred_at=now))
    under_way = replace(task, status=TaskStatus.OPEN)
    if task.status == TaskStatus.ESCALATED:
        decision += Decision.of(MoveTask(task.task_id, TaskStatus.OPEN))
    if agreed:
        decision += _by_staff(accept(under_way, request, [*held, made], made, now), staff)
    else:
        decision += Decision.of(AssignmentOffered(**about_assignment(task, request, made),
                                                  **offer_details(task, request), assigned_by=staff,
                                                  expires_at=made.expires_at, occurred_at=now))
    taken, pending = places_held([*held, replace(made, status=Status.ACCEPTED if agreed else Status.OFFERED)])
    if task.status == TaskStatus.ESCALATED and taken + pending < task.needed:
        decision += Decision.of(WantOffers(task.task_id, True))
    return decision


def _named_refusal(task: TaskState, held: Sequence[AssignmentState], named: Named | None,
                   zone: tzinfo) -> Refusal | None:
    if named is None:
        return refused("volunteer_unknown")
    if not named.active:
        return refused("volunteer_paused")
    mine = [a for a in held if a.volunteer.volunteer_id == named.volunteer.volunteer_id]
    if any(a.status in HOLDING | TAKEN for a in mine):
        return refused("volunteer_holds_place", occurrence=task.occurrence)
    window = (task.window_start, task.window_end) if task.window_start else None
    booked = clash(window, named.booked)
    if booked:
        start, end, held_start, held_end = (moment.astimezone(zone).strftime(TIME) for moment in (*window, *booked))
        return refused("volunteer_booked", booked_start=held_start, booked_end=held_end, start=start, end=end)
    return None


def _by_staff(decision: Decision, staff: StaffRef) -> Decision:
    """The acceptance staff agreed by phone says so."""
    return replace(decision, events=tuple(event.model_copy(update={"assigned_by": staff})
                                          if isinstance(event, AssignmentAccepted) else event
                                          for event in decision.events))


def reopen(task: TaskState, request: RequestReceived, series: SeriesStatus, staff: StaffRef,
           now: datetime) -> Decision:
    """The occurrence (chosen: escalated or missed) waits for offers again; the volunteers
    asked before may be asked again."""
    again = (SetSeries(request.request_id, SeriesStatus.OPEN),) if series == SeriesStatus.DONE else ()
    return Decision.of(AskAgain(task.task_id), ReopenTask(task.task_id, now), *again,
                       RequestReopened(**about_occurrence(task, request), staff=staff, occurred_at=now))


def handle(task: TaskState, request: RequestReceived, held: Sequence[AssignmentState], hours: float,
           people_served: int, note: str | None, staff: StaffRef, now: datetime, policy: Policy) -> Decision:
    """Staff did the service themselves: the offers and assignments still held are withdrawn,
    the occurrence is done, and the series goes on as after a completion (a missed occurrence's
    series went on when it was missed)."""
    decision = _withdrawn(task, request, held, HANDLED_BY_STAFF, now)
    following, number = (Decision(), None) if task.status == TaskStatus.MISSED else (
        next_occurrence(task, request, policy.service_hours))
    return decision + Decision.of(MoveTask(task.task_id, TaskStatus.COMPLETED, HANDLED_BY_STAFF),
                                  RecordHandled(task.task_id, staff.subject, hours, people_served, now)) + (
        following) + Decision.of(RequestHandledByStaff(**about_occurrence(task, request), hours=hours,
                                                       people_served=people_served, note=note, staff=staff,
                                                       next_occurrence=number, occurred_at=now))


def _withdrawn(task: TaskState, subject, held: Sequence[AssignmentState], reason: str, now: datetime) -> Decision:
    decision = Decision()
    for assignment in held:
        if assignment.status in HOLDING:
            decision += withdraw(task, subject, assignment, reason, now)
    return decision


def about_request(request: RequestReceived) -> dict:
    """What every request.* event about the whole request carries."""
    return {"correlation_id": request.correlation_id, "request_id": request.request_id, "source": request.source,
            "external_id": request.external_id, "category": request.category,
            "community_code": request.community_code, "household_id": request.household_id,
            "campaign_id": request.campaign_id}


def cancel_not_needed(request: RequestReceived, series: SeriesStatus,
                      occurrences: Sequence[tuple[TaskState, Sequence[AssignmentState]]], note: str,
                      staff: StaffRef, now: datetime) -> Decision | Refusal:
    """Staff cancel the request as not needed: as its publisher's cancellation does, and
    matching publishes `request.cancelled` (its own handler skips it: already applied)."""
    if series != SeriesStatus.OPEN:
        return refused("series_over", status=series.value)
    reason = Reason(code="not_needed", params={"note": note})
    return cancel(request.request_id, request, occurrences, now, reason.text("en")) + Decision.of(
        RequestCancelled(**about_request(request), **reason.fields(), cancelled_by=staff, occurred_at=now))


def link_duplicate(request: RequestReceived, series: SeriesStatus,
                   occurrences: Sequence[tuple[TaskState, Sequence[AssignmentState]]], first: RequestReceived,
                   first_of: object, staff: StaffRef, now: datetime) -> Decision | Refusal:
    """The request is the same need as `first` (itself a duplicate of `first_of`, or None):
    its offers and assignments are withdrawn and it is closed as a duplicate, its escalated
    occurrences too (they leave the staff's backlog)."""
    if series != SeriesStatus.OPEN:
        return refused("series_over", status=series.value)
    if first.request_id == request.request_id:
        return refused("duplicate_of_itself")
    if first_of is not None:
        return refused("duplicate_of_duplicate", duplicate_of=first.request_id, first=first_of)
    decision = Decision()
    for task, held in occurrences:
        if task.status in (TaskStatus.OPEN, TaskStatus.ASSIGNED, TaskStatus.ESCALATED):
            decision += _withdrawn(task, request, held, DUPLICATE, now) + Decision.of(
                MoveTask(task.task_id, TaskStatus.CANCELLED, DUPLICATE))
    return decision + Decision.of(SetSeries(request.request_id, SeriesStatus.DUPLICATE),
                                  LinkDuplicate(request.request_id, first.request_id),
                                  RequestDuplicate(**about_request(request), duplicate_of=first.request_id,
                                                   linked_by=staff, occurred_at=now))


# --- cases ----------------------------------------------------------------------------------

def case_refusal(case: Case) -> Refusal | None:
    return refused("case_closed") if case.outcome is not None else None


def move_up(case: Case, task: TaskState | None, held: Sequence[AssignmentState], note: str | None,
            staff: StaffRef, now: datetime, policy: Policy) -> Decision | Refusal:
    """Staff move the case up a level (past the street: to its staff); the mediators offered or
    assigned at its level are withdrawn."""
    why = case_refusal(case) or (refused("case_at_top") if case.level == Level.STREET_STAFF or task is None else None)
    if why:
        return why
    reason = Reason(code="moved_up_by_staff", params={"note": note} if note else {})
    climbed = climb(task, case, reason, now, policy)
    climbed = replace(climbed, events=tuple(
        event.model_copy(update={"staff": staff}) if isinstance(event, CaseEscalated) else event
        for event in climbed.events))
    return _withdrawn(task, case, held, MOVED_UP, now) + climbed


def close(case: Case, task: TaskState | None, held: Sequence[AssignmentState], outcome: str, hours: float,
          note: str | None, staff: StaffRef, now: datetime, policy: Policy) -> Decision | Refusal:
    """Staff close the case with its outcome; its return visit falls due as after any closing."""
    why = case_refusal(case)
    if why:
        return why
    follow_up_at = now + policy.follow_up
    decision = _withdrawn(task, case, held, CLOSED_BY_STAFF, now) if task else Decision()
    moved = (MoveTask(task.task_id, TaskStatus.CLOSED, CLOSED_BY_STAFF),) if task else ()
    return decision + Decision.of(*moved, CloseCase(case.case_id, outcome, follow_up_at, note),
                                  CaseClosed(**about_case(case, case.level), outcome=outcome, hours=hours,
                                             follow_up_at=follow_up_at, staff=staff, occurred_at=now))


def return_visit(case: Case, visited: bool, satisfaction: str, note: str | None, staff: StaffRef,
                 now: datetime) -> Decision | Refusal:
    """The return visit of a closed case, once: recorded, and no longer announced as due."""
    if case.outcome is None:
        return refused("case_open")
    if visited:
        return refused("visit_recorded")
    announced = () if case.follow_up_announced else (FollowUpAnnounced(case.case_id),)
    return Decision.of(RecordReturnVisit(case.case_id, satisfaction, note, staff.subject, now), *announced,
                       ReturnVisitRecorded(**about_case(case, case.level), satisfaction=satisfaction, note=note,
                                           staff=staff, occurred_at=now))
