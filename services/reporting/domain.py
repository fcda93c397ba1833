"""The definitions of the figures, free of I/O."""
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.events import Event, RequestAssigned, RequestCompleted, RequestEscalated, RequestReceived, RequestRejected

# The events reporting listens to, and the count each one moves. assigned, escalated and completed
# count occurrences: a recurring request is assigned and completed once per occurrence.
COUNTER_OF: Mapping[type[Event], str] = {
    RequestReceived: "received",
    RequestAssigned: "assigned",
    RequestEscalated: "escalated",
    RequestCompleted: "completed",
    RequestRejected: "rejected",
}
COUNTERS = tuple(COUNTER_OF.values())

# A rejected request whose community could not be read still counts, under this community.
UNKNOWN_COMMUNITY = "unknown"


def counter_of(event: Event) -> str:
    return COUNTER_OF[type(event)]


def community_of(event: Event) -> str:
    return getattr(event, "community_code", None) or UNKNOWN_COMMUNITY


def day_of(occurred_at: datetime, city_timezone: str) -> date:
    """The station's day of an event: its date on the city's clock, not UTC's
    (events carry an offset: `Event.occurred_at` refuses a time without one)."""
    return occurred_at.astimezone(ZoneInfo(city_timezone)).date()


def totals(rows: Iterable[Mapping[str, int]]) -> dict[str, int]:
    summed = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        for counter in COUNTERS:
            summed[counter] += row[counter]
    return summed
