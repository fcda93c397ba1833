"""What a dead letter tells about itself, without I/O: where it died and why (the `x-death`
header RabbitMQ writes when it dead-letters: newest death first, each with the queue, the
reason, a count, the exchange and routing keys it was published with), where a replay sends it,
what it carries over, and its body as an operator may see it (names, phones, addresses masked)."""
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.events import EVENT_TYPES
from shared.privacy import mask_raw_body

DLQ_SUFFIX = ".dlq"
# What a queue adds at each redelivery: a replayed message starts its deliveries afresh. Its death
# history (x-death, x-first-death-*) travels with it, so if it dies again its count goes up.
REDELIVERY_HEADERS = ("x-delivery-count",)


@dataclass(frozen=True)
class Death:
    queue: str
    reason: str  # rejected, expired, maxlen, delivery_limit
    count: int
    exchange: str
    routing_keys: tuple[str, ...]
    time: datetime | None


def dlq_of(queue: str) -> str:
    """`matching.request-received` or `matching.request-received.dlq`: the DLQ to work on."""
    return queue if queue.endswith(DLQ_SUFFIX) else queue + DLQ_SUFFIX


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def deaths(headers: dict | None) -> list[Death]:
    return [Death(_text(entry.get("queue", "")), _text(entry.get("reason", "")), int(entry.get("count", 1)),
                  _text(entry.get("exchange", "")), tuple(_text(key) for key in entry.get("routing-keys", ())),
                  entry.get("time") if isinstance(entry.get("time"), datetime) else None)
            for entry in (headers or {}).get("x-death", ())]


def first_death(headers: dict | None) -> Death | None:
    """The death where it all began: the entry (one per queue and reason) of `x-first-death-queue`
    and `x-first-death-reason`, else the oldest one listed."""
    listed, headers = deaths(headers), headers or {}
    first = (_text(headers.get("x-first-death-queue", "")), _text(headers.get("x-first-death-reason", "")))
    return next((d for d in listed if (d.queue, d.reason) == first), listed[-1] if listed else None)


def origin(headers: dict | None) -> tuple[str, str] | None:
    """(exchange, routing key) it was first published with: where a replay sends it."""
    death = first_death(headers)
    return (death.exchange, death.routing_keys[0]) if death and death.routing_keys else None


def replayed_headers(headers: dict | None) -> dict:
    return {key: value for key, value in (headers or {}).items() if key not in REDELIVERY_HEADERS}


def refusal(headers: dict | None, user_id: str | None, replaying_user: str) -> str | None:
    """Why this message cannot be replayed by `replaying_user`, or None if it can."""
    if origin(headers) is None:
        return "no x-death header: not a message the broker dead-lettered"
    if user_id and user_id != replaying_user:
        return (f"published by {user_id} (its user_id), which the broker lets only {user_id} republish: "
                f"replay it with --broker as that user")
    return None


def age_seconds(death: Death | None, now: datetime) -> float | None:
    return (now - death.time).total_seconds() if death and death.time else None


def readable_age(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{max(seconds, 0):.0f}s"


WITHHELD = "***"  # masking it again leaves it as it is


def masked_body(body: bytes, routing_key: str) -> str:
    """The body as an operator sees it: JSON pretty-printed when it parses, an event's personal
    fields (shared/events.py) withheld, and every other name, address, phone number and email
    masked (shared/privacy.py), whatever the shape: a broken body is masked as it is."""
    text = body.decode(errors="replace")
    try:
        fields = json.loads(text)
    except ValueError:
        return mask_raw_body(text)
    personal = getattr(EVENT_TYPES.get(routing_key), "personal", frozenset())
    if isinstance(fields, dict):
        fields = {key: WITHHELD if key in personal else value for key, value in fields.items()}
    return mask_raw_body(json.dumps(fields, ensure_ascii=False, indent=2))
