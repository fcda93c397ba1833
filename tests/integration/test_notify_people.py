"""Who notify tells, on which channel, in which language, against the real RabbitMQ and
PostgreSQL, a real SMTP server and real HTTP endpoints: residents on their phone (or their
staff), staff from the directory, volunteers in the language of their profile; and what never
leaves for a shared channel."""
import json
import logging
import uuid

import pytest

from services.notify.app import SERVICE
from shared.events import (CaseAssigned, RequestAssigned, RequestCancelled, RequestCompleted, RequestEscalated,
                           RequestHandledByStaff, RequestReceived, Staffed, StaffRef, VolunteerRef)
from shared.reasons import Reason
from shared.submissions import Urgency
from tests.builders.notify import offer, received, registered
from tests.smtp_server import smtp_server
from tests.support import (announce, announced_and_handled, event_tap, eventually, handled, notification_of, inbox_of,
                           publish, running, sent)
from tests.webhook_receiver import SECRET, receiving

pytestmark = pytest.mark.integration


def request_about(external_id: str, community: str = "c-north") -> dict:
    return {"correlation_id": "corr", "request_id": uuid.uuid4(), "source": "hotline-12345",
            "external_id": external_id, "category": "elder_care.meals", "community_code": community}


def staffed() -> tuple[Staffed, ...]:
    volunteer = VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id="v-1")
    return (Staffed(**volunteer.model_dump(), assignment_id=uuid.uuid4()),)


async def test_a_resident_hears_of_assignment_and_completion_by_sms_in_their_language(settings):
    external_id = f"h-{uuid.uuid4().hex[:6]}"
    about = request_about(external_id)
    received = RequestReceived(**about, description="独居老人需要助餐",
                               beneficiary={"name": "Mary Chen", "phone": "13700000007", "language": "en"})
    async with receiving() as gateway, running(SERVICE, settings.model_copy(update={
            "notify_sms_url": gateway.url, "notify_sms_secret": SECRET})) as notify:
        await announced_and_handled(notify, "notify", settings, received)
        assigned = RequestAssigned(**about, volunteers=staffed())
        completed = RequestCompleted(**about, volunteers=staffed(), hours=1.5, people_served=1)
        await announce(settings, assigned)
        await eventually(lambda: sent(notify, assigned, "sms"))
        await announce(settings, completed)
        await eventually(lambda: sent(notify, completed, "sms"))
        resident = f"resident:hotline-12345:{external_id}"
        inbox = [row for row in (await notify.get("/api/v1/notifications", params={"recipient": resident})).json()
                 if row["channel"] == "inbox"]  # the states (ops): nobody reads a resident's messages over HTTP
        refused = (await notify.get(f"/api/v1/inbox/{resident}")).status_code
    texts = [json.loads(body) for body, _ in gateway.calls]
    assert [sms["phone"] for sms in texts] == ["13700000007", "13700000007"]
    assert texts[0]["text"].startswith("Volunteers found for meals") and "1 volunteer will come" in texts[0]["text"]
    assert texts[1]["text"].startswith("Done: meals")
    assert all("Mary Chen" not in sms["text"] for sms in texts)  # their own name need not travel
    assert [message["kind"] for message in inbox] == ["completed", "assigned"] and refused == 403


async def test_a_resident_without_a_phone_is_told_through_the_communitys_staff(settings):
    community, external_id = f"c-{uuid.uuid4().hex[:6]}", f"h-{uuid.uuid4().hex[:6]}"
    assigned = RequestAssigned(**request_about(external_id, community), volunteers=staffed())
    async with running(SERVICE, settings) as notify:
        await announced_and_handled(notify, "notify", settings, received(assigned))  # it named nobody to text
        await announce(settings, assigned)
        await eventually(lambda: sent(notify, assigned, "inbox"))
        [message] = (await inbox_of(notify, f"staff:{community}")).json()
    assert message["subject"] == "请转告居民:助餐服务已安排志愿者" and f"请转告请求 {external_id}" in message["body"]


async def test_staff_are_reached_as_the_directory_says_and_woken_only_for_an_emergency(settings, tmp_path):
    community = f"c-{uuid.uuid4().hex[:6]}"
    directory = tmp_path / "staff.json"
    directory.write_text(json.dumps({community: {"email": f"{community}@station.cn", "phone": "13600000006"}}))
    normal = RequestEscalated(**request_about("h-1", community), reason="没有会做饭的志愿者", urgency="high")
    emergency = RequestEscalated(**request_about("h-2", community), reason="没有医生", urgency="emergency")
    with smtp_server() as (mailbox, port):
        async with receiving() as gateway, running(SERVICE, settings.model_copy(update={
                "notify_staff_file": str(directory), "notify_smtp_host": "127.0.0.1", "notify_smtp_port": port,
                "notify_sms_url": gateway.url, "notify_sms_secret": SECRET})) as notify:
            await announce(settings, normal)
            await announce(settings, emergency)
            await eventually(lambda: sent(notify, emergency, "sms"))
            await eventually(lambda: sent(notify, normal, "email"))
            await eventually(lambda: sent(notify, emergency, "email"))
            assert await notification_of(notify, normal, "sms") is None
    assert [mail["Subject"] for mail in mailbox.messages] == [f"需要协调:{community} 社区的助餐请求"] * 2
    assert {mail["To"] for mail in mailbox.messages} == {f"{community}@station.cn"}
    [(body, _)] = gateway.calls
    assert json.loads(body)["phone"] == "13600000006" and "没有医生" in json.loads(body)["text"]


async def test_a_volunteer_who_reads_english_gets_english_email(settings):
    volunteer = f"v-{uuid.uuid4().hex[:6]}"
    registration = registered(volunteer, name="Tom", email=f"{volunteer}@example.cn", languages=("en", "zh"))
    with smtp_server() as (mailbox, port):
        async with running(SERVICE, settings.model_copy(update={"notify_smtp_host": "127.0.0.1",
                                                                "notify_smtp_port": port})) as notify:
            await announced_and_handled(notify, "notify", settings, registration)
            event = offer(volunteer)
            await announce(settings, event)
            row = await eventually(lambda: sent(notify, event, "email"))
    [mail] = mailbox.messages
    assert row["language"] == "en" and mail["Subject"] == "New volunteer task: housekeeping"
    assert "138****0001" in mail.get_content() and f"task {event.assignment_id}" in mail.get_content()


async def test_case_details_and_residents_contacts_never_reach_the_group_webhook(settings):
    mediator = VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id=f"m-{uuid.uuid4().hex[:6]}")
    case = CaseAssigned(correlation_id="c", case_id=uuid.uuid4(), source="grid-platform", external_id="k",
                        community_code="c-north", level="grid", assignment_id=uuid.uuid4(), volunteer=mediator,
                        dispute_type="noise", summary="楼上噪音,李先生与王女士")
    async with receiving() as group, running(SERVICE, settings.model_copy(update={
            "notify_webhook_url": group.url, "notify_webhook_secret": SECRET})) as notify:
        event = offer(f"v-{uuid.uuid4().hex[:6]}")
        await announce(settings, case)
        await announce(settings, event)
        await eventually(lambda: sent(notify, event, "webhook"))
        await eventually(lambda: sent(notify, case, "inbox"))
        assert await notification_of(notify, case, "webhook") is None
    assert all("楼上噪音" not in body.decode() for body, _ in group.calls)
    assert [json.loads(body)["kind"] for body, _ in group.calls] == ["offer"]


async def test_a_malformed_event_is_dead_lettered_without_a_residents_number_in_the_log(settings, caplog):
    body = {**request_about("h-bad"), "request_id": str(uuid.uuid4()), "event_id": str(uuid.uuid4()),
            "description": "d", "beneficiary": {"name": "王秀英", "phone": "13912345678 转 王秀英"}}
    async with running(SERVICE, settings) as notify:
        with caplog.at_level(logging.ERROR, logger="shared.consumer"):
            before = await handled(notify, "notify", handler="notify.request-received")
            await publish(settings, "request.received", body, exchange="linli.personal")

            async def logged():
                return [r for r in caplog.records if "does not match its schema" in r.getMessage()]
            [record] = await eventually(logged)
        assert await handled(notify, "notify", handler="notify.request-received") == before  # rejected
    assert "beneficiary.phone" in record.getMessage()
    assert "13912345678" not in record.getMessage() and "王秀英" not in record.getMessage()


async def test_a_gateway_that_echoes_the_number_in_its_refusal_has_it_masked_in_the_error(settings):
    volunteer = f"v-{uuid.uuid4().hex[:6]}"
    registration = registered(volunteer, phone="13900000002")
    async with receiving() as gateway, running(SERVICE, settings.model_copy(update={
            "notify_sms_url": gateway.url, "notify_sms_secret": SECRET, "notify_max_attempts": 1})) as notify, \
            event_tap(settings) as tap:
        gateway.failures, gateway.echo = 1000, True
        await announced_and_handled(notify, "notify", settings, registration)
        emergency = offer(volunteer).model_copy(update={"urgency": Urgency.EMERGENCY})
        await announce(settings, emergency)
        [failed] = await tap.wait_for("notification.failed")
        row = await notification_of(notify, emergency, "sms")
    assert "13900000002" in gateway.calls[0][0].decode()  # the gateway did quote it
    assert row["status"] == "failed" and "answered 400" in row["last_error"]
    for error in (row["last_error"], failed["error"]):
        assert "139****0002" in error and "13900000002" not in error


async def test_staff_read_an_escalation_s_reason_in_the_language_of_their_profile(settings, tmp_path):
    chinese, english = f"c-{uuid.uuid4().hex[:6]}", f"c-{uuid.uuid4().hex[:6]}"
    directory = tmp_path / "staff.json"
    directory.write_text(json.dumps({english: {"languages": ["en"]}}))
    why = Reason(code="nobody_able", params={"task": "elder_care.meals", "level": None, "places": [chinese],
                                             "failures": {"lacks_skill": 1}})
    coded = RequestEscalated(**request_about("h-1", chinese), **why.fields(), urgency="high")
    old = RequestEscalated(**request_about("h-2", english), reason="nobody could", urgency="high")  # no code
    read = RequestEscalated(**request_about("h-3", english), **why.fields(), urgency="high")
    # two escalations for one community: with no backlog window (0), each is told at once
    async with running(SERVICE, settings.model_copy(update={"notify_staff_file": str(directory),
                                                            "notify_staff_digest_seconds": 0})) as notify:
        for event in (coded, old, read):
            await announce(settings, event)
        for event in (coded, old, read):
            await eventually(lambda: sent(notify, event, "inbox"))
        [to_chinese] = (await inbox_of(notify, f"staff:{chinese}")).json()
        to_english = (await inbox_of(notify, f"staff:{english}")).json()
    assert f"社区 {chinese} 无人能接助餐(elder_care.meals):1人缺少所需技能" in to_chinese["body"]
    bodies = [message["body"] for message in to_english]
    assert len(bodies) == 2 and all(body.startswith("Nobody can take a meals request") for body in bodies)
    assert any(why.text("en") in body for body in bodies) and any("nobody could" in body for body in bodies)


async def test_a_resident_hears_by_sms_that_staff_handled_or_closed_their_request(settings):
    staff = StaffRef(subject="staff-1", role="community_staff", area="c-north")
    handled_about, closed_about = request_about(f"h-{uuid.uuid4().hex[:6]}"), request_about(f"h-{uuid.uuid4().hex[:6]}")
    by_staff = RequestHandledByStaff(**handled_about, hours=1.0, people_served=1, staff=staff, note="已送餐上门")
    not_needed = RequestCancelled(**closed_about, cancelled_by=staff,
                                  **Reason(code="not_needed", params={"note": "已入住养老院"}).fields())
    async with receiving() as gateway, running(SERVICE, settings.model_copy(update={
            "notify_sms_url": gateway.url, "notify_sms_secret": SECRET})) as notify:
        for about in (handled_about, closed_about):
            await announced_and_handled(notify, "notify", settings, RequestReceived(
                **about, description="需要助餐", beneficiary={"phone": "13700000008"}))
        await announce(settings, by_staff)
        await announce(settings, not_needed)
        await eventually(lambda: sent(notify, by_staff, "sms"))
        await eventually(lambda: sent(notify, not_needed, "sms"))
    texts = sorted(json.loads(body)["text"] for body, _ in gateway.calls)
    assert texts[0].startswith("助餐服务已完成") and texts[1].startswith("助餐请求已关闭")
    assert "社区工作人员完成" in texts[0] and "已无需服务" in texts[1]
    assert not any("已送餐上门" in sms or "已入住养老院" in sms for sms in texts)  # staff notes stay with staff
