"""The channels a notification travels by, behind one interface."""
import hashlib
import hmac
import json
from typing import Protocol

import asyncpg
import httpx

from services.notify import domain

WEBHOOK_TIMEOUT_SECONDS = 5.0


class DeliveryFailed(Exception):
    """The channel did not take the message; the text says why."""


class Channel(Protocol):
    name: str

    async def deliver(self, notification: asyncpg.Record, connection: asyncpg.Connection) -> None: ...


class InboxChannel:
    """Stores the message for its recipient to read in the app, in the delivery's own transaction."""

    name = domain.INBOX

    async def deliver(self, notification: asyncpg.Record, connection: asyncpg.Connection) -> None:
        await connection.execute(
            "INSERT INTO inbox_message (notification_id, recipient, kind, subject, body) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (notification_id) DO NOTHING",
            notification["notification_id"], notification["recipient"], notification["kind"],
            notification["subject"], notification["body"])


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs the message as JSON, signed with HMAC-SHA256 in `X-Linli-Signature`: the shape
    WeCom/DingTalk group robots and SMS gateways take."""

    name = domain.WEBHOOK

    def __init__(self, url: str, secret: str):
        self._url = url
        self._secret = secret
        self._client = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS)

    async def deliver(self, notification: asyncpg.Record, connection: asyncpg.Connection) -> None:
        body = json.dumps({key: str(notification[key]) for key in (
            "notification_id", "recipient", "kind", "subject", "body", "about", "about_event_id")},
            ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Linli-Signature": signature(self._secret, body)}
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"webhook {self._url}: {type(error).__name__}: {error}") from error
        if not response.is_success:
            raise DeliveryFailed(f"webhook {self._url} answered {response.status_code}: {response.text[:200]}")

    async def close(self) -> None:
        await self._client.aclose()
