"""A clock a test sets and moves: the services' timers then run on it, not on the wall clock."""
from datetime import UTC, datetime, timedelta


class SetClock:
    def __init__(self, start: datetime | None = None):
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, by: timedelta) -> None:
        self._now += by
