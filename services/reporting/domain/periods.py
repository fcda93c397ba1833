"""Days, weeks and months on the city's clock (`LINLI_TIMEZONE`), not the server's nor UTC's."""
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared import calendar

GRAINS = ("day", "week", "month")


def day_of(occurred_at: datetime, city_timezone: str) -> date:
    """The station's day of an event: its date on the city's clock, not UTC's
    (events carry an offset: `Event.occurred_at` refuses a time without one)."""
    return calendar.day_of(occurred_at, ZoneInfo(city_timezone))


def period_start(day: date, grain: str) -> date:
    """The first day of the day, week (Monday, as ISO and PostgreSQL's date_trunc count) or
    month that `day` falls in."""
    if grain == "day":
        return day
    if grain == "week":
        return calendar.week_of(day)
    if grain == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {grain!r}; one of {', '.join(GRAINS)}")


def period_count(first: date, last: date, grain: str) -> int:
    """How many days, weeks or months a trend from `first` to `last` has."""
    start, end = period_start(first, grain), period_start(last, grain)
    if grain == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return (end - start).days // (7 if grain == "week" else 1) + 1


def periods(first: date, last: date, grain: str) -> Iterator[date]:
    """The start of every period from the one holding `first` to the one holding `last`: a
    trend shows the quiet periods too, as zeros."""
    current, end = period_start(first, grain), period_start(last, grain)
    step = timedelta(days={"day": 1, "week": 7, "month": 31}[grain])
    while current <= end:
        yield current
        current = period_start(current + step, grain)  # from a month's 1st, +31 days is in the next month


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=31)).replace(day=1)


def whole_months(first: date | None, last: date | None) -> tuple[tuple[date | None, date | None] | None,
                                                                  list[tuple[date, date]]]:
    """The whole months from `first` to `last` (the first days of the first and the last of them,
    None where the period is open) and the days at either end outside them (inclusive ranges):
    a month rollup answers the months, the day rollup the ends. No whole month: None, and the
    period is all ends."""
    start = first if first is None or first.day == 1 else _next_month(first)
    ends_month = last is not None and (last + timedelta(days=1)).day == 1
    end = last if last is None or ends_month else last.replace(day=1) - timedelta(days=1)
    end = None if end is None else end.replace(day=1)
    if start is not None and end is not None and start > end:
        return None, [(first, last)]
    edges = []
    if first is not None and first < start:
        edges.append((first, start - timedelta(days=1)))
    if last is not None and not ends_month:
        edges.append((_next_month(end), last))
    return (start, end), edges
