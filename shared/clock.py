"""The one clock a service reads the time from. Rules take `now` as a value; the shell asks
the clock for it, so a test sets the clock instead of racing the wall clock."""
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
