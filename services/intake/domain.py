"""Intake's rules, free of I/O: turning raw bytes into a valid submission or a rejection
whose reason an operator can read."""
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from shared.statuses import FINAL, RequestStatus
from shared.validation import describe

# A sane upper bound for one submission: 4,000 characters of text are at most 16 KB of UTF-8,
# so anything near this size is not a real request.
MAX_BODY_BYTES = 64 * 1024
IDENTITY_FIELDS = ("source", "external_id", "community_code")

S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True)
class Rejection:
    reason: str
    source: str | None = None
    external_id: str | None = None
    community_code: str | None = None


def parse_submission(model: type[S], body: bytes) -> S | Rejection:
    """Validate `body` as a `model`, or say precisely why not. Its size is checked first, before
    any decoding: an oversized body is never decoded nor parsed."""
    if len(body) > MAX_BODY_BYTES:
        return Rejection(f"body is larger than the limit of {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection(f"body is not UTF-8 text: {error.reason} at byte {error.start}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return Rejection(f"body is not JSON: {error.msg} at line {error.lineno} column {error.colno}")
    if not isinstance(data, dict):
        return Rejection(f"body must be a JSON object, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        return Rejection(describe(error), **readable_identity(data))


def readable_identity(data: dict) -> dict[str, str]:
    """Whatever of the submission's identity can be read, so its publisher can find its rejection."""
    return {key: data[key][:128] for key in IDENTITY_FIELDS if isinstance(data.get(key), str)}


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def body_excerpt(body: bytes, limit: int = 2000) -> str:
    """The start of a raw body as readable, storable text: undecodable bytes and control
    characters (PostgreSQL text cannot hold NUL) shown escaped."""
    text = body[:limit].decode("utf-8", "backslashreplace")
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def phone_key(phone: str | None) -> str | None:
    """A phone number as it is compared: digits only, without China's +86."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


@dataclass(frozen=True)
class OtherRequest:
    """A request already stored for the same need (the store has matched the beneficiary's
    phone, the category and the community)."""

    request_id: UUID
    source: str
    received_at: datetime


def first_of_same_need(source: str, received_at: datetime, others: list[OtherRequest],
                       window: timedelta) -> UUID | None:
    """The first request from another source for the same need received within `window` of
    this one; None if this request is the first. Within the window, before or after: two
    intake processes that take the same need at once stamp it with their own clocks, and the
    one decided second (store.take_turns) may carry the earlier time."""
    candidates = [r for r in others if r.source != source and abs(received_at - r.received_at) <= window]
    return min(candidates, key=lambda r: r.received_at).request_id if candidates else None


# --- the order rule: a cancellation and the request it names may arrive in either order ---
class OnCancel(StrEnum):
    CANCEL = "cancel"  # the request is there and not finished
    WAIT = "wait"  # the request has not arrived: the cancellation waits for it, for a bounded time
    REFUSE = "refuse"  # finished (completed, cancelled, linked), or a cancellation already waits for it


def on_cancel(status: str | None, waiting: bool) -> OnCancel:
    """What a cancellation does, given the status of the request it names (None: not arrived)
    and whether an earlier cancellation already waits for it."""
    if status is None:
        return OnCancel.REFUSE if waiting else OnCancel.WAIT
    return OnCancel.REFUSE if status in FINAL else OnCancel.CANCEL


def status_on_arrival(linked: bool, cancelled_first: bool) -> RequestStatus:
    """The status a new request starts in: linked to the same need from another source first
    (its waiting cancellation is then refused, as it would be had it come after); cancelled,
    and never dispatched, when its cancellation came first; else received."""
    if linked:
        return RequestStatus.DUPLICATE
    return RequestStatus.CANCELLED if cancelled_first else RequestStatus.RECEIVED
