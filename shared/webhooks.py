"""Signed HTTP webhooks, the shape WeCom/DingTalk group robots, SMS gateways and publishers'
status endpoints take: a JSON POST with

    X-Linli-Timestamp: <unix seconds when it was sent>
    X-Linli-Signature: sha256=<hex HMAC-SHA256, keyed with the shared secret, of "<timestamp>.<body>">

A receiver recomputes the HMAC over the timestamp header, a dot and the exact body bytes,
compares it in constant time, and refuses a timestamp more than REPLAY_WINDOW_SECONDS from its
own clock: a captured call cannot be replayed later, nor its body given another timestamp
(`verified` is that check). Within the window a receiver that must never act twice keeps the
signatures it has seen for the window's length. Retries are sent afresh, with a new timestamp.
"""
import hashlib
import hmac
import time

import httpx

MAX_RETRY_DELAY_SECONDS = 300.0
REPLAY_WINDOW_SECONDS = 300
DEFAULT_SECRET = "change-me"


class DeliveryFailed(Exception):
    """The receiver did not take the message; the text says why."""


def signature(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {"Content-Type": "application/json", "X-Linli-Timestamp": str(timestamp),
            "X-Linli-Signature": signature(secret, body, timestamp)}


def verified(secret: str, body: bytes, timestamp: str | None, header: str | None, now: float | None = None,
             window: float = REPLAY_WINDOW_SECONDS) -> bool:
    """A receiver's check: signed with `secret`, and sent within `window` seconds of `now`."""
    if not timestamp or not header or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        return False
    return hmac.compare_digest(header, signature(secret, body, int(timestamp)))


def require_secret(secret: str | None, setting: str, development: bool) -> None:
    """Refuse to start with no secret or the default one, unless in development (LINLI_DEVELOPMENT)."""
    if not development and (not secret or secret == DEFAULT_SECRET):
        raise RuntimeError(f"{setting} is {'the default ' + repr(DEFAULT_SECRET) if secret else 'not set'}: set a "
                           "secret of your own shared with the receiver (or LINLI_DEVELOPMENT=true on a "
                           "development machine)")


async def post_signed(client: httpx.AsyncClient, url: str, secret: str, body: bytes,
                      idempotency_key: str | None = None) -> None:
    """POST `body` signed; `idempotency_key` (the delivery's id, the same on a repeat) goes as the
    Idempotency-Key header, so that the receiver can drop a call it has already taken."""
    headers = signed_headers(secret, body) | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        raise DeliveryFailed(f"webhook {url}: {type(error).__name__}: {error}") from error
    if not response.is_success:
        raise DeliveryFailed(f"webhook {url} answered {response.status_code}: {response.text[:200]}")


def retry_delay(attempts: int, base_seconds: float) -> float:
    """Seconds to wait after `attempts` failed deliveries: base, 2 x base, 4 x base … at most 5 minutes.
    The exponent is bounded so that a large number of attempts cannot overflow the float."""
    return min(base_seconds * 2 ** min(attempts - 1, 32), MAX_RETRY_DELAY_SECONDS)
