"""notify's reminders against the real RabbitMQ and PostgreSQL: they go at their time (on a
clock the test sets, never before it is moved there), and are cancelled (never sent) when what
they remind of is settled, whatever order the events come in."""
import uuid
from datetime import datetime, timedelta

import pytest

from services.notify.app import SERVICE
from shared.events import AssignmentAccepted, AssignmentWithdrawn
from tests.builders.notify import offer, received
from tests.clock import SetClock
from tests.support import announce, announced_and_handled, eventually, inbox_of, running, swept

pytestmark = pytest.mark.integration


def about_assignment(offered) -> dict:
    """What every assignment.* event about this offer carries."""
    return offered.model_dump(include={"correlation_id", "request_id", "source", "external_id", "category",
                                       "community_code", "assignment_id", "volunteer"})


def accepted_for(offered, window_start: datetime | None, at: datetime) -> AssignmentAccepted:
    return AssignmentAccepted(**about_assignment(offered), occurred_at=at, address="幸福路 1 号",
                              window_start=window_start)


async def rows_of(notify, assignment_id) -> dict[str, dict]:
    """kind (and lead) -> the inbox notification about the assignment."""
    rows = (await notify.get("/api/v1/notifications", params={"assignment_id": str(assignment_id)})).json()
    return {row["kind"] + (f"@{row['lead_seconds']:g}s" if row["lead_seconds"] else ""): row
            for row in rows if row["channel"] == "inbox"}


def row_of(notify, assignment_id, key: str, status: str):
    """A check for `eventually`: the notification `key` about the assignment, once it is in `status`."""
    async def check():
        row = (await rows_of(notify, assignment_id)).get(key)
        return row if row and row["status"] == status else None
    return check


def running_notify(settings, clock: SetClock, **changes):
    return running(SERVICE, settings.model_copy(update=changes), clock=clock)


async def test_a_pending_offer_is_reminded_once_before_it_expires(settings):
    clock = SetClock()
    async with running_notify(settings, clock, notify_offer_reminder="10m") as notify:
        event = offer(f"v-{uuid.uuid4().hex[:6]}", at=clock.now(), expires_in=timedelta(minutes=30))
        await announce(settings, event)
        await eventually(row_of(notify, event.assignment_id, "offer", "sent"))
        reminder = await eventually(row_of(notify, event.assignment_id, "offer_reminder@600s", "pending"))
        assert datetime.fromisoformat(reminder["next_attempt_at"]) == event.expires_at - timedelta(minutes=10)
        clock.advance(timedelta(minutes=20) - timedelta(seconds=1))
        await swept(notify)
        assert (await rows_of(notify, event.assignment_id))["offer_reminder@600s"]["status"] == "pending"
        clock.advance(timedelta(seconds=1))
        await eventually(row_of(notify, event.assignment_id, "offer_reminder@600s", "sent"))
        inbox = (await inbox_of(notify, f"volunteer:volunteer-app:{event.volunteer.external_id}")).json()
    assert [message["kind"] for message in inbox] == ["offer_reminder", "offer"]
    assert inbox[0]["subject"] == "提醒:家政照料服务邀请即将过期"


async def test_an_answered_offer_is_not_reminded_in_either_order(settings):
    clock = SetClock()
    async with running_notify(settings, clock, notify_offer_reminder="30s") as notify:
        first = offer(f"v-{uuid.uuid4().hex[:6]}", at=clock.now(), expires_in=timedelta(minutes=1))
        await announce(settings, first)
        await eventually(row_of(notify, first.assignment_id, "offer_reminder@30s", "pending"))
        await announce(settings, accepted_for(first, None, clock.now()))
        reminder = await eventually(row_of(notify, first.assignment_id, "offer_reminder@30s", "cancelled"))
        # The acceptance handled before the offer (separate queues): the offer's reminder is never made.
        second = offer(f"v-{uuid.uuid4().hex[:6]}", at=clock.now(), expires_in=timedelta(minutes=1))
        await announced_and_handled(notify, "notify", settings, received(second))
        await announced_and_handled(notify, "notify", settings, accepted_for(second, None, clock.now()))
        await announced_and_handled(notify, "notify", settings, second)
        late = await rows_of(notify, second.assignment_id)
        clock.advance(timedelta(minutes=1))
        await swept(notify)
        after_its_time = await rows_of(notify, first.assignment_id)
    assert reminder["attempts"] == 0 and reminder["sent_at"] is None
    assert after_its_time["offer_reminder@30s"]["status"] == "cancelled"
    assert set(late) == {"confirmation"}  # neither the stale offer nor its reminder


async def test_a_volunteer_is_reminded_before_the_window_and_a_withdrawal_cancels_what_is_left(settings):
    clock = SetClock()
    async with running_notify(settings, clock, notify_window_reminders="24h,1h") as notify:
        soon, start = offer(f"v-{uuid.uuid4().hex[:6]}", at=clock.now()), clock.now() + timedelta(hours=3)
        await announced_and_handled(notify, "notify", settings, received(soon))
        await announce(settings, accepted_for(soon, start, clock.now()))
        hour = await eventually(row_of(notify, soon.assignment_id, "window_reminder@3600s", "pending"))
        clock.advance(timedelta(hours=2) - timedelta(seconds=1))
        await swept(notify)
        early = (await rows_of(notify, soon.assignment_id))["window_reminder@3600s"]
        clock.advance(timedelta(seconds=1))
        reminded = await eventually(row_of(notify, soon.assignment_id, "window_reminder@3600s", "sent"))
        later = offer(f"v-{uuid.uuid4().hex[:6]}", at=clock.now())
        await announced_and_handled(notify, "notify", settings, received(later))
        await announce(settings, accepted_for(later, clock.now() + timedelta(days=2), clock.now()))
        await eventually(lambda: _count(notify, later.assignment_id, 3))
        withdrawn = AssignmentWithdrawn(**about_assignment(later), occurred_at=clock.now(),
                                        reason="the request was cancelled")
        await announce(settings, withdrawn)

        async def settled():
            rows = await rows_of(notify, later.assignment_id)
            reminders = [row for key, row in rows.items() if key.startswith("window_reminder")]
            return rows if [row["status"] for row in reminders] == ["cancelled", "cancelled"] else None
        later_rows = await eventually(settled)
        soon_rows = await rows_of(notify, soon.assignment_id)
        inbox = (await inbox_of(notify, f"volunteer:volunteer-app:{soon.volunteer.external_id}")).json()
    assert datetime.fromisoformat(hour["next_attempt_at"]) == start - timedelta(hours=1)
    assert early["status"] == "pending" and datetime.fromisoformat(reminded["sent_at"]) == start - timedelta(hours=1)
    assert set(soon_rows) == {"confirmation", "window_reminder@3600s"}  # 24 h before had passed: no such reminder
    assert [message["kind"] for message in inbox] == ["window_reminder", "confirmation"]
    assert inbox[0]["subject"] == "服务提醒:家政照料 1 小时后开始" and "幸福路 1 号" in inbox[0]["body"]
    assert later_rows["confirmation"]["status"] == "sent"  # already told: a withdrawal message follows it


async def _count(notify, assignment_id, count):
    return len(await rows_of(notify, assignment_id)) == count
