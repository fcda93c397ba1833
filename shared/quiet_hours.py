"""The city's quiet hours: what can wait is not sent then. notify holds such messages until the
hours end, and matching gives a volunteer told of an offer in the morning their full time to answer."""
from datetime import datetime, time, timedelta, tzinfo


def quiet_hours(text: str) -> tuple[time, time] | None:
    """"22:00-07:00" -> (22:00, 07:00); "" -> None (no quiet hours)."""
    if not text:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError as error:
        raise ValueError(f"{text!r} is not quiet hours like 22:00-07:00 (empty for none)") from error
    return start, end


def not_before(moment: datetime, urgent: bool, timezone: tzinfo, quiet: tuple[time, time] | None,
               deadline: datetime | None = None) -> datetime:
    """When a message due at `moment` may go out: then, or, when it can wait and the city is
    in its quiet hours, when they end. A reminder that would then come after what it reminds
    of (`deadline`) goes at its time: a late reminder is no reminder."""
    local = moment.astimezone(timezone)
    if urgent or quiet is None or not _within(local.time(), *quiet):
        return moment
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    end = end if end > local else end + timedelta(days=1)
    return moment if deadline is not None and end >= deadline else end


def _within(moment: time, start: time, end: time) -> bool:
    return start <= moment < end if start < end else (moment >= start or moment < end)
