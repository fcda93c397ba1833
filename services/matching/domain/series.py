"""Recurring pairings (结对帮扶): a request with `recurrence` is a series of occurrences, each
with its own window, each a task of its own."""
import calendar
from datetime import datetime, timedelta
from uuid import uuid4

from services.matching.domain.changes import AddTask, Decision, SetSeries
from services.matching.domain.tasks import SeriesStatus, TaskState, TaskStatus
from shared.catalogue import skills_for
from shared.events import RequestReceived


def request_task(request: RequestReceived, occurrence: int, service_hours: float) -> TaskState:
    """Occurrence `occurrence` of the request, searched in its community first. It books the
    service's hours, or the whole window when that is shorter."""
    window = occurrence_window((request.window.start, request.window.end) if request.window else None,
                               request.occurred_at, request.recurrence.every if request.recurrence else None,
                               occurrence)
    hours = min(service_hours, (window[1] - window[0]).total_seconds() / 3600) if window else service_hours
    return TaskState(task_id=uuid4(), community_code=request.community_code, status=TaskStatus.OPEN,
                     skills=skills_for(request.category), needed=request.volunteers_needed,
                     urgency=request.urgency, planned_hours=hours, search_area=(request.community_code,),
                     request_id=request.request_id, occurrence=occurrence, grid_code=request.grid_code,
                     window_start=window[0] if window else None, window_end=window[1] if window else None,
                     location=(request.location.lat, request.location.lon) if request.location else None,
                     language=request.beneficiary.language if request.beneficiary else None)


def next_occurrence(task: TaskState, request: RequestReceived, service_hours: float) -> tuple[Decision, int | None]:
    """After an occurrence is served or missed: the series' next one, which is offered to the
    same volunteer first, or, after the last, the series is done."""
    following = task.occurrence + 1
    if request.recurrence is None or following > request.recurrence.times:
        return Decision.of(SetSeries(request.request_id, SeriesStatus.DONE)), None
    return Decision.of(AddTask(request_task(request, following, service_hours))), following


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
