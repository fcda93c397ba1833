"""Who may take a task: the hard rules, each with the reason a volunteer fails it."""
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.matching.domain.bookings import clash
from services.matching.domain.model import Slot, Task, Volunteer
from shared.reasons import Reason


@dataclass(frozen=True)
class Limits:
    """The caps that are policy rather than profile."""

    max_open_assignments: int = 5
    timezone: ZoneInfo = ZoneInfo("Asia/Shanghai")


def unfit(volunteer: Volunteer, task: Task, limits: Limits) -> str | None:
    """The rule `volunteer` fails for `task` (a code of shared/reasons.RULES, which words it), or
    None if they can take it. The first failing rule wins."""
    if not volunteer.active:
        return "paused"
    if volunteer.volunteer_id in task.offered:
        return "already_offered"
    if not set(task.skills) <= volunteer.skills:
        return "lacks_skill"
    if task.window and not available(volunteer.availability, task.window, task.planned_hours, limits.timezone):
        return "not_available"
    if clash(task.window, volunteer.booked):
        return "booked"
    if volunteer.week_hours + task.planned_hours > volunteer.max_weekly_hours:
        return "weekly_cap"
    if volunteer.open_assignments >= limits.max_open_assignments:
        return "open_cap"
    return None


def able(volunteers: Iterable[Volunteer], task: Task, limits: Limits) -> tuple[list[Volunteer], Counter]:
    """The volunteers who can take `task`, and how many failed each rule (by its code)."""
    fit, failures = [], Counter()
    for volunteer in volunteers:
        rule = unfit(volunteer, task, limits)
        if rule is None:
            fit.append(volunteer)
        else:
            failures[rule] += 1
    return fit, failures


def available(slots: tuple[Slot, ...], window: tuple[datetime, datetime], hours: float, zone: ZoneInfo) -> bool:
    """Whether the weekly `slots` overlap the window by at least the service's `hours`
    (or the whole window, when it is shorter). No slots means any time."""
    if not slots:
        return True
    start, end = (moment.astimezone(zone) for moment in window)
    wanted = min(timedelta(hours=hours), end - start)
    overlap, day = timedelta(0), start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end and overlap < wanted:
        for slot in slots:
            if slot.weekday == day.weekday():
                slot_start = day.replace(hour=slot.start.hour, minute=slot.start.minute)
                slot_end = day + timedelta(days=1) if slot.end == time.max \
                    else day.replace(hour=slot.end.hour, minute=slot.end.minute)
                overlap += max(timedelta(0), min(end, slot_end) - max(start, slot_start))
        day += timedelta(days=1)
    return overlap >= wanted


def nobody_reason(task: str, places: Sequence[str], failures: Counter, level: str | None = None) -> Reason:
    """Why nobody in `places` (a case: at `level`) can take `task` (a catalogue code, or "case"),
    from how many failed each rule: in words an operator can act on, in their language."""
    return Reason(code="nobody_able", params={"task": task, "level": level, "places": list(places),
                                              "failures": dict(failures)})
