"""Staff hear of a backlog, not of each request, against the real RabbitMQ and PostgreSQL: a
community's first escalation at once, the rest of its window in one backlog message when it closes,
made once with two notify processes and across a restart."""
import asyncio
import re
import uuid
from datetime import timedelta

import pytest

from services.notify.app import SERVICE
from services.notify.handlers import notify as handle
from services.notify.handlers import tell_backlogs
from shared.events import RequestEscalated
from tests.clock import SetClock
from tests.support import announce, eventually, handled, inbox_of, racing, running, until_handled

pytestmark = pytest.mark.integration


def escalated(community: str, category: str = "elder_care.meals", urgency: str = "normal",
              clock: SetClock | None = None) -> RequestEscalated:
    return RequestEscalated(**({"occurred_at": clock.now()} if clock else {}), correlation_id="corr",
                            request_id=uuid.uuid4(), source="hotline-12345", external_id=f"h-{uuid.uuid4().hex[:6]}",
                            category=category, community_code=community, reason="没有会做饭的志愿者",
                            urgency=urgency)


def community() -> str:
    return f"c-{uuid.uuid4().hex[:6]}"


async def kinds(notify, community_code: str) -> list[str]:
    return sorted(message["kind"] for message in (await inbox_of(notify, f"staff:{community_code}")).json())


async def announced(notify, settings, events: list[RequestEscalated]) -> None:
    before = await handled(notify, "notify")
    for event in events:
        await announce(settings, event)
    await until_handled(notify, "notify", before, len(events))


async def test_a_burst_makes_one_message_at_once_and_one_backlog_message_per_community(settings):
    clock, north, south = SetClock(), community(), community()
    span = timedelta(seconds=settings.notify_staff_digest_seconds)
    burst = ([escalated(north, clock=clock) for _ in range(6)] + [escalated(north, "health.checkup", "high", clock)]
             + [escalated(south, clock=clock) for _ in range(2)])
    emergency = escalated(north, urgency="emergency", clock=clock)
    async with running(SERVICE, settings, clock=clock) as notify:
        await announced(notify, settings, burst + [emergency])
        await eventually(lambda: _all_have(notify, {north: 2, south: 1}))
        before = await handled(notify, "notify")
        for copy in burst[:3]:  # re-published: each goes as the first did, told or held, and is not counted again
            await announce(settings, copy, message_id=str(uuid.uuid4()))
        await until_handled(notify, "notify", before, 3)
        assert await kinds(notify, north) == ["escalation", "escalation"]  # the first, and the emergency
        assert await kinds(notify, south) == ["escalation"]
        clock.advance(span)  # the windows close: the background worker tells each backlog
        await eventually(lambda: _all_have(notify, {north: 3, south: 2}))
        north_inbox = (await inbox_of(notify, f"staff:{north}")).json()
        south_inbox = (await inbox_of(notify, f"staff:{south}")).json()
    [north_backlog] = [message for message in north_inbox if message["kind"] == "backlog"]
    [south_backlog] = [message for message in south_inbox if message["kind"] == "backlog"]
    assert north_backlog["subject"] == f"积压提醒:{north} 社区又有 6 项请求需要协调"  # 7 less the one told at once
    assert "助餐 5 项" in north_backlog["body"] and not re.search(r"1\d{10}", north_backlog["body"])  # no phone
    assert south_backlog["subject"] == f"积压提醒:{south} 社区又有 1 项请求需要协调"


async def _has(notify, community_code: str, count: int) -> bool:
    return len(await kinds(notify, community_code)) == count


async def _all_have(notify, counts: dict[str, int]) -> bool:
    return all([await _has(notify, community_code, count) for community_code, count in counts.items()])


async def test_a_community_quiet_for_a_whole_window_hears_its_next_escalation_at_once(settings):
    clock, north = SetClock(), community()
    span = timedelta(seconds=settings.notify_staff_digest_seconds)
    async with running(SERVICE, settings, clock=clock) as notify:
        await announced(notify, settings, [escalated(north, clock=clock), escalated(north, clock=clock)])
        clock.advance(span)
        await eventually(lambda: _has(notify, north, 2))  # the first, and the backlog of one
        clock.advance(span / 2)  # in the window that follows a backlog: held
        await announced(notify, settings, [escalated(north, clock=clock)])
        clock.advance(span)
        await eventually(lambda: _has(notify, north, 3))
        clock.advance(span)  # a whole window with nothing: quiet again
        await announced(notify, settings, [escalated(north, clock=clock)])
        await eventually(lambda: _has(notify, north, 4))
        assert await kinds(notify, north) == ["backlog", "backlog", "escalation", "escalation"]


async def test_two_notify_processes_and_a_restart_tell_each_backlog_once(settings):
    clock, north = SetClock(), community()
    span = timedelta(seconds=settings.notify_staff_digest_seconds)
    events = [escalated(north, clock=clock) for _ in range(20)]
    async with running(SERVICE, settings, clock=clock) as one, running(SERVICE, settings, clock=clock) as other:
        before = await handled(one, "notify") + await handled(other, "notify")
        for event in events:
            await announce(settings, event)

        async def all_handled() -> bool:
            return await handled(one, "notify") + await handled(other, "notify") - before >= len(events)
        await eventually(all_handled)  # the two competing for the queue's messages
        await eventually(lambda: _has(one, north, 1))
        assert await kinds(one, north) == ["escalation"]
    clock.advance(span)  # the windows close while notify is down
    async with running(SERVICE, settings, clock=clock) as one, running(SERVICE, settings, clock=clock) as other:
        await eventually(lambda: _has(one, north, 2))
        for notifier in (one.app.state.deps, other.app.state.deps):  # the sweepers again, both at once
            await asyncio.gather(*(_tell(notifier) for _ in range(3)))
        inbox = (await inbox_of(other, f"staff:{north}")).json()
        rows = (await one.get("/api/v1/notifications", params={"recipient": f"staff:{north}"})).json()
    assert sorted(message["kind"] for message in inbox) == ["backlog", "escalation"]
    assert [message["subject"] for message in inbox if message["kind"] == "backlog"] == [
        f"积压提醒:{north} 社区又有 19 项请求需要协调"]
    assert sorted((row["kind"], row["channel"]) for row in rows) == [("backlog", "inbox"), ("escalation", "inbox")]


async def _tell(notifier) -> int:
    async with notifier.runtime.unit_of_work() as uow:
        return await tell_backlogs(notifier, uow, 10)


async def test_two_handlers_racing_on_a_quiet_community_tell_one_escalation_at_once(settings):
    clock, north = SetClock(), community()
    first, second = escalated(north, clock=clock), escalated(north, clock=clock)
    async with running(SERVICE, settings, clock=clock) as client:
        await racing(client.app.state.deps, handle, first, second)  # the second waits for the community's turn
        await eventually(lambda: _has(client, north, 1))
        clock.advance(timedelta(seconds=settings.notify_staff_digest_seconds))
        await eventually(lambda: _has(client, north, 2))
        assert await kinds(client, north) == ["backlog", "escalation"]


async def test_told_and_empty_windows_are_pruned_with_their_escalations(fresh_settings):
    clock, north, south = SetClock(), community(), community()
    span = timedelta(seconds=fresh_settings.notify_staff_digest_seconds)
    async with running(SERVICE, fresh_settings, clock=clock) as notify:
        await announced(notify, fresh_settings, [escalated(north, clock=clock), escalated(north, clock=clock),
                                                 escalated(south, clock=clock)])  # south's holds none
        clock.advance(span)
        await eventually(lambda: _has(notify, north, 2))
        pool = notify.app.state.runtime.pool
        counts = "SELECT (SELECT count(*) FROM staff_backlog), (SELECT count(*) FROM staff_backlog_escalation)"
        assert tuple(await pool.fetchrow(counts)) == (2, 1)
        clock.advance(timedelta(days=fresh_settings.linli_retention_days + 1))
        pruned = await notify.app.state.retention.sweep()
        assert pruned["staff_backlog"] == 2 and tuple(await pool.fetchrow(counts)) == (0, 0)
