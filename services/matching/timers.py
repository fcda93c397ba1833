"""matching's timers: offers that were not answered in time expire, windows that ended unserved
are missed, accepted assignments without a window lapse after their deadline, return visits
fall due, requests that waited long enough for a busy volunteer to free a place are woken, and
tasks left waiting (a lost race, a process that died between a request and its decision, a
wait that is over) are decided. Every timer is a stored time, so a restart loses none; row
and community locks keep two processes from acting twice.

A row whose action raises is set aside (domain/setbacks.py: 30 s, doubling, at most an hour),
logged by its id and the error's type and place (never its message, which may quote personal
data) and counted; the rows behind it go on. It is tried again once its time comes, and leaves
the set-aside list when it goes through.

Each look also tells how the clock keeps up: the time of the look, how late the oldest timer it
found runs, and (every few seconds) the escalation backlog."""
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from prometheus_client import Counter, Gauge

from services.matching.context import Matching
from services.matching.decisions import apply, situation
from services.matching.dispatch import dispatch
from services.matching.domain.lifecycle import expire, lapse, miss
from services.matching.domain.mediation import follow_up_due
from services.matching.domain.setbacks import retry_at
from services.matching.store import assignments, setbacks, tasks
from shared.metrics import Pace
from shared.sweeper import Sweeper

BATCH = 100
# Communities the clock finds waiting are decided this many at a time, each group in one
# decision (as a consumer batch's communities are).
DECIDED_TOGETHER = 32
FAILURES = Counter("linli_matching_timer_failures_total", "Timer rows that raised and were set aside, by timer",
                   ["timer"])
CLOCK_LAG = Gauge("linli_matching_clock_lag_seconds", "How late matching's timers run at its last look: "
                  "its clock's now minus the due time of the oldest timer due and not yet handled (0: none)")
CLOCK_TICK = Gauge("linli_matching_clock_tick_timestamp_seconds",
                   "Unix time of matching's last look at its timers (a stalled clock stops moving it)")
BACKLOG = Gauge("linli_escalation_backlog", "Occurrences of requests escalated to the community's staff "
                "and not since completed or cancelled")
# The backlog is a count over the tasks: looked at every few seconds, not at every tick.
BACKLOG_PACE = Pace(5.0)
log = logging.getLogger(__name__)


def timers(matching: Matching) -> Sweeper:
    """Looks every MATCHING_CLOCK_SECONDS, at the time of matching's clock."""
    return Sweeper("matching timers", lambda: tick(matching), BATCH, matching.settings.matching_clock_seconds)


async def tick(matching: Matching) -> int:
    """One look at every timer; returns how much it found (a full batch makes the sweeper look again)."""
    now = matching.now()
    async with matching.runtime.pool.acquire() as conn:
        expired = await assignments.expired(conn, now, BATCH)
        missed = await tasks.missed(conn, now, BATCH)
        lapsed = await assignments.lapsed(conn, now, now - matching.policy.accepted_deadline, BATCH)
        due = await tasks.follow_ups_due(conn, now, BATCH)
        if BACKLOG_PACE.due():
            BACKLOG.set(await tasks.escalation_backlog(conn))
    CLOCK_LAG.set(lateness(now, [rows[0]["due"] for rows in (expired, missed, lapsed, due) if rows]))
    CLOCK_TICK.set_to_current_time()  # the wall clock's: what an alert compares it with
    for row in expired:
        await _each(matching, "expire", row["assignment_id"], row["attempts"], now,
                    lambda: _expire(matching, row["assignment_id"], now))
    for row in missed:
        await _each(matching, "miss", row["task_id"], row["attempts"], now,
                    lambda: _miss(matching, row["task_id"], row["community_code"], now))
    for row in lapsed:
        await _each(matching, "lapse", row["assignment_id"], row["attempts"], now,
                    lambda: _lapse(matching, row["assignment_id"], now))
    for row in due:
        await _each(matching, "follow_up", row["case_id"], row["attempts"], now,
                    lambda: _follow_up(matching, row["case_id"], now))
    async with matching.runtime.pool.acquire() as conn:
        await tasks.wait_over(conn, now)  # the next decision offers them or escalates them
        waiting = await tasks.communities_waiting(conn, now, BATCH)
    await _decide_waiting(matching, waiting, now)
    return max(len(expired), len(missed), len(lapsed), len(due))


async def _decide_waiting(matching: Matching, rows: Sequence, now: datetime) -> None:
    """The communities left waiting, DECIDED_TOGETHER at a time in one decision; those of a
    decision that fails, and any set aside before, one by one, so that the one at fault is set
    aside and the others go through."""
    fresh, alone = [row for row in rows if not row["attempts"]], [row for row in rows if row["attempts"]]
    for start in range(0, len(fresh), DECIDED_TOGETHER):
        group = fresh[start:start + DECIDED_TOGETHER]
        try:
            await dispatch(matching, [row["community_code"] for row in group])
        except Exception:  # noqa: BLE001 - tried again at once one by one, where a failure is logged and set aside
            alone += group
    for row in alone:
        await _each(matching, "dispatch", row["community_code"], row["attempts"], now,
                    lambda: dispatch(matching, [row["community_code"]]))


def lateness(now: datetime, oldest_due: Sequence[datetime]) -> float:
    """Seconds the oldest of the timers found due has waited past its time (0 when none is due)."""
    return max(0.0, (now - min(oldest_due)).total_seconds()) if oldest_due else 0.0


async def _each(matching: Matching, timer: str, key, attempts: int | None, now: datetime,
                action: Callable[[], Awaitable[None]]) -> None:
    """Run one row's action; set the row aside if it raises, take it off the list once it goes through."""
    try:
        await action()
    except Exception as error:  # noqa: BLE001 - any failure of one row must not stop the others
        await _set_aside(matching, timer, str(key), (attempts or 0) + 1, now, error)
        return
    if attempts:
        async with matching.runtime.pool.acquire() as conn:
            await setbacks.clear(conn, timer, str(key))


async def _set_aside(matching: Matching, timer: str, key: str, attempts: int, now: datetime,
                     error: Exception) -> None:
    until = retry_at(attempts, now)
    async with matching.runtime.pool.acquire() as conn:
        await setbacks.set_aside(conn, timer, key, attempts, until)
    FAILURES.labels(timer).inc()
    where = traceback.extract_tb(error.__traceback__)[-1]
    log.warning("matching timer %s: %s failed (%s at %s:%d, attempt %d), set aside until %s", timer, key,
                type(error).__name__, where.filename, where.lineno, attempts, until.isoformat())


async def _expire(matching: Matching, assignment_id, now: datetime) -> None:
    async with matching.unit_of_work() as uow:
        found = await situation(uow, assignment_id)
        await apply(uow, expire(found.task, found.subject, found.assignment, now))


async def _miss(matching: Matching, task_id, community: str, now: datetime) -> None:
    async with matching.unit_of_work() as uow:
        await tasks.lock_community(uow.connection, community)
        task = await tasks.task(uow.connection, task_id, lock=True)
        await apply(uow, miss(task, await tasks.request(uow.connection, task.request_id),
                              await assignments.of_task(uow.connection, task_id), now, matching.policy))


async def _lapse(matching: Matching, assignment_id, now: datetime) -> None:
    async with matching.unit_of_work() as uow:
        found = await situation(uow, assignment_id)
        await apply(uow, lapse(found.task, found.subject, found.held, found.assignment, now, matching.policy))


async def _follow_up(matching: Matching, case_id, now: datetime) -> None:
    async with matching.unit_of_work() as uow:
        await apply(uow, follow_up_due(await tasks.case(uow.connection, case_id, lock=True), now))
