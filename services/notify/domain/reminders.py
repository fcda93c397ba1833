"""When reminders go: before a service window starts, and once before a pending offer expires."""
import re
from datetime import datetime, timedelta

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """"24h" -> 24 hours; "90m", "30s", "2d" likewise."""
    match = DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 24h, 90m, 30s or 2d")
    return timedelta(**{UNITS[match[2]]: float(match[1])})


def durations(text: str) -> tuple[timedelta, ...]:
    """"24h,1h" -> (24 hours, 1 hour); "" -> none."""
    return tuple(sorted((duration(part) for part in text.split(",") if part.strip()), reverse=True))


def window_reminders(window_start: datetime | None, leads: tuple[timedelta, ...],
                     now: datetime) -> list[tuple[datetime, timedelta]]:
    """(when, lead) of each reminder still ahead: accepting three hours before the window
    gets the 1 h reminder, not the 24 h one."""
    if window_start is None:
        return []
    return [(window_start - lead, lead) for lead in leads if window_start - lead > now]


def offer_reminder(offered_at: datetime, expires_at: datetime, lead: timedelta | None,
                   now: datetime) -> datetime | None:
    """One reminder, `lead` before the offer expires, but never in the first half of its life
    (a five-minute emergency offer is reminded after two and a half); none once that is past."""
    if not lead:
        return None
    at = max(expires_at - lead, offered_at + (expires_at - offered_at) / 2)
    return at if now < at < expires_at else None
