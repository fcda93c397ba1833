"""matching's clock: offers that were not answered in time expire, windows that ended unserved
are missed, return visits fall due, and tasks left waiting (a lost race, a process that died
between a request and its decision) are decided. Every timer is a stored time, so a restart
loses none; row and community locks keep two processes from acting twice."""
from datetime import UTC, datetime

from services.matching import cycle
from services.matching.announce import Subjects
from services.matching.context import Matching
from services.matching.dispatch import dispatch, lock_community
from services.matching.domain.offers import Status
from services.matching.store import assignments, tasks
from shared.events import CaseFollowUpDue
from shared.sweeper import Sweeper

BATCH = 100


def clock(matching: Matching) -> Sweeper:
    return Sweeper("matching clock", lambda: tick(matching), BATCH, matching.settings.matching_clock_seconds)


async def tick(matching: Matching) -> int:
    """One look at every timer; returns how much it found (a full batch makes the sweeper look again)."""
    now = datetime.now(UTC)
    async with matching.runtime.pool.acquire() as conn:
        expired = await assignments.expired(conn, now, BATCH)
        missed = await tasks.missed(conn, now, BATCH)
    for row in expired:
        await _expire(matching, row, now)
    for row in missed:
        await _miss(matching, row, now)
    due = await _announce_follow_ups(matching, now)
    async with matching.runtime.pool.acquire() as conn:
        waiting = await tasks.communities_waiting(conn, BATCH)
    for community in waiting:
        await dispatch(matching, community)
    return max(len(expired), len(missed), due)


async def _expire(matching: Matching, row, now: datetime) -> None:
    async with matching.unit_of_work() as uow:
        await lock_community(uow.connection, row["community_code"])
        assignment = await assignments.find(uow.connection, row["assignment_id"], lock=True)
        if assignment["status"] == Status.OFFERED and assignment["expires_at"] <= now:
            await cycle.fall_away(uow, Subjects(uow.connection), assignment, Status.EXPIRED)


async def _miss(matching: Matching, row, now: datetime) -> None:
    async with matching.unit_of_work() as uow:
        await lock_community(uow.connection, row["community_code"])
        task = await tasks.task(uow.connection, row["task_id"], lock=True)
        if task["status"] in ("open", "assigned") and task["window_end"] < now:
            await cycle.miss(matching, uow, Subjects(uow.connection), task)


async def _announce_follow_ups(matching: Matching, now: datetime) -> int:
    async with matching.unit_of_work() as uow:
        due, subjects = await tasks.follow_ups_due(uow.connection, now, BATCH), Subjects(uow.connection)
        for case in due:
            await tasks.follow_up_announced(uow.connection, case["case_id"])
            await uow.emit(CaseFollowUpDue(**await subjects.about_case(case["case_id"], case["level"]),
                                           outcome=case["outcome"], follow_up_at=case["follow_up_at"]))
    return len(due)
