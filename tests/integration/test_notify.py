"""notify against the real RabbitMQ and PostgreSQL, delivering to a real HTTP endpoint."""
import json
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notify.app import SERVICE
from shared.events import CaseAssigned, CaseEscalated, RequestEscalated, VolunteerRef
from shared.submissions import Urgency
from tests.builders.notify import offer, registered
from tests.clock import SetClock
from tests.smtp_server import smtp_server
from tests.support import (announce, announced_and_handled, event_tap, eventually, handled, metric, inbox_of,
                           notification_of, running, sent, swept, until_handled)
from tests.webhook_receiver import SECRET, receiving, signed_by_secret

pytestmark = pytest.mark.integration


async def deliveries(client, outcome: str) -> float:
    return await metric(client, "linli_notify_deliveries_total", channel="webhook", outcome=outcome)


async def test_an_offer_reaches_the_inbox_and_a_signed_webhook_once(settings):
    async with receiving() as receiver, running(SERVICE, settings.model_copy(update={
            "notify_webhook_url": receiver.url, "notify_webhook_secret": SECRET})) as notify, \
            event_tap(settings) as tap:
        event = offer(f"v-{uuid.uuid4().hex[:6]}")
        recipient = f"volunteer:volunteer-app:{event.volunteer.external_id}"
        before = await handled(notify, "notify")
        await announce(settings, event)
        await announce(settings, event)  # redelivered
        await announce(settings, event, message_id=str(uuid.uuid4()))  # re-published
        await until_handled(notify, "notify", before, 3)
        rows = (await notify.get("/api/v1/notifications", params={"about_event_id": str(event.event_id)})).json()
        assert sorted(row["channel"] for row in rows) == ["inbox", "webhook"]  # one per channel, whatever the copies
        sent = await tap.wait_for("notification.sent", 2)
        [message] = (await inbox_of(notify, f"{recipient}")).json()
    assert message["subject"] == "新的志愿服务:家政照料"
    assert "138****0001" in message["body"] and "13800000001" not in message["body"]
    offers = [(body, header) for body, header in receiver.calls if json.loads(body)["recipient"] == recipient]
    assert len(offers) == 1 and signed_by_secret(*offers[0])
    webhook = json.loads(offers[0][0])
    assert webhook["body"] == message["body"] and webhook["subject"] == message["subject"]
    assert webhook["about"] == "assignment.offered" and webhook["about_event_id"] == str(event.event_id)
    by_channel = {row["channel"]: row["notification_id"] for row in rows}
    assert webhook["kind"] == "offer" and webhook["notification_id"] == by_channel["webhook"]
    assert message["notification_id"] == by_channel["inbox"]
    assert {s["channel"] for s in sent} == {"inbox", "webhook"}
    assert all(s["about_event_id"] == str(event.event_id) and s["correlation_id"] == "corr" for s in sent)


def next_attempt(row: dict) -> datetime:
    return datetime.fromisoformat(row["next_attempt_at"])


async def test_a_failing_endpoint_is_retried_with_backoff_until_it_recovers(settings):
    clock = SetClock()
    async with receiving() as receiver:
        config = settings.model_copy(update={"notify_webhook_url": receiver.url, "notify_webhook_secret": SECRET})
        base = timedelta(seconds=config.notify_retry_base_seconds)  # then twice as long
        async with running(SERVICE, config, clock=clock) as notify:
            receiver.failures = 2
            event = offer(at=clock.now())
            counted = {outcome: await deliveries(notify, outcome) for outcome in ("retried", "sent")}
            await announce(settings, event)

            def tried(times: int):
                async def check():
                    row = await notification_of(notify, event, "webhook")
                    return row if row and row["attempts"] == times else None
                return check
            first = await eventually(tried(1))
            assert first["status"] == "pending" and next_attempt(first) == clock.now() + base
            clock.advance(base - timedelta(milliseconds=1))
            await swept(notify)
            assert len(receiver.calls) == 1  # not retried before its time
            clock.advance(timedelta(milliseconds=1))
            second = await eventually(tried(2))
            assert next_attempt(second) == clock.now() + 2 * base
            clock.advance(2 * base)
            row = await eventually(lambda: sent(notify, event, "webhook"))
            retried = await deliveries(notify, "retried") - counted["retried"]
            sent_once = await deliveries(notify, "sent") - counted["sent"]
    assert row["attempts"] == 3 and row["last_error"] is None
    assert len(receiver.calls) == 3 and all(signed_by_secret(*call) for call in receiver.calls)
    assert (retried, sent_once) == (2, 1)


async def test_an_endpoint_that_never_answers_well_fails_the_notification_after_the_last_try(settings):
    async with receiving() as receiver, running(SERVICE, settings.model_copy(update={
            "notify_webhook_url": receiver.url, "notify_webhook_secret": SECRET,
            "notify_retry_base_seconds": 0.1, "notify_max_attempts": 2})) as notify, event_tap(settings) as tap:
        receiver.failures = 1000
        event = offer()
        await announce(settings, event)
        [failed] = await tap.wait_for("notification.failed")
        row = await notification_of(notify, event, "webhook")
        inbox = await notification_of(notify, event, "inbox")
    assert failed["attempts"] == 2 and "answered 503" in failed["error"]
    assert row["status"] == "failed" and row["attempts"] == 2
    assert inbox["status"] == "sent"  # one channel failing does not hold back another


async def test_an_escalation_reaches_the_communitys_staff(settings):
    community = f"c-{uuid.uuid4().hex[:6]}"
    event = RequestEscalated(correlation_id="corr", request_id=uuid.uuid4(), source="hotline-12345", external_id="h",
                             category="elder_care.meals", community_code=community, reason="没有会做饭的志愿者",
                             urgency="high")
    # an empty NOTIFY_WEBHOOK_URL, as a deployment leaves it, means no webhook
    async with running(SERVICE, settings.model_copy(update={"notify_webhook_url": ""})) as notify, \
            event_tap(settings) as tap:
        await announce(settings, event)
        [sent] = await tap.wait_for("notification.sent")
        [message] = (await inbox_of(notify, f"staff:{community}")).json()
        rows = (await notify.get("/api/v1/notifications", params={"recipient": f"staff:{community}"})).json()
    assert message["subject"] == f"需要协调:{community} 社区的助餐请求" and "没有会做饭的志愿者" in message["body"]
    assert [(row["channel"], row["status"], row["attempts"]) for row in rows] == [("inbox", "sent", 1)]
    assert sent["about"] == "request.escalated" and sent["recipient"] == f"staff:{community}"


async def test_pending_notifications_survive_a_restart(settings):
    """A webhook that is down while notify stops: the next notify process delivers what was pending."""
    event = offer()
    async with receiving() as receiver:
        receiver.failures = 1000
        config = settings.model_copy(update={"notify_webhook_url": receiver.url, "notify_webhook_secret": SECRET,
                                             "notify_retry_base_seconds": 0.2, "notify_max_attempts": 50})
        async with running(SERVICE, config) as notify:
            await announce(settings, event)
            await eventually(lambda: len(receiver.calls) >= 1)
        receiver.failures = 0
        async with running(SERVICE, config) as notify:
            async def delivered():
                row = await notification_of(notify, event, "webhook")
                return row if row["status"] == "sent" else None
            row = await eventually(delivered)
    assert row["attempts"] >= 2


async def test_quiet_hours_hold_what_can_wait_until_they_end_and_let_an_emergency_through(settings):
    city = ZoneInfo(settings.linli_timezone)
    clock = SetClock(datetime(2026, 3, 2, 23, 0, tzinfo=city))
    async with running(SERVICE, settings.model_copy(update={"notify_quiet_hours": "22:00-07:00"}),
                       clock=clock) as notify:
        normal = offer(f"v-{uuid.uuid4().hex[:6]}", at=clock.now())
        emergency = offer(f"v-{uuid.uuid4().hex[:6]}", at=clock.now()).model_copy(
            update={"urgency": Urgency.EMERGENCY})
        await announce(settings, normal)
        await announce(settings, emergency)
        await eventually(lambda: sent(notify, emergency, "inbox"))
        held = await eventually(lambda: notification_of(notify, normal, "inbox"))
        clock.set(datetime(2026, 3, 3, 6, 59, 59, tzinfo=city))
        await swept(notify)
        still = await notification_of(notify, normal, "inbox")
        clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=city))
        woken = await eventually(lambda: sent(notify, normal, "inbox"))
    assert held["status"] == "pending" and held["attempts"] == 0
    assert next_attempt(held) == datetime(2026, 3, 3, 7, 0, tzinfo=city)
    assert still["status"] == "pending"
    assert woken["attempts"] == 1


async def test_case_details_go_to_the_mediator_and_its_steps_to_staff(settings):
    place = f"c-{uuid.uuid4().hex[:6]}"
    about = {"correlation_id": "corr", "case_id": uuid.uuid4(), "source": "grid-platform", "external_id": "k",
             "community_code": place}
    mediator = VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id=f"m-{uuid.uuid4().hex[:6]}")
    assigned = CaseAssigned(**about, level="community", assignment_id=uuid.uuid4(), volunteer=mediator,
                            dispute_type="noise", summary="楼上噪音,电话 13800000001")
    escalated = CaseEscalated(**about, level="street", from_level="community", reason="no agreement at community level")
    async with running(SERVICE, settings) as notify:
        await announced_and_handled(notify, "notify", settings, assigned)
        await announce(settings, escalated)

        async def inboxes():
            mine = (await inbox_of(notify, f"volunteer:volunteer-app:{mediator.external_id}")).json()
            staff = (await inbox_of(notify, f"staff:{place}")).json()
            return (mine, staff) if len(mine) == 2 and staff else None
        [handed_on, case], [step] = await eventually(inboxes)
    assert "楼上噪音" in case["body"] and "138****0001" in case["body"]
    assert "楼上噪音" not in step["body"] and "升至街道" in step["subject"]
    assert handed_on["subject"] == "您调解的案件已升至街道" and "楼上噪音" not in handed_on["body"]


async def test_a_volunteer_with_an_email_address_gets_their_offer_by_real_email(settings):
    volunteer = f"v-{uuid.uuid4().hex[:6]}"
    with smtp_server() as (mailbox, port):
        async with running(SERVICE, settings.model_copy(update={"notify_smtp_host": "127.0.0.1",
                                                                "notify_smtp_port": port})) as notify:
            await announced_and_handled(notify, "notify", settings, registered(volunteer, email=f"{volunteer}@example.cn"))
            event = offer(volunteer)
            await announce(settings, event)
            await eventually(lambda: sent(notify, event, "email"))
            stranger = offer(f"v-{uuid.uuid4().hex[:6]}")  # registered with no address: inbox only
            await announce(settings, stranger)
            await eventually(lambda: notification_of(notify, stranger, "inbox"))
            assert await notification_of(notify, stranger, "email") is None
    [mail] = mailbox.messages
    assert mail["To"] == f"{volunteer}@example.cn" and mail["Subject"] == "新的志愿服务:家政照料"
    assert f"任务编号 {event.assignment_id}" in mail.get_content() and "138****0001" in mail.get_content()


async def test_an_emergency_also_reaches_the_volunteer_s_phone_through_the_sms_gateway(settings):
    volunteer = f"v-{uuid.uuid4().hex[:6]}"
    async with receiving() as gateway, running(SERVICE, settings.model_copy(update={
            "notify_sms_url": gateway.url, "notify_sms_secret": SECRET})) as notify:
        await announced_and_handled(notify, "notify", settings, registered(volunteer, phone="13900000002"))
        normal = offer(volunteer)
        emergency = offer(volunteer).model_copy(update={"event_id": uuid.uuid4(), "urgency": Urgency.EMERGENCY})
        await announce(settings, normal)
        await announce(settings, emergency)

        await eventually(lambda: sent(notify, emergency, "sms"))
        await eventually(lambda: notification_of(notify, normal, "inbox"))
        assert await notification_of(notify, normal, "sms") is None  # it can wait for the app
    [(body, signature)] = gateway.calls
    sms = json.loads(body)
    assert sms["phone"] == "13900000002" and "新的志愿服务" in sms["text"] and signed_by_secret(body, signature)
