"""notify's rules, with no servers."""
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.notify.domain import (
    EMAIL,
    INBOX,
    SMS,
    WEBHOOK,
    Contact,
    channels_for,
    messages_for,
    not_before,
    quiet_hours,
)
from shared.events import (
    AssignmentOffered,
    AssignmentWithdrawn,
    RequestEscalated,
    RequestReceived,
    VolunteerRef,
)
from shared.privacy import mask_phone_numbers

ABOUT = {"correlation_id": "c", "request_id": uuid.UUID(int=7), "source": "hotline-12345", "external_id": "h-1",
         "category": "elder_care.meals", "community_code": "c-north"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def offer(**changes) -> AssignmentOffered:
    volunteer = VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id="v-1")
    return AssignmentOffered(**{**ABOUT, "assignment_id": uuid.uuid4(), "volunteer": volunteer, "urgency": "normal",
                                "description": "独居老人需要助餐", "address": "幸福路 1 号",
                                "expires_at": datetime(2026, 3, 1, tzinfo=UTC), **changes})


def test_an_offer_goes_to_its_volunteer_in_chinese():
    event = offer(window_start=datetime(2026, 3, 1, 2, tzinfo=UTC))
    [message] = messages_for(event, SHANGHAI)
    assert message.recipient == "volunteer:volunteer-app:v-1" and message.kind == "offer"
    assert message.subject == "新的志愿服务:助餐"
    assert "c-north 社区" in message.body and "幸福路 1 号" in message.body
    assert "时间:2026-03-01 10:00" in message.body  # the city's clock, not UTC
    # What the volunteer needs to answer (assignment.respond), and by when.
    assert "请在 2026-03-01 08:00 前" in message.body and f"任务编号 {event.assignment_id}" in message.body


def test_a_case_offer_names_the_dispute_type_only():
    """A case is not a request: no request id, and its summary waits until the mediator accepts."""
    case_offer = offer(request_id=None, case_id=uuid.uuid4(), level="grid", category="mediation",
                       description="noise", address=None)
    [message] = messages_for(case_offer, SHANGHAI)
    assert message.recipient == "volunteer:volunteer-app:v-1" and message.subject == "新的志愿服务:矛盾纠纷调解"
    assert "矛盾纠纷调解服务需要您:noise。" in message.body and "None" not in message.body


def test_an_offer_refuses_a_window_start_without_an_offset():
    with pytest.raises(ValidationError, match="window_start"):
        offer(window_start=datetime(2026, 3, 1, 9, 30))


def test_an_offer_without_address_or_time_says_so():
    [message] = messages_for(offer(address=None), SHANGHAI)
    assert "见服务详情" in message.body and "待约定" in message.body


def test_an_escalation_goes_to_the_communitys_staff_with_the_reason():
    event = RequestEscalated(**ABOUT, reason="没有会做饭的志愿者", urgency="high")
    [message] = messages_for(event, SHANGHAI)
    assert message.recipient == "staff:c-north" and message.kind == "escalation"
    assert message.subject == "需要协调:c-north 社区的助餐请求"
    assert "c-north 社区的一项助餐请求" in message.body
    assert "没有会做饭的志愿者" in message.body and str(ABOUT["request_id"]) in message.body


def test_events_that_concern_nobody_make_no_message():
    assert messages_for(RequestReceived(**ABOUT, description="d"), SHANGHAI) == []


def test_phone_numbers_are_masked_in_messages():
    assert mask_phone_numbers("请联系 13800000001 或 0591-12345") == "请联系 138****0001 或 0591-12345"
    for written in ("138-0000-0001", "138 0000 0001", "+86 13800000001", "+8613800000001", "8613800000001"):
        assert mask_phone_numbers(f"电话{written}。") == "电话138****0001。", written
    assert mask_phone_numbers("座机 0591-87654321,010 1234 5678") == "座机 0591-****4321,010-****5678"
    assert mask_phone_numbers("2026-03-01 楼号 12") == "2026-03-01 楼号 12"


def test_no_phone_number_reaches_a_message_body():
    [message] = messages_for(offer(description="老人电话 13912345678,需要助餐", address="幸福路 1 号,电话 0591-87654321"),
                             SHANGHAI)
    assert "13912345678" not in message.body and "139****5678" in message.body
    assert "87654321" not in message.body
    [message] = messages_for(RequestEscalated(**ABOUT, reason="家属 139 1234 5678 不接电话", urgency="high"), SHANGHAI)
    assert "5678" in message.body and "139 1234 5678" not in message.body


def test_channels_follow_the_profile_the_urgency_and_what_is_configured():
    wang, everything = Contact(email="wang@example.cn", phone="13800000001"), frozenset({INBOX, WEBHOOK, EMAIL, SMS})
    assert channels_for(None, False, frozenset({INBOX})) == {INBOX: None}
    assert channels_for(None, True, everything) == {INBOX: None, WEBHOOK: None}  # no profile: no address
    assert channels_for(wang, False, everything) == {INBOX: None, WEBHOOK: None, EMAIL: "wang@example.cn"}
    assert channels_for(wang, True, everything)[SMS] == "13800000001"  # SMS only when urgent
    assert channels_for(wang, True, frozenset({INBOX})) == {INBOX: None}


def test_what_can_wait_waits_for_the_end_of_the_quiet_hours_and_an_emergency_does_not():
    night = quiet_hours("22:00-07:00")
    late = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    early = datetime(2026, 3, 1, 21, tzinfo=UTC)  # 05:00 the next day
    noon = datetime(2026, 3, 1, 4, tzinfo=UTC)
    assert not_before(late, False, SHANGHAI, night) == datetime(2026, 3, 2, 7, tzinfo=SHANGHAI)
    assert not_before(early, False, SHANGHAI, night) == datetime(2026, 3, 2, 7, tzinfo=SHANGHAI)
    assert not_before(noon, False, SHANGHAI, night) == noon
    assert not_before(late, True, SHANGHAI, night) == late
    assert not_before(late, False, SHANGHAI, quiet_hours("")) == late
    lunch = quiet_hours("12:00-13:30")
    assert not_before(noon, False, SHANGHAI, lunch) == datetime(2026, 3, 1, 13, 30, tzinfo=SHANGHAI)


def test_an_emergency_offer_is_urgent_and_a_withdrawal_tells_the_volunteer_why():
    assert messages_for(offer(urgency="emergency"), SHANGHAI)[0].urgent
    assert not messages_for(offer(), SHANGHAI)[0].urgent
    withdrawn = AssignmentWithdrawn(**{**ABOUT, "assignment_id": uuid.uuid4(), "reason": "the request was cancelled",
                                       "volunteer": VolunteerRef(volunteer_id=uuid.uuid4(), source="app",
                                                                 external_id="v-2")})
    [message] = messages_for(withdrawn, SHANGHAI)
    assert message.recipient == "volunteer:app:v-2" and "the request was cancelled" in message.body
