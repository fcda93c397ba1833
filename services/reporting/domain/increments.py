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
                           RequestCompleted, RequestEscalated, RequestMissed, RequestReceived, RequestRejected)

# A rejection whose community or category could not be read still counts, under this name.
UNKNOWN = "unknown"
# The category of every mediation case in the tables.
MEDIATION = catalogue.MEDIATION[0]

REQUEST_COUNTS = ("received", "assigned", "escalated", "completed", "missed", "cancelled", "rejected",
                  "person_times", "service_hours", "participations", "completed_with_window",
                  "completed_within_window")
DISPUTE_COUNTS = ("disputes_received", "disputes_escalated", "disputes_closed", "disputes_agreed",
                  "mediation_hours")
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
    (a weekly pairing of 4 visits completes 4 times)."""
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


def cell_of(event: Event, kind: str | None, city_timezone: str) -> Cell:
    return Cell(day_of(event.occurred_at, city_timezone), getattr(event, "community_code", None) or UNKNOWN,
                kind or UNKNOWN)
