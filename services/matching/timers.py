"""matching's timers: offers that were not answered in time expire, windows that ended unserved
are missed, return visits fall due, and tasks left waiting (a lost race, a process that died
between a request and its decision) are decided. Every timer is a stored time, so a restart
loses none; row and community locks keep two processes from acting twice."""
from datetime import datetime

from services.matching.context import Matching
from services.matching.decisions import apply, situation
from services.matching.dispatch import dispatch
from services.matching.domain.lifecycle import expire, miss
from services.matching.domain.mediation import follow_up_due
from services.matching.store import assignments, tasks
from shared.sweeper import Sweeper

BATCH = 100


def timers(matching: Matching) -> Sweeper:
    """Looks every MATCHING_CLOCK_SECONDS, at the time of matching's clock."""
    return Sweeper("matching timers", lambda: tick(matching), BATCH, matching.settings.matching_clock_seconds)


async def tick(matching: Matching) -> int:
    """One look at every timer; returns how much it found (a full batch makes the sweeper look again)."""
    now = matching.now()
    async with matching.runtime.pool.acquire() as conn:
        expired = await assignments.expired(conn, now, BATCH)
        missed = await tasks.missed(conn, now, BATCH)
    for row in expired:
        await _expire(matching, row["assignment_id"], now)
    for row in missed:
        await _miss(matching, row["task_id"], row["community_code"], now)
    due = await _follow_ups(matching, now)
    async with matching.runtime.pool.acquire() as conn:
        waiting = await tasks.communities_waiting(conn, BATCH)
    for community in waiting:
        await dispatch(matching, community)
    return max(len(expired), len(missed), due)


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


async def _follow_ups(matching: Matching, now: datetime) -> int:
    async with matching.unit_of_work() as uow:
        due = await tasks.follow_ups_due(uow.connection, now, BATCH)
        for case in due:
            await apply(uow, follow_up_due(case, now))
    return len(due)
