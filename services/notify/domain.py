"""Who is told what, on which channels, and when a failed delivery is tried again. No I/O."""
import re
from dataclasses import dataclass

from shared.catalogue import service_name
from shared.events import AssignmentOffered, Event, RequestEscalated

INBOX, WEBHOOK = "inbox", "webhook"
MAX_RETRY_DELAY_SECONDS = 300.0

# Message texts per kind, zh-CN. Fields are filled from the event; never concatenated in handlers.
TEMPLATES = {
    "offer": ("新的志愿服务:{service}",
              "您好!{community} 社区有一项{service}服务需要您:{description}。地址:{address}。"
              "时间:{when}。请在志愿者应用中接受或婉拒。"),
    "escalation": ("需要协调:{community} 社区的{service}请求",
                   "{community} 社区的一项{service}请求暂时无人承接:{reason}。请工作人员协调安排(请求 {request_id})。"),
}
MAINLAND_MOBILE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


@dataclass(frozen=True)
class Message:
    recipient: str
    kind: str
    subject: str
    body: str


def mask_phone_numbers(text: str) -> str:
    """138****0001: a resident's number never travels in a message that does not need it."""
    return MAINLAND_MOBILE.sub(r"\1****\2", text)


def render(kind: str, recipient: str, **fields) -> Message:
    subject, body = TEMPLATES[kind]
    return Message(recipient, kind, subject.format(**fields), mask_phone_numbers(body.format(**fields)))


def messages_for(event: Event) -> list[Message]:
    """The messages an event causes: an offer to its volunteer, an escalation to the community's staff."""
    if isinstance(event, AssignmentOffered):
        volunteer = event.volunteer
        return [render("offer", f"volunteer:{volunteer.source}:{volunteer.external_id}",
                       service=service_name(event.category), community=event.community_code,
                       description=event.description, address=event.address or "见服务详情",
                       when=event.window_start.isoformat() if event.window_start else "待约定")]
    if isinstance(event, RequestEscalated):
        return [render("escalation", f"staff:{event.community_code}", service=service_name(event.category),
                       community=event.community_code, reason=event.reason, request_id=event.request_id)]
    return []


def channels_for(webhook_configured: bool) -> tuple[str, ...]:
    """Everyone has an inbox; the webhook (group robot, SMS gateway) gets everything when configured."""
    return (INBOX, WEBHOOK) if webhook_configured else (INBOX,)


def retry_delay(attempts: int, base_seconds: float) -> float:
    """Seconds to wait after `attempts` failed deliveries: base, 2 x base, 4 x base … at most 5 minutes."""
    return min(base_seconds * 2 ** (attempts - 1), MAX_RETRY_DELAY_SECONDS)
