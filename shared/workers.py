"""The background workers of a service (outbox relay, retention, clock, delivery worker, live
listener …) as readiness sees them: a worker that raised is dead, and one whose loop has not
come round for a while is stuck. A worker tells the runtime it is alive with `alive(...)` at
each round of its loop; the runtime gives each task a heartbeat of its own (a context variable,
copied into the task when it is created), so a worker needs no handle on the runtime."""
import asyncio
import logging
import time
import traceback
from collections.abc import Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial

log = logging.getLogger(__name__)
# A worker is stuck when its loop has not come round for this many periods, and at least this long.
STUCK_PERIODS, STUCK_FLOOR_SECONDS = 3, 60.0


@dataclass
class Heartbeat:
    name: str
    period: float = 0.0
    at: float = field(default_factory=time.monotonic)

    def beat(self, name: str, period: float) -> None:
        self.name, self.period, self.at = name, period, time.monotonic()

    def stuck(self, now: float) -> bool:
        return now - self.at > max(STUCK_PERIODS * self.period, STUCK_FLOOR_SECONDS)


_heartbeat: ContextVar[Heartbeat | None] = ContextVar("linli_worker_heartbeat", default=None)


def _tell_death(heartbeat: Heartbeat, task: asyncio.Task) -> None:
    """Log a worker that raised (readiness then says it is dead): by the error's type and place,
    never its message, which may quote personal data."""
    if task.cancelled() or task.exception() is None:
        return
    error = task.exception()
    where = traceback.extract_tb(error.__traceback__)[-1]
    log.error("background worker %s died: %s at %s:%d", heartbeat.name, type(error).__name__, where.filename,
              where.lineno)


def alive(name: str, period_seconds: float) -> None:
    """Called by a background worker at each round of its loop, which comes every `period_seconds`."""
    heartbeat = _heartbeat.get()
    if heartbeat is not None:
        heartbeat.beat(name, period_seconds)


@dataclass(frozen=True)
class Worker:
    task: asyncio.Task
    heartbeat: Heartbeat

    @classmethod
    def start(cls, job: Coroutine) -> "Worker":
        heartbeat = Heartbeat(job.__qualname__)
        token = _heartbeat.set(heartbeat)
        try:
            task = asyncio.create_task(job)
        finally:
            _heartbeat.reset(token)
        task.add_done_callback(partial(_tell_death, heartbeat))
        return cls(task, heartbeat)

    def state(self) -> str:
        """'ok', 'finished' (a one-off job that is done), 'dead' (it raised) or 'stuck'."""
        if self.task.done():
            return "dead" if self.task.cancelled() or self.task.exception() else "finished"
        return "stuck" if self.heartbeat.stuck(time.monotonic()) else "ok"
