"""The retention sweeper (PIPL art. 19): every service prunes, in the background, what no longer
needs keeping once it is older than LINLI_RETENTION_DAYS on the runtime's clock: the message
ids it claimed, its published outbox rows, and what its definition adds (delivered
notifications, rejections, sent status updates …). README "Security and privacy" lists every
table and what bounds it."""
import logging
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter

from shared.sweeper import Sweeper

log = logging.getLogger(__name__)
PRUNED = Counter("linli_retention_pruned_total", "Rows the retention sweeper deleted", ["table"])
BATCH_SIZE = 1000


@dataclass(frozen=True)
class Prune:
    """Rows of `table` whose `age` (an SQL timestamptz of the row) is older than the retention
    period, among those `where` allows; never younger than `min_days` (what the service still reads)."""

    table: str
    age: str
    where: str = "true"
    min_days: float = 0.0

    def statement(self) -> str:  # names come from the definitions in code, never from input
        return (f"DELETE FROM {self.table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {self.table} "
                f"WHERE ({self.where}) AND {self.age} < $1 LIMIT $2))")


# Every service's messaging tables (shared/migrations): a redelivery older than the period is
# long settled by the broker's delivery limit, and a published row has nothing left to do.
MESSAGING = (Prune("processed_message", "processed_at"),
             Prune("outbox", "published_at", "published_at IS NOT NULL"))


class Retention:
    def __init__(self, runtime, prunes: tuple[Prune, ...]):
        self._runtime = runtime
        self._prunes = (*prunes, *MESSAGING)  # a service's own first: they may reference nothing shared

    async def sweep(self) -> dict[str, int]:
        """Delete, in batches, every row past its period; returns how many per table."""
        days, now = self._runtime.settings.linli_retention_days, self._runtime.clock.now()
        pruned: dict[str, int] = {}
        for prune in self._prunes:
            cutoff = now - timedelta(days=max(days, prune.min_days))
            while True:
                async with self._runtime.pool.acquire() as conn:
                    deleted = int((await conn.execute(prune.statement(), cutoff, BATCH_SIZE)).split()[-1])
                pruned[prune.table] = pruned.get(prune.table, 0) + deleted
                PRUNED.labels(prune.table).inc(deleted)
                if deleted < BATCH_SIZE:
                    break
        return pruned

    async def run(self) -> None:
        """Sweep now and every LINLI_RETENTION_SWEEP_SECONDS (shared/sweeper.py's loop: a failed
        sweep is logged and tried again at the next)."""
        await Sweeper("retention", self._sweep_and_report, BATCH_SIZE,
                      self._runtime.settings.linli_retention_sweep_seconds).run()

    async def _sweep_and_report(self) -> int:
        pruned = await self.sweep()
        if any(pruned.values()):
            log.info("retention: pruned %s", {table: n for table, n in pruned.items() if n})
        return 0  # sweep() has already worked through every batch
