"""A background loop that works through a table in batches: at once when woken, and every
`poll_seconds` anyway, so that work left by a process that died is still done."""
import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from shared.workers import alive

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, name: str, sweep: Callable[[], Awaitable[int]], batch_size: int, poll_seconds: float):
        """`sweep` handles at most `batch_size` rows and returns how many it handled."""
        self._name = name
        self._sweep = sweep
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def finish(self) -> None:
        """Stop after one more whole round: what was woken for before now is still done, and a
        round under way is never cut (the relay would publish again what it had not marked)."""
        self._stopping = True
        self.wake()

    async def run(self) -> None:
        while True:
            alive(self._name, self._poll_seconds)  # a round begins (one whose look fails still ends)
            self._wakeup.clear()
            try:
                while await self._sweep() == self._batch_size:
                    pass
            except Exception:
                log.exception("%s: sweep failed, retrying in %.1fs", self._name, self._poll_seconds)
            if self._stopping and not self._wakeup.is_set():
                return
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the wake-up does, and the service then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await self._wakeup.wait()
