"""What matching weighs: a volunteer as a candidate, and a task (one occurrence of a request,
or a mediation case at one level) that needs people."""
from dataclasses import dataclass, field
from datetime import datetime, time
from uuid import UUID


@dataclass(frozen=True)
class Slot:
    """A weekly stretch of availability, in the city's local time."""

    weekday: int  # 0 = Monday
    start: time
    end: time  # time.max stands for 24:00


@dataclass(frozen=True)
class Volunteer:
    volunteer_id: UUID
    source: str
    external_id: str
    community_code: str
    skills: frozenset[str]
    grid_code: str | None = None
    availability: tuple[Slot, ...] = ()  # empty: any time
    max_weekly_hours: float = 8.0
    location: tuple[float, float] | None = None
    languages: frozenset[str] = frozenset()
    active: bool = True
    open_assignments: int = 0
    week_hours: float = 0.0  # hours booked or served in the week of the task being weighed
    recent_hours: float = 0.0  # hours served or booked over the last four weeks
    # The windows of the assignments they accepted and hold (domain/bookings.py).
    booked: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Task:
    """Something that needs `needed` distinct volunteers with every skill in `skills`."""

    task_id: UUID
    community_code: str
    skills: tuple[str, ...]
    needed: int = 1
    helpful_skills: tuple[str, ...] = ()
    grid_code: str | None = None
    window: tuple[datetime, datetime] | None = None
    planned_hours: float = 2.0
    location: tuple[float, float] | None = None
    language: str | None = None
    urgency: str = "normal"
    # Volunteers who served earlier occurrences of the same pairing (结对帮扶).
    paired: frozenset[UUID] = frozenset()
    # Volunteers already offered this task (declined, expired, withdrawn or still pending).
    offered: frozenset[UUID] = field(default_factory=frozenset)
