"""Signed HTTP webhooks, the shape WeCom/DingTalk group robots, SMS gateways and publishers'
status endpoints take: a JSON POST with `X-Linli-Signature: sha256=<hex HMAC-SHA256 of the
exact body>`, and a retry schedule for the ones that fail."""
import hashlib
import hmac

import httpx

TIMEOUT_SECONDS = 5.0
MAX_RETRY_DELAY_SECONDS = 300.0


class DeliveryFailed(Exception):
    """The receiver did not take the message; the text says why."""


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_signed(client: httpx.AsyncClient, url: str, secret: str, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "X-Linli-Signature": signature(secret, body)}
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
