"""notify's SQL. Every function takes the connection of the current unit of work."""
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from services.notify.domain import Contact, Message
from shared.deliveries import DeliveryTable
from shared.events import Event, VolunteerRegistered

NOTIFICATION_COLUMNS = ("notification_id, recipient, channel, kind, status, attempts, last_error, "
                        "next_attempt_at, about, about_event_id, created_at, sent_at")


async def add(conn: asyncpg.Connection, message: Message, channel: str, address: str | None, event: Event,
              not_before: datetime) -> None:
    await conn.execute(
        "INSERT INTO notification (notification_id, recipient, channel, address, kind, subject, body, about_event_id, "
        "about, correlation_id, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (about_event_id, recipient, channel) DO NOTHING",
        uuid4(), message.recipient, channel, address, message.kind, message.subject, message.body, event.event_id,
        event.routing_key, event.correlation_id, not_before)


async def save_contact(conn: asyncpg.Connection, event: VolunteerRegistered) -> None:
    """Keep the latest registration's ways to reach the volunteer; an older one changes nothing."""
    await conn.execute(
        "INSERT INTO contact (recipient, email, phone, languages, registered_at) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (recipient) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, "
        "languages = EXCLUDED.languages, registered_at = EXCLUDED.registered_at "
        "WHERE contact.registered_at <= EXCLUDED.registered_at",
        f"volunteer:{event.source}:{event.external_id}", event.email, event.phone, list(event.languages),
        event.occurred_at)


async def contact(conn: asyncpg.Connection, recipient: str) -> Contact | None:
    row = await conn.fetchrow("SELECT email, phone FROM contact WHERE recipient = $1", recipient)
    return Contact(email=row["email"], phone=row["phone"]) if row else None


async def lock_due(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Pending notifications whose time has come, locked so no other notify process sends them too."""
    return await conn.fetch(
        "SELECT * FROM notification WHERE status = 'pending' AND next_attempt_at <= now() "
        "ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED", limit)


NOTIFICATIONS = DeliveryTable("notification", "notification_id")


async def inbox(conn: asyncpg.Connection, recipient: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT notification_id, kind, subject, body, created_at FROM inbox_message "
                            "WHERE recipient = $1 ORDER BY id DESC LIMIT $2", recipient, limit)


async def notifications(conn: asyncpg.Connection, status: str | None, recipient: str | None,
                        about_event_id: UUID | None, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {NOTIFICATION_COLUMNS} FROM notification WHERE ($1::text IS NULL OR status = $1) "
        "AND ($2::text IS NULL OR recipient = $2) AND ($3::uuid IS NULL OR about_event_id = $3) "
        "ORDER BY created_at DESC LIMIT $4", status, recipient, about_event_id, limit)
