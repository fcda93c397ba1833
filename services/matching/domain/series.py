"""Recurring pairings (结对帮扶): a request with `recurrence` is a series of occurrences, each
with its own window."""
import calendar
from datetime import datetime, timedelta


def occurrence_window(window: tuple[datetime, datetime] | None, received_at: datetime,
                      every: str | None, number: int) -> tuple[datetime, datetime] | None:
    """Occurrence `number` (1-based) of a request: its window moved on by whole weeks or months.
    A recurring request without a window is due within each period from when it was received."""
    if every is None:
        return window
    start, end = window or (received_at, _shift(received_at, every, 1))
    return _shift(start, every, number - 1), _shift(end, every, number - 1)


def _shift(moment: datetime, every: str, count: int) -> datetime:
    if every == "week":
        return moment + timedelta(weeks=count)
    month = moment.month - 1 + count
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
