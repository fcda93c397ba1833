"""Who is told what, when, and on which channels. No I/O."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from shared.catalogue import service_name
from shared.events import (AssignmentOffered, AssignmentWithdrawn, CaseAssigned, CaseEscalated, CaseFollowUpDue,
                           Event, RequestEscalated, RequestMissed)
from shared.privacy import mask_phone_numbers

INBOX, WEBHOOK, EMAIL, SMS = "inbox", "webhook", "email", "sms"
LEVELS = {"grid": "网格", "community": "社区", "street": "街道", "street_staff": "街道工作人员"}

# Message texts per kind, zh-CN. Fields are filled from the event; never concatenated in handlers.
TEMPLATES = {
    "offer": ("新的志愿服务:{service}",
              "您好!{community} 社区有一项{service}服务需要您:{description}。地址:{address}。"
              "时间:{when}。请在 {answer_by} 前在志愿者应用中接受或婉拒(任务编号 {assignment_id})。"),
    "withdrawal": ("服务邀请已撤回:{service}", "您好!{community} 社区的{service}服务邀请(任务编号 {assignment_id})"
                                            "已撤回:{reason}。无需再回复,感谢您的热心。"),
    "escalation": ("需要协调:{community} 社区的{service}请求",
                   "{community} 社区的一项{service}请求暂时无人承接:{reason}。请工作人员协调安排(请求 {request_id})。"),
    "missed": ("服务未按时完成:{community} 社区的{service}",
               "{community} 社区的{service}(请求 {request_id},第 {occurrence} 次)在 {window_end} 前未报告完成,"
               "请工作人员跟进。"),
    "case_assigned": ("矛盾纠纷调解:您已承接一起{dispute_type}纠纷",
                      "您已承接 {community} 社区的一起纠纷({level}层级,案件 {case_id}):{summary}"),
    "case_escalated": ("纠纷上交:{community} 社区的案件升至{level}",
                       "案件 {case_id} 由{from_level}层级升至{level}:{reason}。请相应工作人员关注。"),
    "follow_up": ("回访提醒:{community} 社区的纠纷案件", "案件 {case_id} 已结案({outcome}),请按期回访当事人。"),
}


@dataclass(frozen=True)
class Message:
    recipient: str
    kind: str
    subject: str
    body: str
    urgent: bool = False  # urgent messages ignore quiet hours


def render(kind: str, recipient: str, urgent: bool = False, **fields) -> Message:
    subject, body = TEMPLATES[kind]
    return Message(recipient, kind, subject.format(**fields), body.format(**fields), urgent)


def local_time(moment: datetime | None, timezone: tzinfo) -> str:
    """The time as the volunteer's city reads it (event times always carry an offset)."""
    return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if moment else "待约定"


def messages_for(event: Event, timezone: tzinfo) -> list[Message]:
    """The messages an event causes. Free text from outside (description, address, reason,
    summary) is masked: residents write their numbers in it."""
    compose = COMPOSERS.get(type(event))
    return [compose(event, timezone)] if compose else []


def _volunteer(event) -> str:
    return f"volunteer:{event.volunteer.source}:{event.volunteer.external_id}"


def _offer(event: AssignmentOffered, timezone: tzinfo) -> Message:
    return render("offer", _volunteer(event), urgent=event.urgency == "emergency",
                  service=service_name(event.category), community=event.community_code,
                  description=mask_phone_numbers(event.description),
                  address=mask_phone_numbers(event.address) if event.address else "见服务详情",
                  when=local_time(event.window_start, timezone),
                  answer_by=local_time(event.expires_at, timezone), assignment_id=event.assignment_id)


def _withdrawal(event: AssignmentWithdrawn, timezone: tzinfo) -> Message:
    return render("withdrawal", _volunteer(event), service=service_name(event.category),
                  community=event.community_code, assignment_id=event.assignment_id, reason=event.reason)


def _escalation(event: RequestEscalated, timezone: tzinfo) -> Message:
    return render("escalation", f"staff:{event.community_code}", urgent=event.urgency == "emergency",
                  service=service_name(event.category), community=event.community_code,
                  reason=mask_phone_numbers(event.reason), request_id=event.request_id)


def _missed(event: RequestMissed, timezone: tzinfo) -> Message:
    return render("missed", f"staff:{event.community_code}", service=service_name(event.category),
                  community=event.community_code, request_id=event.request_id, occurrence=event.occurrence,
                  window_end=local_time(event.window_end, timezone))


def _case_assigned(event: CaseAssigned, timezone: tzinfo) -> Message:
    """The case's details go to the mediator who took it, and to nobody else."""
    return render("case_assigned", _volunteer(event), dispute_type=event.dispute_type, community=event.community_code,
                  level=LEVELS[event.level], case_id=event.case_id, summary=mask_phone_numbers(event.summary))


def _case_escalated(event: CaseEscalated, timezone: tzinfo) -> Message:
    return render("case_escalated", f"staff:{event.community_code}", community=event.community_code,
                  case_id=event.case_id, level=LEVELS[event.level], from_level=LEVELS[event.from_level],
                  reason=mask_phone_numbers(event.reason))


def _follow_up(event: CaseFollowUpDue, timezone: tzinfo) -> Message:
    return render("follow_up", f"staff:{event.community_code}", community=event.community_code,
                  case_id=event.case_id, outcome="达成协议" if event.outcome == "agreement" else "未达成协议")


COMPOSERS = {AssignmentOffered: _offer, AssignmentWithdrawn: _withdrawal, RequestEscalated: _escalation,
             RequestMissed: _missed, CaseAssigned: _case_assigned, CaseEscalated: _case_escalated,
             CaseFollowUpDue: _follow_up}


def quiet_hours(text: str) -> tuple[time, time] | None:
    """"22:00-07:00" -> (22:00, 07:00); "" -> None (no quiet hours)."""
    if not text:
        return None
    start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    return start, end


def not_before(now: datetime, urgent: bool, timezone: tzinfo, quiet: tuple[time, time] | None) -> datetime:
    """When a message may go out: at once, or, when it can wait and the city is in its quiet
    hours, when they end."""
    local = now.astimezone(timezone)
    if urgent or quiet is None or not _within(local.time(), *quiet):
        return now
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


def _within(moment: time, start: time, end: time) -> bool:
    return start <= moment < end if start < end else (moment >= start or moment < end)


@dataclass(frozen=True)
class Contact:
    email: str | None = None
    phone: str | None = None


def channels_for(contact: Contact | None, urgent: bool, available: frozenset[str]) -> dict[str, str | None]:
    """Channel -> the address it goes to. Everyone has an inbox; the webhook (group robot)
    gets everything when configured; email goes to whoever gave an address; an SMS only when
    the message is urgent (it costs, and it wakes people)."""
    chosen = {INBOX: None}
    if WEBHOOK in available:
        chosen[WEBHOOK] = None
    if EMAIL in available and contact and contact.email:
        chosen[EMAIL] = contact.email
    if SMS in available and urgent and contact and contact.phone:
        chosen[SMS] = contact.phone
    return chosen
