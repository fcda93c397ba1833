"""notify's reminders against the real RabbitMQ and PostgreSQL: they go at their time, and are
cancelled (never sent) when what they remind of is settled, whatever order the events come in."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notify.app import SERVICE
from shared.events import AssignmentAccepted, AssignmentWithdrawn
from tests.integration.test_notify import announced_and_handled, offer
from tests.support import announce, eventually, running

pytestmark = pytest.mark.integration


def about_assignment(offered) -> dict:
    """What every assignment.* event about this offer carries."""
    return offered.model_dump(include={"correlation_id", "request_id", "source", "external_id", "category",
                                       "community_code", "assignment_id", "volunteer"})


def accepted_for(offered, window_start: datetime | None) -> AssignmentAccepted:
    return AssignmentAccepted(**about_assignment(offered), address="幸福路 1 号", window_start=window_start)


async def rows_of(notify, assignment_id) -> dict[str, dict]:
    """kind (and lead) -> the inbox notification about the assignment."""
    rows = (await notify.get("/api/v1/notifications", params={"assignment_id": str(assignment_id)})).json()
    return {row["kind"] + (f"@{row['lead_seconds']:g}s" if row["lead_seconds"] else ""): row
            for row in rows if row["channel"] == "inbox"}


def running_notify(settings, **changes):
    return running(SERVICE, settings.model_copy(update=changes))


async def test_a_pending_offer_is_reminded_once_before_it_expires(settings):
    async with running_notify(settings, notify_offer_reminder="2s") as notify:
        event = offer(f"v-{uuid.uuid4().hex[:6]}").model_copy(
            update={"expires_at": datetime.now(UTC) + timedelta(seconds=4)})
        await announce(settings, event)

        async def reminded():
            rows = await rows_of(notify, event.assignment_id)
            reminder = next((row for key, row in rows.items() if key.startswith("offer_reminder")), None)
            return rows if reminder and reminder["status"] == "sent" else None
        rows = await eventually(reminded)
        inbox = (await notify.get(f"/api/v1/inbox/volunteer:volunteer-app:{event.volunteer.external_id}")).json()
    assert [message["kind"] for message in inbox] == ["offer_reminder", "offer"]
    assert inbox[0]["subject"] == "提醒:家政照料服务邀请即将过期"
    assert rows["offer"]["status"] == "sent"


async def test_an_answered_offer_is_not_reminded_in_either_order(settings):
    async with running_notify(settings, notify_offer_reminder="30s") as notify:
        first = offer(f"v-{uuid.uuid4().hex[:6]}").model_copy(
            update={"expires_at": datetime.now(UTC) + timedelta(minutes=1)})
        await announce(settings, first)
        await eventually(lambda: _pending_reminder(notify, first.assignment_id))
        await announce(settings, accepted_for(first, None))

        async def cancelled():
            rows = await rows_of(notify, first.assignment_id)
            reminder = next(row for key, row in rows.items() if key.startswith("offer_reminder"))
            return reminder["status"] == "cancelled" and reminder
        reminder = await eventually(cancelled)
        # The acceptance handled before the offer (separate queues): the offer's reminder is never made.
        second = offer(f"v-{uuid.uuid4().hex[:6]}").model_copy(
            update={"expires_at": datetime.now(UTC) + timedelta(minutes=1)})
        await announced_and_handled(notify, settings, accepted_for(second, None), "assignment.accepted")
        await announced_and_handled(notify, settings, second, "assignment.offered")
        late = await rows_of(notify, second.assignment_id)
    assert reminder["attempts"] == 0 and reminder["sent_at"] is None
    assert set(late) == {"confirmation"}  # neither the stale offer nor its reminder


async def _pending_reminder(notify, assignment_id):
    rows = await rows_of(notify, assignment_id)
    return any(key.startswith("offer_reminder") and row["status"] == "pending" for key, row in rows.items())


async def test_a_volunteer_is_reminded_before_the_window_and_a_withdrawal_cancels_what_is_left(settings):
    async with running_notify(settings, notify_window_reminders="24h,1h") as notify:
        soon = offer(f"v-{uuid.uuid4().hex[:6]}")
        start = datetime.now(UTC) + timedelta(hours=1, seconds=3)  # the 1 h reminder is due in 3 s
        await announce(settings, accepted_for(soon, start))

        async def reminded():
            rows = await rows_of(notify, soon.assignment_id)
            hour = rows.get("window_reminder@3600s")
            return rows if hour and hour["status"] == "sent" else None
        rows = await eventually(reminded)
        later = offer(f"v-{uuid.uuid4().hex[:6]}")
        await announce(settings, accepted_for(later, datetime.now(UTC) + timedelta(days=2)))
        await eventually(lambda: _count(notify, later.assignment_id, 3))
        withdrawn = AssignmentWithdrawn(**about_assignment(later), reason="the request was cancelled")
        await announce(settings, withdrawn)

        async def settled():
            rows = await rows_of(notify, later.assignment_id)
            reminders = [row for key, row in rows.items() if key.startswith("window_reminder")]
            return rows if [row["status"] for row in reminders] == ["cancelled", "cancelled"] else None
        later_rows = await eventually(settled)
        inbox = (await notify.get(f"/api/v1/inbox/volunteer:volunteer-app:{soon.volunteer.external_id}")).json()
    assert set(rows) == {"confirmation", "window_reminder@3600s"}  # 24 h before had passed: no such reminder
    assert [message["kind"] for message in inbox] == ["window_reminder", "confirmation"]
    assert inbox[0]["subject"] == "服务提醒:家政照料 1 小时后开始" and "幸福路 1 号" in inbox[0]["body"]
    assert later_rows["confirmation"]["status"] == "sent"  # already told: a withdrawal message follows it


async def _count(notify, assignment_id, count):
    return len(await rows_of(notify, assignment_id)) == count
