"""What one event adds to the additive figures, each event on its own.

Each increment depends on its event alone, never on an event that came before it: queues
deliver in any order, and the sums come out the same whatever the order. The figures that need
several events together (durations, distinct people) are computed from the facts (`figures`).
"""
from dataclasses import dataclass
from datetime import date, datetime

from services.reporting.domain.periods import day_of
from shared import catalogue
from shared.events import (CaseClosed, CaseEscalated, CaseReceived, Event, RequestAssigned, RequestCancelled,
                           RequestCompleted, RequestDuplicate, RequestEscalated, RequestHandledByStaff, RequestMissed,
                           RequestReceived, RequestRejected, RequestReopened, RequestStaffAssigned,
                           ReturnVisitRecorded)

# A rejection whose community or category could not be read still counts, under this name.
UNKNOWN = "unknown"
# The category of every mediation case in the tables.
MEDIATION = catalogue.MEDIATION[0]

REQUEST_COUNTS = ("received", "assigned", "escalated", "completed", "missed", "cancelled", "rejected",
                  "person_times", "service_hours", "participations", "completed_with_window",
                  "completed_within_window", "staff_handled", "staff_handled_hours",
                  "volunteer_hours")  # the projections add the last from the volunteers' reports
DISPUTE_COUNTS = ("disputes_received", "disputes_escalated", "disputes_closed", "disputes_agreed",
                  "mediation_hours")
RETURN_VISIT_COUNTS = ("return_visits", "return_visits_satisfied", "return_visits_basically_satisfied",
                       "return_visits_dissatisfied")
# What staff did by hand, by kind, with the kind's Chinese name (the staff-actions table).
STAFF_ACTION_KINDS: dict[str, str] = {
    "assigned": "指派志愿者", "agreed": "电话约定指派", "reopened": "重新派单", "handled": "工作人员办结",
    "cancelled": "撤销需求", "duplicate": "关联重复", "case_moved_up": "纠纷上报", "case_closed": "纠纷结案",
    "return_visit": "回访",
}
STEP_OF: dict[type[Event], str] = {RequestReceived: "received", RequestAssigned: "assigned",
                                   RequestEscalated: "escalated", RequestMissed: "missed",
                                   RequestCancelled: "cancelled", RequestRejected: "rejected"}


@dataclass(frozen=True)
class Cell:
    """Where an increment goes: a city day, a community, and a category (requests) or a
    mediation level (disputes)."""

    day: date
    community_code: str
    kind: str


def within_window(done_at: datetime, window_end: datetime | None) -> bool | None:
    """Served within its window: reported done at or before the window's end (None: no window)."""
    return None if window_end is None else done_at <= window_end


def request_increments(event: Event) -> dict[str, float]:
    """What a request event adds. Assigned, escalated, completed and missed count occurrences
    (a weekly pairing of 4 visits completes 4 times). A service staff did themselves is a
    service delivered (its people and hours count) but no volunteer took part in it."""
    if isinstance(event, RequestHandledByStaff):
        return {"staff_handled": 1, "staff_handled_hours": event.hours, "person_times": event.people_served,
                "service_hours": event.hours}
    if not isinstance(event, RequestCompleted):
        return {STEP_OF[type(event)]: 1}
    on_time = within_window(event.occurred_at, event.window_end)
    return {"completed": 1, "person_times": event.people_served, "service_hours": event.hours,
            "participations": len(event.volunteers), "completed_with_window": int(on_time is not None),
            "completed_within_window": int(bool(on_time))}


def dispute_increments(event: CaseReceived | CaseEscalated | CaseClosed) -> tuple[str, dict[str, float]]:
    """The mediation level an event counts at, and what it adds: a case received counts at its
    starting level, an escalation at the level it left, a closing at the level that closed it."""
    if isinstance(event, CaseReceived):
        return event.level, {"disputes_received": 1}
    if isinstance(event, CaseEscalated):
        return event.from_level, {"disputes_escalated": 1}
    return event.level, {"disputes_closed": 1, "disputes_agreed": int(event.outcome == "agreement"),
                         "mediation_hours": event.hours}


def return_visit_increments(event: ReturnVisitRecorded) -> tuple[str, dict[str, float]]:
    """A return visit counts at the level its case closed at, with the resident's satisfaction."""
    return event.level, {"return_visits": 1, f"return_visits_{event.satisfaction}": 1}


def staff_action(event: Event) -> tuple[str, str] | None:
    """The kind of staff action an event is, and its category (mediation for a case); None
    when no member of staff did it (a publisher's withdrawal, intake's own duplicate check,
    matching moving a case up by its rules)."""
    if isinstance(event, RequestStaffAssigned):
        return "agreed" if event.agreed else "assigned", event.category
    kinds = {RequestReopened: "reopened", RequestHandledByStaff: "handled"}
    if type(event) in kinds:
        return kinds[type(event)], event.category
    by_staff = {RequestCancelled: ("cancelled", "cancelled_by"), RequestDuplicate: ("duplicate", "linked_by"),
                CaseEscalated: ("case_moved_up", "staff"), CaseClosed: ("case_closed", "staff"),
                ReturnVisitRecorded: ("return_visit", "staff")}
    kind, staff = by_staff.get(type(event), (None, None))
    if kind is None or getattr(event, staff) is None:
        return None
    return kind, getattr(event, "category", MEDIATION)


def cell_of(event: Event, kind: str | None, city_timezone: str) -> Cell:
    return Cell(day_of(event.occurred_at, city_timezone), getattr(event, "community_code", None) or UNKNOWN,
                kind or UNKNOWN)
