"""The offer and task lifecycle as decisions over plain values: a request received, an offer
made, accepted, declined, expired or withdrawn; a service reported; a window missed; an
accepted assignment without a window that lapsed; a request cancelled. Each returns a Decision
(what to change, what to emit); the shell loads the values, with the task's community locked,
and applies it. Events carry `occurred_at=now`.

Order does not matter between matching's queues: a cancellation that comes before its request
is remembered and the request is then recorded as cancelled; a report of service that comes
before the acceptance is kept, applied with the acceptance, or refused (with the reason the
report would have had after it) when the offer falls away instead."""
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import uuid4

from services.matching.domain.bookings import Window, booking_refusal
from services.matching.domain.changes import (AddAssignment, AddTask, Decision, DropReport, KeepReport,
                                              MoveAssignment, MoveTask, RecordService, RememberCancellation,
                                              SetSeries, SettleBooking, WantOffers)
from services.matching.domain.mediation import climb, session_done
from services.matching.domain.offers import (HOLDING, TAKEN, AssignmentState, Status, answer_refusal,
                                             completion_refusal, refusal, reporter_refusal)
from services.matching.domain.policy import Policy
from services.matching.domain.search import escalate
from services.matching.domain.series import next_occurrence, request_task
from services.matching.domain.staffing import Offer
from services.matching.domain.subjects import (Case, Subject, about_assignment, about_case, about_occurrence,
                                               address_of, offer_details)
from services.matching.domain.tasks import UNDER_WAY, SeriesStatus, TaskState, TaskStatus
from shared.events import (AssignmentAccepted, AssignmentDeclined, AssignmentExpired, AssignmentOffered,
                           AssignmentResponded, AssignmentWithdrawn, CaseAssigned, CompletionRejected,
                           CompletionReported, RequestAssigned, RequestCompleted, RequestMissed, RequestReceived,
                           ResponseRejected, VolunteerRef)
from shared.reasons import Reason

EVERY_PLACE_TAKEN = "every place was taken by volunteers who accepted first"
WINDOW_ENDED = "the service window ended"
NOT_REPORTED = "not reported done within the window"
CANCELLED = "the request was cancelled"


@dataclass(frozen=True)
class Situation:
    """An assignment with its task, the request or case the task staffs, and every assignment
    of the task (oldest first), as an answer or a report finds them."""

    task: TaskState
    subject: Subject
    held: tuple[AssignmentState, ...]
    assignment: AssignmentState
    # The windows of the other assignments the volunteer accepted and holds (read for an answer).
    booked: tuple[Window, ...] = ()


def receive(request: RequestReceived, cancelled: bool, service_hours: float) -> Decision:
    """A request arrives: its first occurrence waits for offers, unless its cancellation came first."""
    if cancelled:
        return Decision.of(SetSeries(request.request_id, SeriesStatus.CANCELLED))
    return Decision.of(AddTask(request_task(request, 1, service_hours)))


def offer(task: TaskState, subject: Subject, chosen: Offer, week: date, now: datetime, policy: Policy) -> Decision:
    """The offer to the volunteer chosen, whose place and hours the shell has booked; it
    records why them and runs until `Policy.offer_expires`."""
    volunteer = chosen.volunteer
    made = AssignmentState(assignment_id=uuid4(), task_id=task.task_id, status=Status.OFFERED, week=week,
                           volunteer=VolunteerRef(volunteer_id=volunteer.volunteer_id, source=volunteer.source,
                                                  external_id=volunteer.external_id),
                           planned_hours=task.planned_hours, expires_at=policy.offer_expires(now, task.urgency))
    reason = {**chosen.score.reason(), "matched_skills": sorted(set(task.skills) & volunteer.skills),
              "volunteer_community": volunteer.community_code, "searched": list(task.search_area)}
    return Decision.of(AddAssignment(made.assignment_id, task.task_id, volunteer.volunteer_id, reason,
                                     made.planned_hours, week, made.expires_at),
                       AssignmentOffered(**about_assignment(task, subject, made), **offer_details(task, subject),
                                         expires_at=made.expires_at, occurred_at=now))


def respond(response: AssignmentResponded, found: Situation | None, now: datetime, policy: Policy) -> Decision:
    """An answer to an offer (`found` None: no such assignment): taken from the volunteer
    offered while the offer is open, and an acceptance only if its window overlaps none the
    volunteer already accepted; otherwise refused with the reason. A report kept for the
    offer is applied with its acceptance."""
    why = answer_refusal(found and found.assignment, response)
    if not why and response.accept:
        why = booking_refusal(_window(found.task), found.booked)
    if why:
        return Decision.of(ResponseRejected(correlation_id=response.correlation_id, submission="assignment.respond",
                                            reason=why, source=response.source,
                                            external_id=response.volunteer_external_id, occurred_at=now))
    if not response.accept:
        return decline(found.task, found.subject, found.assignment, response.reason, now)
    task, assignment = found.task, found.assignment
    decision = accept(task, found.subject, found.held, assignment, now)
    if assignment.kept_report is None:
        return decision
    accepted = replace(assignment, status=Status.ACCEPTED, kept_report=None)
    return decision + Decision.of(DropReport(assignment.assignment_id)) + complete(
        task, found.subject, _after_acceptance(found.held, accepted, task.needed), accepted, assignment.kept_report,
        now, policy)


def _window(task: TaskState) -> Window | None:
    return (task.window_start, task.window_end) if task.window_start else None


def _after_acceptance(held: Sequence[AssignmentState], accepted: AssignmentState,
                      needed: int) -> list[AssignmentState]:
    """The task's assignments once `accepted` is: the other offers withdrawn if every place is taken."""
    held = _with(held, accepted)
    if sum(a.status in TAKEN for a in held) < needed:
        return held
    return [replace(a, status=Status.WITHDRAWN) if a.status == Status.OFFERED else a for a in held]


def accept(task: TaskState, subject: Subject, held: Sequence[AssignmentState], assignment: AssignmentState,
           now: datetime) -> Decision:
    """The volunteer takes the offer; once every place is taken, the other offers are
    withdrawn and the request (or case) is assigned."""
    held = _with(held, replace(assignment, status=Status.ACCEPTED))
    decision = Decision.of(MoveAssignment(assignment.assignment_id, Status.ACCEPTED, None, now),
                           AssignmentAccepted(**about_assignment(task, subject, assignment),
                                              address=address_of(subject), window_start=task.window_start,
                                              window_end=task.window_end, occurred_at=now))
    taken = [a for a in held if a.status in TAKEN]
    if len(taken) < task.needed:
        return decision
    decision += Decision.of(MoveTask(task.task_id, TaskStatus.ASSIGNED))
    for other in held:
        if other.status == Status.OFFERED:
            decision += withdraw(task, subject, other, EVERY_PLACE_TAKEN, now)
    if isinstance(subject, Case):
        return decision + Decision.of(CaseAssigned(**about_case(subject, task.level),
                                                   assignment_id=assignment.assignment_id,
                                                   volunteer=assignment.volunteer, dispute_type=subject.dispute_type,
                                                   summary=subject.summary, occurred_at=now))
    return decision + Decision.of(RequestAssigned(**about_occurrence(task, subject),
                                                  volunteers=tuple(a.staffed() for a in taken), occurred_at=now))


def decline(task: TaskState, subject: Subject, assignment: AssignmentState, reason: str | None,
            now: datetime) -> Decision:
    return _fall_away(task, subject, assignment, Status.DECLINED, reason, now)


def expire(task: TaskState, subject: Subject, assignment: AssignmentState, now: datetime) -> Decision:
    """An offer still unanswered when its time is up; nothing if it was answered, or is not due."""
    if assignment.status != Status.OFFERED or assignment.expires_at > now:
        return Decision()
    return _fall_away(task, subject, assignment, Status.EXPIRED, None, now)


def _fall_away(task: TaskState, subject: Subject, assignment: AssignmentState, status: Status,
               reason: str | None, now: datetime) -> Decision:
    """A declined or expired offer: its place and hours go back, and an open task wants another offer."""
    about = about_assignment(task, subject, assignment)
    event = (AssignmentDeclined(**about, reason=reason, occurred_at=now) if status == Status.DECLINED
             else AssignmentExpired(**about, occurred_at=now))
    wanted = (WantOffers(task.task_id, True),) if task.status == TaskStatus.OPEN else ()
    return _release(assignment, status, reason, now) + Decision.of(event, *wanted)


def withdraw(task: TaskState, subject: Subject, assignment: AssignmentState, reason: str, now: datetime) -> Decision:
    return _release(assignment, Status.WITHDRAWN, reason, now) + Decision.of(
        AssignmentWithdrawn(**about_assignment(task, subject, assignment), reason=reason, occurred_at=now))


def _release(assignment: AssignmentState, status: Status, reason: str | None, now: datetime) -> Decision:
    """The assignment ends unserved; a report kept for it is refused as it would be if it came now."""
    decision = Decision.of(MoveAssignment(assignment.assignment_id, status, reason, now),
                           SettleBooking(assignment.volunteer.volunteer_id, assignment.week, assignment.planned_hours,
                                         0.0))
    kept = assignment.kept_report
    if kept is None:
        return decision
    return decision + Decision.of(DropReport(assignment.assignment_id), _completion_rejected(
        kept, refusal(status, Status.COMPLETED), now))


def _completion_rejected(report: CompletionReported, why: str, now: datetime) -> CompletionRejected:
    return CompletionRejected(correlation_id=report.correlation_id, submission="service.complete", reason=why,
                              occurred_at=now)


def report(report: CompletionReported, found: Situation | None, now: datetime, policy: Policy) -> Decision:
    """A report of service (`found` None: no such assignment): recorded if the assignment was
    accepted (a mediation session with its outcome); kept, if the offer is still open, for the
    acceptance that is on its way (a second report for it is refused as it would be once the
    first is recorded); otherwise refused with the reason."""
    assignment, mediation = found and found.assignment, bool(found and found.task.case_id)
    if assignment and assignment.status == Status.OFFERED and not reporter_refusal(assignment, mediation, report):
        if assignment.kept_report:
            return Decision.of(_completion_rejected(report, refusal(Status.COMPLETED, Status.COMPLETED), now))
        return Decision.of(KeepReport(assignment.assignment_id, report, now))
    why = completion_refusal(assignment, mediation, report)
    if why:
        return Decision.of(_completion_rejected(report, why, now))
    return complete(found.task, found.subject, found.held, found.assignment, report, now, policy)


def complete(task: TaskState, subject: Subject, held: Sequence[AssignmentState], assignment: AssignmentState,
             report: CompletionReported, now: datetime, policy: Policy) -> Decision:
    """Record the service and free the volunteer's place (their booked hours become those
    served); when nobody of the task still holds a place, the occurrence is done (or the
    case's session decides what follows)."""
    served = replace(assignment, status=Status.COMPLETED, hours=report.hours, people_served=report.people_served,
                     outcome=report.outcome)
    held = _with(held, served)
    decision = Decision.of(RecordService(assignment.assignment_id, report.hours, report.people_served,
                                         report.outcome, now),
                           SettleBooking(assignment.volunteer.volunteer_id, assignment.week,
                                         assignment.planned_hours, report.hours))
    if any(a.status in HOLDING for a in held):
        return decision
    done = [a for a in held if a.status == Status.COMPLETED]
    if isinstance(subject, Case):
        return decision + session_done(task, subject, done[-1], now, policy)
    following, number = next_occurrence(task, subject, policy.service_hours)
    return decision + Decision.of(MoveTask(task.task_id, TaskStatus.COMPLETED)) + following + Decision.of(
        RequestCompleted(**about_occurrence(task, subject), volunteers=tuple(a.staffed() for a in done),
                         hours=sum(a.hours for a in done), people_served=sum(a.people_served for a in done),
                         next_occurrence=number, occurred_at=now))


def miss(task: TaskState, request: RequestReceived, held: Sequence[AssignmentState], now: datetime,
         policy: Policy) -> Decision:
    """The window ended before the service was reported done: the offers are withdrawn, the
    volunteers' bookings released, the staff told, and the series goes on. Nothing if the
    task is over or its window has not ended."""
    if task.status not in UNDER_WAY or task.window_end is None or task.window_end >= now:
        return Decision()
    decision = Decision()
    for assignment in held:
        if assignment.status == Status.OFFERED:
            decision += withdraw(task, request, assignment, WINDOW_ENDED, now)
        elif assignment.status == Status.ACCEPTED:
            decision += _release(assignment, Status.MISSED, NOT_REPORTED, now)
    following, number = next_occurrence(task, request, policy.service_hours)
    return decision + Decision.of(MoveTask(task.task_id, TaskStatus.MISSED)) + following + Decision.of(
        RequestMissed(**about_occurrence(task, request), next_occurrence=number, occurred_at=now,
                      volunteers=tuple(a.staffed() for a in held if a.status == Status.ACCEPTED)))


def lapse(task: TaskState, subject: Subject, held: Sequence[AssignmentState], assignment: AssignmentState,
          now: datetime, policy: Policy) -> Decision:
    """An accepted assignment without a window, not reported done by `Policy.accepted_deadline`
    after its acceptance: the volunteer's place is released (the assignment is missed) and the
    staff are told: the request is escalated, the case climbs (past the street, to its staff).
    A task already with the staff (escalated) only has the place released. Nothing if the
    assignment is not accepted, has a window (the window's end is its deadline) or is not due."""
    if (assignment.status != Status.ACCEPTED or task.window_end is not None or assignment.answered_at is None
            or now < assignment.answered_at + policy.accepted_deadline):
        return Decision()
    hours = policy.accepted_deadline.total_seconds() / 3600
    why = Reason(code="not_reported", params={"hours": hours})
    decision = _release(assignment, Status.MISSED, why.text("en"), now)
    if task.status not in UNDER_WAY:
        return decision
    if isinstance(subject, Case):
        return decision + climb(task, subject, why, now, policy)
    still = sum(a.status in TAKEN for a in held if a.assignment_id != assignment.assignment_id)
    return decision + escalate(task, subject, Reason(code="not_reported", params={"hours": hours, "volunteer": True}),
                               still, now)


def cancel(request_id, request: RequestReceived | None,
           occurrences: Sequence[tuple[TaskState, Sequence[AssignmentState]]], now: datetime,
           reason: str | None = None) -> Decision:
    """The publisher withdrew the request: every offer and assignment of its occurrences under
    way is withdrawn, and the series is cancelled. A request not received yet (its queue is
    another) is remembered as cancelled, with the publisher's `reason`."""
    if request is None and not occurrences:
        return Decision.of(RememberCancellation(request_id, reason, now))
    decision = Decision()
    for task, held in occurrences:
        if task.status not in UNDER_WAY:
            continue
        for assignment in held:
            if assignment.status in HOLDING:
                decision += withdraw(task, request, assignment, CANCELLED, now)
        decision += Decision.of(MoveTask(task.task_id, TaskStatus.CANCELLED))
    return decision + Decision.of(SetSeries(request_id, SeriesStatus.CANCELLED))


def _with(held: Sequence[AssignmentState], changed: AssignmentState) -> list[AssignmentState]:
    """The task's assignments, `changed` in place of its former self."""
    return [changed if a.assignment_id == changed.assignment_id else a for a in held]
