"""The channels a notification travels by, behind one interface."""
import json
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import asyncpg
import httpx

from services.notify.domain import routing
from shared.webhooks import post_signed

CONNECTIONS = 100  # calls made at once, and connections kept, per channel: a sweep's batch (delivery.py)


def _client(call_seconds: float) -> httpx.AsyncClient:
    """One pooled client per channel, keeping as many connections open as a sweep calls at once
    (httpx keeps 20 by default: the rest of a batch of 100 would connect afresh every sweep)."""
    return httpx.AsyncClient(timeout=call_seconds, limits=httpx.Limits(max_connections=CONNECTIONS,
                                                                          max_keepalive_connections=CONNECTIONS))


class Channel(Protocol):
    name: str
    in_database: bool  # delivered on the worker's connection (else over the network, given None)

    async def deliver(self, notification: asyncpg.Record, connection: asyncpg.Connection | None) -> None: ...


class InboxChannel:
    """Stores the message for its recipient to read in the app, in the delivery's own transaction."""

    name = routing.INBOX
    in_database = True
    COLUMNS = ("notification_id", "recipient", "kind", "subject", "body")

    async def deliver(self, notification: asyncpg.Record, connection: asyncpg.Connection) -> None:
        await self.deliver_all([notification], connection)

    async def deliver_all(self, notifications: list[asyncpg.Record], connection: asyncpg.Connection) -> None:
        """A sweep's inbox messages in one statement."""
        await connection.execute(
            "INSERT INTO inbox_message (notification_id, recipient, kind, subject, body) "
            "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) "
            "ON CONFLICT (notification_id) DO NOTHING",
            *([n[column] for n in notifications] for column in self.COLUMNS))


class EmailChannel:
    """Sends the message as a UTF-8 email to the address the notification keeps."""

    name = routing.EMAIL
    in_database = False

    def __init__(self, host: str, port: int, sender: str, call_seconds: float):
        self._host, self._port, self._sender, self._call_seconds = host, port, sender, call_seconds

    async def deliver(self, notification: asyncpg.Record, connection: None) -> None:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self._sender, notification["address"], notification["subject"]
        email["Message-ID"] = f"<{notification['notification_id']}@linli>"  # lets a mail server drop a resend
        email.set_content(notification["body"])
        await aiosmtplib.send(email, hostname=self._host, port=self._port, timeout=self._call_seconds)


class SmsChannel:
    """Hands the text to an SMS gateway over HTTP: {"phone", "text", "notification_id"}, signed,
    with the notification id as Idempotency-Key too (a repeat after a crash has the same one)."""

    name = routing.SMS
    in_database = False

    def __init__(self, url: str, secret: str, call_seconds: float):
        self._url, self._secret = url, secret
        self._client = _client(call_seconds)

    async def deliver(self, notification: asyncpg.Record, connection: None) -> None:
        body = json.dumps({"phone": notification["address"], "text": f"{notification['subject']}:{notification['body']}",
                           "notification_id": str(notification["notification_id"])}, ensure_ascii=False).encode()
        await post_signed(self._client, self._url, self._secret, body, str(notification["notification_id"]))

    async def close(self) -> None:
        await self._client.aclose()


class WebhookChannel:
    """POSTs the message as signed JSON (shared/webhooks.py): the shape WeCom/DingTalk group
    robots and SMS gateways take), with the notification id as Idempotency-Key."""

    name = routing.WEBHOOK
    in_database = False

    def __init__(self, url: str, secret: str, call_seconds: float):
        self._url = url
        self._secret = secret
        self._client = _client(call_seconds)

    async def deliver(self, notification: asyncpg.Record, connection: None) -> None:
        body = json.dumps({key: str(notification[key]) for key in (
            "notification_id", "recipient", "kind", "subject", "body", "about", "about_event_id")},
            ensure_ascii=False).encode()
        await post_signed(self._client, self._url, self._secret, body, str(notification["notification_id"]))

    async def close(self) -> None:
        await self._client.aclose()
