"""Who is told what, and on which channels. No I/O."""
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from shared.catalogue import service_name
from shared.events import AssignmentOffered, Event, RequestEscalated

INBOX, WEBHOOK = "inbox", "webhook"

# Message texts per kind, zh-CN. Fields are filled from the event; never concatenated in handlers.
TEMPLATES = {
    "offer": ("新的志愿服务:{service}",
              "您好!{community} 社区有一项{service}服务需要您:{description}。地址:{address}。"
              "时间:{when}。请在志愿者应用中接受或婉拒。"),
    "escalation": ("需要协调:{community} 社区的{service}请求",
                   "{community} 社区的一项{service}请求暂时无人承接:{reason}。请工作人员协调安排(请求 {request_id})。"),
}
# Mobiles as residents write them: 13800000001, 138-0000-0001, 138 0000 0001, +86 13800000001.
MOBILE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1\d{2})[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
# Fixed lines with their area code: 0591-87654321, 010 1234 5678.
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?\d{3,4}[\s-]?(\d{4})(?!\d)")


@dataclass(frozen=True)
class Message:
    recipient: str
    kind: str
    subject: str
    body: str


def mask_phone_numbers(text: str) -> str:
    """138****0001: a resident's number never travels in a message that does not need it."""
    return LANDLINE.sub(r"\1-****\2", MOBILE.sub(r"\1****\2", text))


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
                       when=local_time(event.window_start, timezone))]
    if isinstance(event, RequestEscalated):
        return [render("escalation", f"staff:{event.community_code}", service=service_name(event.category),
                       community=event.community_code, reason=mask_phone_numbers(event.reason),
                       request_id=event.request_id)]
    return []


def channels_for(webhook_configured: bool) -> tuple[str, ...]:
    """Everyone has an inbox; the webhook (group robot, SMS gateway) gets everything when configured."""
    return (INBOX, WEBHOOK) if webhook_configured else (INBOX,)
