"""notify's rules, with no servers: who is told what, in which language, over which channels,
at what hour, with which reminders; and what is masked."""
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.notify.context import timing
from services.notify.directory import load_staff
from services.notify.domain.messages import (COMPOSERS, Context, Message, messages_for, settled_by)
from services.notify.domain.reminders import duration, durations, offer_reminder, window_reminders
from services.notify.domain.routing import EMAIL, INBOX, SMS, WEBHOOK, Contact, channels_for, language_for
from services.notify.rendering import Renderer
from shared.events import (AssignmentAccepted, AssignmentDeclined, AssignmentOffered, AssignmentWithdrawn,
                           CaseAssigned, CaseEscalated, CaseFollowUpDue, RequestAssigned, RequestCancelled,
                           RequestCompleted, RequestEscalated, RequestHandledByStaff, RequestMissed, RequestReceived,
                           Staffed, StaffRef, VolunteerRef)
from shared.privacy import MaskingFormatter, mask_name, mask_names, mask_phone_numbers
from shared.quiet_hours import not_before, quiet_hours
from shared.reasons import Reason
from shared.settings import Settings

ABOUT = {"correlation_id": "c", "request_id": uuid.UUID(int=7), "source": "hotline-12345", "external_id": "h-1",
         "category": "elder_care.meals", "community_code": "c-north"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in the city
RENDERER = Renderer(SHANGHAI)
WANG = Contact(phone="13912345678", name="王秀英", has_app=False)  # a resident
VOLUNTEER = VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id="v-1")
EVERYTHING = frozenset({INBOX, WEBHOOK, EMAIL, SMS})
STAFF = StaffRef(subject="staff-1", role="community_staff", area="c-north")


def context(resident: Contact | None = None, **changes) -> Context:
    return Context(**{"timezone": SHANGHAI, "now": NOW, "resident": resident, **changes})


def offer(**changes) -> AssignmentOffered:
    return AssignmentOffered(**{**ABOUT, "occurred_at": NOW, "assignment_id": uuid.uuid4(), "volunteer": VOLUNTEER,
                                "urgency": "normal", "description": "独居老人需要助餐", "address": "幸福路 1 号",
                                "expires_at": NOW + timedelta(minutes=30), **changes})


def accepted(**changes) -> AssignmentAccepted:
    return AssignmentAccepted(**{**ABOUT, "occurred_at": NOW, "assignment_id": uuid.uuid4(), "volunteer": VOLUNTEER,
                                 "address": "幸福路 1 号", "window_start": NOW + timedelta(days=2), **changes})


def staffed() -> tuple[Staffed, ...]:
    return (Staffed(**VOLUNTEER.model_dump(), assignment_id=uuid.uuid4()),)


def text(message: Message, language: str = "zh-CN") -> tuple[str, str]:
    return RENDERER.render(message.kind, language, message.fields)


def the_message(event, ctx: Context | None = None) -> tuple[Message, str, str]:
    [message] = messages_for(event, ctx or context())
    return (message, *text(message))


def test_an_offer_goes_to_its_volunteer_in_chinese():
    event = offer(window_start=datetime(2026, 3, 1, 2, tzinfo=UTC))
    message, subject, body = the_message(event)
    assert message.recipient == "volunteer:volunteer-app:v-1" and message.kind == "offer"
    assert subject == "新的志愿服务:助餐"
    assert "c-north 社区" in body and "幸福路 1 号" in body
    assert "时间:2026-03-01 10:00" in body  # the city's clock, not UTC
    # What the volunteer needs to answer (assignment.respond), and by when.
    assert "请在 2026-03-01 09:30 前" in body and f"任务编号 {event.assignment_id}" in body


def test_a_volunteer_who_reads_english_gets_english():
    [message] = messages_for(offer(), context(offer_reminder=None))
    subject, body = text(message, language_for(Contact(languages=("en", "zh"))))
    assert subject == "New volunteer task: meals"
    assert "Community c-north needs you for meals" in body and "before 2026-03-01 09:30" in body


def test_the_language_is_the_first_of_the_profile_that_linli_writes():
    assert language_for(None) == "zh-CN"
    assert language_for(Contact(languages=())) == "zh-CN"
    assert language_for(Contact(languages=("minnan", "en"))) == "zh-CN"  # 闽南话 speakers read Chinese
    assert language_for(Contact(languages=("fr", "en-GB"))) == "en"
    assert language_for(Contact(languages=("fr",))) == "zh-CN"


def test_every_message_renders_in_both_languages_without_a_missing_field():
    """StrictUndefined: a template that names a field its composer does not give fails here."""
    case = {"correlation_id": "c", "case_id": uuid.uuid4(), "source": "grid", "external_id": "k",
            "community_code": "c-north", "level": "community"}
    events = [offer(), accepted(), AssignmentWithdrawn(**{**ABOUT, "assignment_id": uuid.uuid4(),
                                                         "volunteer": VOLUNTEER, "reason": "cancelled"}),
              RequestAssigned(**ABOUT, volunteers=staffed()), RequestCompleted(**ABOUT, volunteers=staffed(),
                                                                              hours=1, people_served=1),
              RequestEscalated(**ABOUT, reason="nobody", urgency="high"),
              RequestMissed(**ABOUT, volunteers=staffed(), window_end=NOW),
              CaseAssigned(**case, assignment_id=uuid.uuid4(), volunteer=VOLUNTEER, dispute_type="noise",
                           summary="楼上噪音"),
              CaseEscalated(**case, from_level="grid", reason="no agreement"),
              CaseFollowUpDue(**case, outcome="agreement", follow_up_at=NOW),
              RequestHandledByStaff(**ABOUT, hours=1, people_served=1, staff=STAFF),
              RequestCancelled(**ABOUT, cancelled_by=STAFF, **Reason(code="not_needed", params={}).fields())]
    assert {type(event) for event in events} == set(COMPOSERS)
    kinds = set()
    for event in events:
        for message in messages_for(event, context(WANG, offer_reminder=timedelta(minutes=10),
                                                   window_reminders=(timedelta(hours=1),),
                                                   mediators={"grid": "volunteer:app:m-1"})):
            kinds.add(message.kind)
            for language in ("zh-CN", "en"):
                subject, body = text(message, language)
                assert subject and body and "None" not in subject + body, (message.kind, language, body)
    assert len(kinds) == 15


def test_a_case_offer_names_the_dispute_type_only():
    """A case is not a request: no request id, and its summary waits until the mediator accepts."""
    case_offer = offer(request_id=None, case_id=uuid.uuid4(), level="grid", category="mediation",
                       description="noise", address=None)
    message, subject, body = the_message(case_offer, context(offer_reminder=None))
    assert message.recipient == "volunteer:volunteer-app:v-1" and subject == "新的志愿服务:矛盾纠纷调解"
    assert "矛盾纠纷调解服务需要您:noise。" in body and "None" not in body


def test_an_offer_refuses_a_window_start_without_an_offset():
    with pytest.raises(ValidationError, match="window_start"):
        offer(window_start=datetime(2026, 3, 1, 9, 30))


def test_an_offer_without_address_or_time_says_so():
    _, _, body = the_message(offer(address=None))
    assert "见服务详情" in body and "待约定" in body


def test_an_escalation_goes_to_the_communitys_staff_with_the_reason():
    message, subject, body = the_message(RequestEscalated(**ABOUT, reason="没有会做饭的志愿者", urgency="high"))
    assert message.recipient == "staff:c-north" and message.kind == "escalation" and not message.urgent
    assert subject == "需要协调:c-north 社区的助餐请求"
    assert "c-north 社区的一项助餐请求" in body
    assert "没有会做饭的志愿者" in body and str(ABOUT["request_id"]) in body
    assert the_message(RequestEscalated(**ABOUT, reason="r", urgency="emergency"))[0].urgent


def test_events_that_concern_nobody_make_no_message():
    assert messages_for(RequestReceived(**ABOUT, description="d"), context()) == []
    assert messages_for(AssignmentDeclined(**{**ABOUT, "assignment_id": uuid.uuid4(), "volunteer": VOLUNTEER}),
                        context()) == []


def test_phone_numbers_are_masked_in_free_text():
    assert mask_phone_numbers("请联系 13800000001 或 0591-12345") == "请联系 138****0001 或 0591-12345"
    for written in ("138-0000-0001", "138 0000 0001", "+86 13800000001", "+8613800000001", "8613800000001"):
        assert mask_phone_numbers(f"电话{written}。") == "电话138****0001。", written
    assert mask_phone_numbers("座机 0591-87654321,010 1234 5678") == "座机 0591-****4321,010-****5678"
    assert mask_phone_numbers("2026-03-01 楼号 12") == "2026-03-01 楼号 12"


def test_an_id_whose_digits_read_as_a_phone_is_left_whole():
    for request_id in ("f0807453-9306-49e5-9b93-ed96f5e8ec00", "abcd1234-0591-4234-8123-000000000000"):
        text = f"request h-1 was linked to request {request_id}; call 13800000001"
        assert mask_phone_numbers(text) == f"request h-1 was linked to request {request_id}; call 138****0001"


def test_names_are_masked_where_known():
    assert mask_name("王秀英") == "王**" and mask_name("Li Na") == "L****"
    assert mask_names("王秀英老人,王秀英的女儿", ["王秀英", "王秀"]) == "王**老人,王**的女儿"
    assert mask_names("王老人", ["王"]) == "王老人"  # a one-character "name" would mask every 王


def test_an_offer_shows_the_volunteer_neither_the_residents_number_nor_name():
    event = offer(description="王秀英老人电话 13912345678,需要助餐", address="幸福路 1 号,电话 0591-87654321")
    _, _, body = the_message(event, context(WANG, offer_reminder=None))
    assert "13912345678" not in body and "139****5678" in body and "87654321" not in body
    assert "王秀英" not in body and "王**老人" in body
    _, _, body = the_message(RequestEscalated(**ABOUT, reason="家属 139 1234 5678 不接电话", urgency="high"))
    assert "5678" in body and "139 1234 5678" not in body


def test_the_volunteer_who_accepted_gets_the_residents_contact_privately_and_reminders_before_the_window():
    event = accepted(window_start=NOW + timedelta(hours=30))
    messages = messages_for(event, context(WANG, window_reminders=durations("24h,1h")))
    confirmation, day_before, hour_before = messages
    assert {m.recipient for m in messages} == {"volunteer:volunteer-app:v-1"}
    assert all(m.private and m.assignment_id == event.assignment_id for m in messages)
    assert confirmation.kind == "confirmation" and confirmation.send_at is None
    assert "王秀英,电话 13912345678" in text(confirmation)[1] and "幸福路 1 号" in text(confirmation)[1]
    assert (day_before.send_at, day_before.lead) == (NOW + timedelta(hours=6), timedelta(hours=24))
    assert (hour_before.send_at, hour_before.deadline) == (NOW + timedelta(hours=29), event.window_start)
    assert text(hour_before)[0] == "服务提醒:助餐 1 小时后开始"
    assert text(day_before, "en")[0] == "Reminder: meals starts in 24 hours"


def test_a_mediator_hears_the_case_from_case_assigned_not_from_the_acceptance():
    assert messages_for(accepted(request_id=None, case_id=uuid.uuid4(), category="mediation"), context()) == []


def test_window_reminders_only_ahead_and_only_with_a_window():
    start, leads = NOW + timedelta(hours=3), durations("24h, 1h")
    assert leads == (timedelta(hours=24), timedelta(hours=1))
    assert window_reminders(start, leads, NOW) == [(NOW + timedelta(hours=2), timedelta(hours=1))]
    assert window_reminders(None, leads, NOW) == []
    assert window_reminders(start, durations(""), NOW) == []


def test_an_offer_is_reminded_once_before_it_expires_never_in_the_first_half_of_its_life():
    half_hour, five_minutes = NOW + timedelta(minutes=30), NOW + timedelta(minutes=5)
    ten_minutes = timedelta(minutes=10)
    assert offer_reminder(NOW, half_hour, ten_minutes, NOW) == NOW + timedelta(minutes=20)
    assert offer_reminder(NOW, five_minutes, ten_minutes, NOW) == NOW + timedelta(minutes=2.5)
    assert offer_reminder(NOW, half_hour, None, NOW) is None
    assert offer_reminder(NOW, half_hour, ten_minutes, NOW + timedelta(minutes=25)) is None  # handled too late
    offered, reminder = messages_for(offer(), context(offer_reminder=ten_minutes))
    assert (reminder.kind, reminder.send_at, reminder.deadline) == ("offer_reminder", NOW + timedelta(minutes=20),
                                                                    half_hour)
    assert "将于 2026-03-01 09:30 过期" in text(reminder)[1]


def test_durations_are_read_or_refused_with_the_reason():
    assert duration("90m") == timedelta(minutes=90) and duration("2d") == timedelta(days=2)
    assert duration("0.5h") == timedelta(minutes=30)
    with pytest.raises(ValueError, match="not a duration like 24h"):
        durations("24h,soon")


def test_what_settles_an_assignments_pending_messages():
    about = {**ABOUT, "assignment_id": uuid.uuid4(), "volunteer": VOLUNTEER}
    assert settled_by(accepted(**about)) == [(about["assignment_id"], ("offer", "offer_reminder"))]
    withdrawn = AssignmentWithdrawn(**about, reason="cancelled")
    assert settled_by(withdrawn) == [(about["assignment_id"],
                                      ("offer", "offer_reminder", "confirmation", "window_reminder"))]
    done = RequestCompleted(**ABOUT, volunteers=staffed(), hours=1, people_served=1)
    assert settled_by(done) == [(done.volunteers[0].assignment_id, ("confirmation", "window_reminder"))]
    assert settled_by(RequestEscalated(**ABOUT, reason="r", urgency="high")) == []


def test_the_resident_is_told_on_their_phone_or_else_the_staff_pass_it_on():
    assigned = RequestAssigned(**ABOUT, volunteers=staffed(), window_start=NOW + timedelta(days=1))
    message, subject, body = the_message(assigned, context(WANG))
    assert message.recipient == "resident:hotline-12345:h-1" and message.private
    assert subject == "助餐服务已安排志愿者" and "1 名志愿者" in body and "2026-03-02 09:00" in body
    assert "王秀英" not in body and "139" not in body  # the resident's own details need not travel
    for unreachable in (context(None), context(WANG, texting=False)):  # no phone, or no SMS gateway
        message, subject, body = the_message(assigned, unreachable)
        assert message.recipient == "staff:c-north" and subject.startswith("请转告居民")
        assert "请转告请求 h-1" in body
    _, subject, _ = the_message(RequestCompleted(**ABOUT, volunteers=staffed(), hours=1, people_served=1),
                                context(WANG))
    assert subject == "助餐服务已完成"


def test_channels_follow_the_profile_the_urgency_and_what_is_configured():
    wang = Contact(email="wang@example.cn", phone="13800000001")
    assert channels_for(None, False, False, frozenset({INBOX})) == {INBOX: None}
    assert channels_for(None, True, False, EVERYTHING) == {INBOX: None, WEBHOOK: None}  # no profile: no address
    assert channels_for(wang, False, False, EVERYTHING) == {INBOX: None, WEBHOOK: None, EMAIL: "wang@example.cn"}
    assert channels_for(wang, True, False, EVERYTHING)[SMS] == "13800000001"  # SMS only when urgent
    assert channels_for(wang, True, False, frozenset({INBOX})) == {INBOX: None}
    # private details never reach the group webhook; a resident has no app, so SMS is their channel
    assert WEBHOOK not in channels_for(wang, True, True, EVERYTHING)
    assert channels_for(WANG, False, True, EVERYTHING) == {INBOX: None, SMS: "13912345678"}


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


def test_a_reminder_that_would_wait_past_what_it_reminds_of_goes_at_its_time():
    night = quiet_hours("22:00-07:00")
    six_thirty = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # 06:30 on 2 March in the city
    window_at_seven_thirty = six_thirty + timedelta(hours=1)
    window_at_noon = six_thirty + timedelta(hours=5, minutes=30)
    assert not_before(six_thirty, False, SHANGHAI, night, window_at_seven_thirty) == datetime(
        2026, 3, 2, 7, tzinfo=SHANGHAI)  # 07:00 is still before the window
    assert not_before(six_thirty, False, SHANGHAI, night, six_thirty + timedelta(minutes=20)) == six_thirty
    assert not_before(six_thirty, False, SHANGHAI, night, window_at_noon) == datetime(2026, 3, 2, 7, tzinfo=SHANGHAI)


def test_an_emergency_offer_is_urgent_and_a_withdrawal_tells_the_volunteer_why():
    assert messages_for(offer(urgency="emergency"), context())[0].urgent
    assert not messages_for(offer(), context())[0].urgent
    withdrawn = AssignmentWithdrawn(**{**ABOUT, "assignment_id": uuid.uuid4(), "reason": "the request was cancelled",
                                       "volunteer": VolunteerRef(volunteer_id=uuid.uuid4(), source="app",
                                                                 external_id="v-2")})
    message, _, body = the_message(withdrawn)
    assert message.recipient == "volunteer:app:v-2" and "the request was cancelled" in body


def test_case_details_are_private_to_the_mediator():
    case = {"correlation_id": "c", "case_id": uuid.uuid4(), "source": "grid", "external_id": "k",
            "community_code": "c-north", "level": "grid"}
    message, subject, body = the_message(CaseAssigned(**case, assignment_id=uuid.uuid4(), volunteer=VOLUNTEER,
                                                      dispute_type="noise", summary="楼上噪音,电话 13800000001"))
    assert message.private and message.recipient == "volunteer:volunteer-app:v-1"
    assert subject == "矛盾纠纷调解:您已承接一起噪音纠纷" and "网格层级" in body and "138****0001" in body


def test_log_lines_never_show_a_phone_number():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "resident %s called from %s", ("王**", "13800000001"),
                               None)
    assert MaskingFormatter("%(message)s").format(record) == "resident 王** called from 138****0001"


def test_the_staff_directory_is_read_or_refused_with_the_reason(tmp_path):
    good = tmp_path / "staff.json"
    good.write_text(json.dumps({"c-north": {"email": "north@station.cn", "phone": "13800000009",
                                            "languages": ["en"]}}))
    assert load_staff(str(good)) == {"staff:c-north": Contact(email="north@station.cn", phone="13800000009",
                                                              languages=("en",))}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"c-north": {"email": "not-an-address"}}))
    with pytest.raises(ValueError, match="c-north.email: String should match pattern"):
        load_staff(str(bad))
    assert load_staff(None) == {}


def test_a_cases_later_steps_reach_the_mediator_who_had_it():
    case = {"correlation_id": "c", "case_id": uuid.uuid4(), "source": "grid", "external_id": "k",
            "community_code": "c-north"}
    mediators = {"grid": "volunteer:app:m-1", "community": "volunteer:app:m-2"}
    escalated = CaseEscalated(**case, level="community", from_level="grid", reason="no agreement")
    to_staff, to_mediator = messages_for(escalated, context(mediators=mediators))
    assert (to_staff.recipient, to_mediator.recipient) == ("staff:c-north", "volunteer:app:m-1")
    assert text(to_mediator)[0] == "您调解的案件已升至社区" and "网格层级调解" in text(to_mediator)[1]
    assert [m.recipient for m in messages_for(escalated, context())] == ["staff:c-north"]
    due = CaseFollowUpDue(**case, level="community", outcome="agreement", follow_up_at=NOW)
    assert [m.recipient for m in messages_for(due, context(mediators=mediators))] == ["staff:c-north",
                                                                                     "volunteer:app:m-2"]


def test_notify_reads_its_timing_settings_or_stops_naming_the_bad_one():
    assert timing(Settings(notify_quiet_hours="22:00-07:00", notify_offer_reminder="10m",
                           notify_window_reminders="24h,1h")) == (
        quiet_hours("22:00-07:00"), timedelta(minutes=10), (timedelta(hours=24), timedelta(hours=1)))
    assert timing(Settings(notify_quiet_hours="", notify_offer_reminder="", notify_window_reminders="")) == (
        None, None, ())
    for setting, text, reason in (("notify_quiet_hours", "22:00", "not quiet hours like 22:00-07:00"),
                                  ("notify_offer_reminder", "soon", "not a duration"),
                                  ("notify_window_reminders", "24h,tomorrow", "not a duration")):
        with pytest.raises(ValueError, match=f"{setting.upper()}: .*{reason}"):
            timing(Settings(**{setting: text}))


# -- staff read reasons in their language; what residents and volunteers hear of staff actions --

CASE = {"correlation_id": "c", "case_id": uuid.UUID(int=9), "source": "grid", "external_id": "k",
        "community_code": "c-north"}
NOBODY = Reason(code="nobody_able", params={"task": "elder_care.meals", "level": None, "places": ["c-north"],
                                            "failures": {"lacks_skill": 1}})
OLD_WORDS = "nobody in community c-north can take elder_care.meals: 1 lacks a needed skill"


def escalated(why: Reason | None = None, **changes) -> RequestEscalated:
    reason = why.fields() if why else {"reason": OLD_WORDS}
    return RequestEscalated(**{**ABOUT, **reason, "urgency": "normal", **changes})


def case_escalated(why: Reason) -> CaseEscalated:
    return CaseEscalated(**CASE, level="community", from_level="grid", **why.fields())


@pytest.mark.parametrize("event, language, reads", [
    (escalated(NOBODY), "zh-CN", "社区 c-north 无人能接助餐(elder_care.meals):1人缺少所需技能"),
    (escalated(NOBODY), "en", OLD_WORDS),
    (escalated(Reason(code="short_staffed", params={**NOBODY.params, "found": 1, "needed": 2})), "zh-CN",
     "只找到1/2名志愿者;社区 c-north 无人能接"),
    (escalated(Reason(code="not_reported", params={"hours": 72, "volunteer": True})), "zh-CN",
     "志愿者接单后72小时内未报告完成"),
    (escalated(Reason(code="not_reported", params={"hours": 72, "volunteer": True})), "en",
     "a volunteer accepted but not reported done within 72 hours"),
    (escalated(), "zh-CN", OLD_WORDS),  # an event from before reasons had codes: its English words
    (escalated(reason="r", reason_code="from_a_newer_version", reason_params={}), "zh-CN", ":r。"),
    (escalated(reason="r", reason_code="nobody_able", reason_params={"task": "x"}), "zh-CN", ":r。"),  # bad params
    (case_escalated(Reason(code="no_agreement", params={"level": "grid"})), "zh-CN", "网格调解未达成协议"),
    (case_escalated(Reason(code="no_agreement", params={"level": "grid"})), "en", "no agreement at grid level"),
    (case_escalated(Reason(code="moved_up_by_staff", params={"note": "双方情绪激动"})), "zh-CN",
     "工作人员上报:双方情绪激动"),
])
def test_staff_read_an_escalation_s_reason_in_the_language_of_their_profile(event, language, reads):
    for message in messages_for(event, context(mediators={"grid": "volunteer:app:m-1"})):
        assert reads in text(message, language)[1], (message.kind, language)


def test_free_text_in_a_reason_s_parameters_is_masked_in_every_language():
    why = Reason(code="moved_up_by_staff", params={"note": "王秀英说请打 13912345678"})
    [to_staff] = messages_for(case_escalated(why), context(WANG))
    for language in ("zh-CN", "en"):
        body = text(to_staff, language)[1]
        assert "13912345678" not in body and "139****5678" in body
    [to_staff] = messages_for(escalated(Reason(code="nobody_able", params={**NOBODY.params, "places": ["王秀英"]})),
                              context(WANG))
    assert "王秀英" not in text(to_staff)[1]


HANDLED = RequestHandledByStaff(**ABOUT, occurrence=2, hours=1.5, people_served=1, staff=STAFF, note="已送餐")
NOT_NEEDED = RequestCancelled(**ABOUT, cancelled_by=STAFF, **Reason(code="not_needed", params={"note": "已入住"}).fields())
WITHDRAWN = RequestCancelled(**ABOUT, reason="duplicate filed by mistake")


@pytest.mark.parametrize("event, ctx, kind, says", [
    (HANDLED, context(WANG), "handled_by_staff", "助餐服务(第 2 次)已由 c-north 社区工作人员完成"),
    (NOT_NEEDED, context(WANG), "not_needed", "已无需服务,请求已关闭"),
    (HANDLED, context(None), None, None),  # no phone: the staff who did it are the ones who would tell
    (NOT_NEEDED, context(WANG, texting=False), None, None),  # no SMS gateway
    (WITHDRAWN, context(WANG), None, None),  # its publisher withdrew it: they know
])
def test_the_resident_hears_what_staff_did_with_their_request(event, ctx, kind, says):
    messages = messages_for(event, ctx)
    if kind is None:
        assert messages == []
        return
    [message] = messages
    assert (message.recipient, message.kind, message.private) == ("resident:hotline-12345:h-1", kind, True)
    subject, body = text(message)
    assert says in body and "已送餐" not in body and "已入住" not in body  # staff notes stay with the staff
    assert text(message, "en")[1].startswith("Hello!")


@pytest.mark.parametrize("assigned_by, subject, line", [
    (STAFF, "已为您安排:助餐服务", "社区工作人员已按与您电话约定的安排"),
    (None, "已确认:助餐服务", "感谢您承接"),
])
def test_a_volunteer_staff_assigned_by_phone_is_told_they_are_assigned(assigned_by, subject, line):
    messages = messages_for(accepted(assigned_by=assigned_by), context(WANG, window_reminders=durations("1h")))
    assert [m.kind for m in messages] == ["confirmation", "window_reminder"]  # reminders as for any acceptance
    confirmation = messages[0]
    assert confirmation.recipient == "volunteer:volunteer-app:v-1" and confirmation.private
    assert text(confirmation)[0] == subject and line in text(confirmation)[1]
    assert text(confirmation, "en")[0].startswith("Assigned to you" if assigned_by else "Confirmed")
