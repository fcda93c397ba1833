"""Who is told what, and on which channels. No I/O."""
from dataclasses import dataclass
from datetime import datetime, tzinfo

from shared.catalogue import service_name
from shared.events import AssignmentOffered, Event, RequestEscalated
from shared.privacy import mask_phone_numbers

INBOX, WEBHOOK = "inbox", "webhook"

# Message texts per kind, zh-CN. Fields are filled from the event; never concatenated in handlers.
TEMPLATES = {
    "offer": ("新的志愿服务:{service}",
              "您好!{community} 社区有一项{service}服务需要您:{description}。地址:{address}。"
              "时间:{when}。请在 {answer_by} 前在志愿者应用中接受或婉拒(任务编号 {assignment_id})。"),
    "escalation": ("需要协调:{community} 社区的{service}请求",
                   "{community} 社区的一项{service}请求暂时无人承接:{reason}。请工作人员协调安排(请求 {request_id})。"),
}

@dataclass(frozen=True)
class Message:
    recipient: str
    kind: str
    subject: str
    body: str


def render(kind: str, recipient: str, **fields) -> Message:
    subject, body = TEMPLATES[kind]
    return Message(recipient, kind, subject.format(**fields), body.format(**fields))


def local_time(moment: datetime | None, timezone: tzinfo) -> str:
    """The time as the volunteer's city reads it (event times always carry an offset)."""
    return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if moment else "待约定"


def messages_for(event: Event, timezone: tzinfo) -> list[Message]:
    """The messages an event causes: an offer to its volunteer, an escalation to the community's staff.
    Free text from outside (description, address, reason) is masked: residents write their numbers in it."""
    if isinstance(event, AssignmentOffered):
        volunteer = event.volunteer
        return [render("offer", f"volunteer:{volunteer.source}:{volunteer.external_id}",
                       service=service_name(event.category), community=event.community_code,
                       description=mask_phone_numbers(event.description),
                       address=mask_phone_numbers(event.address) if event.address else "见服务详情",
                       when=local_time(event.window_start, timezone),
                       answer_by=local_time(event.expires_at, timezone), assignment_id=event.assignment_id)]
    if isinstance(event, RequestEscalated):
        return [render("escalation", f"staff:{event.community_code}", service=service_name(event.category),
                       community=event.community_code, reason=mask_phone_numbers(event.reason),
                       request_id=event.request_id)]
    return []


def channels_for(webhook_configured: bool) -> tuple[str, ...]:
    """Everyone has an inbox; the webhook (group robot, SMS gateway) gets everything when configured."""
    return (INBOX, WEBHOOK) if webhook_configured else (INBOX,)
