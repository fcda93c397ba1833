"""notify's SQL. Every function takes the connection of the current unit of work."""
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import asyncpg

from services.notify.domain.backlog import Held, Window
from services.notify.domain.messages import Message, notification_id, resident, volunteer
from services.notify.domain.routing import Contact
from shared.deliveries import DeliveryTable
from shared.broker import encode
from shared.submissions import Urgency
from shared.events import EVENT_TYPES, CaseAssigned, Event, RequestEscalated, RequestReceived, VolunteerRegistered

NOTIFICATION_COLUMNS = ("notification_id, recipient, channel, kind, language, status, attempts, last_error, "
                        "next_attempt_at, extract(epoch FROM lead)::float8 AS lead_seconds, assignment_id, about, "
                        "about_event_id, created_at, sent_at")
NOTIFICATIONS = DeliveryTable("notification", "notification_id")
WINDOW_COLUMNS = "opens_at, closes_at, held, told_at IS NOT NULL AS told"


class About(Protocol):
    """What a notification tells of: an event, or a backlog of escalations (domain/backlog.py)."""

    event_id: UUID
    routing_key: str
    correlation_id: str
    occurred_at: datetime


async def add(conn: asyncpg.Connection, message: Message, text: tuple[str, str], language: str,
              channels: dict[str, str | None], event: About, not_before: datetime) -> None:
    """One notification per message and channel (channel -> address), in one statement, once per
    event (re-delivered, re-published or handled by two notify processes at once: the id is the
    same, and the table's unique key takes one), and none if its assignment's later events already
    settled it. It was meant to go at the event's time, or a reminder's (its delivery latency
    counts from then)."""
    await conn.execute(
        "INSERT INTO notification (notification_id, recipient, channel, address, kind, subject, body, language, "
        "about_event_id, about, correlation_id, next_attempt_at, lead, assignment_id, meant_at) "
        "SELECT c.id, $2, c.channel, c.address, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 "
        "FROM unnest($1::uuid[], $3::text[], $4::text[]) AS c (id, channel, address) WHERE NOT EXISTS ("
        "  SELECT 1 FROM settled_message WHERE assignment_id = $14 AND kind = $5) "
        "ON CONFLICT DO NOTHING",  # notification_once, and the id that follows from it
        [notification_id(event.event_id, message, channel) for channel in channels], message.recipient,
        list(channels), list(channels.values()), message.kind, *text, language, event.event_id, event.routing_key,
        event.correlation_id, not_before, message.lead, message.assignment_id, message.send_at or event.occurred_at)


async def settle(conn: asyncpg.Connection, assignment_id: UUID, kinds: tuple[str, ...]) -> int:
    """Cancel the assignment's pending messages of these kinds, and remember it for the ones
    still to come; returns how many were cancelled. The caller holds the assignment's turn
    (domain/ordering.py), so a message being added meanwhile is not missed."""
    await conn.execute("INSERT INTO settled_message (assignment_id, kind) SELECT $1, unnest($2::text[]) "
                       "ON CONFLICT DO NOTHING", assignment_id, list(kinds))
    result = await conn.execute("UPDATE notification SET status = 'cancelled' WHERE assignment_id = $1 "
                                "AND kind = ANY($2::text[]) AND status = 'pending'", assignment_id, list(kinds))
    return int(result.split()[-1])


async def save_volunteer(conn: asyncpg.Connection, event: VolunteerRegistered) -> None:
    """Keep the latest registration's ways to reach the volunteer; an older one changes nothing."""
    await _save_contact(conn, volunteer(event), event.email, event.phone,
                        event.languages, None, event.occurred_at)


async def save_resident(conn: asyncpg.Connection, event: RequestReceived) -> None:
    """The beneficiary of a request, reached at the phone it gave, in the language it names. A
    request that names none is kept too (no phone, no name): its messages then know there is
    nobody to text, rather than wait for a resident's profile."""
    beneficiary = event.beneficiary
    await _save_contact(conn, resident(event.source, event.external_id), None, beneficiary and beneficiary.phone,
                        (beneficiary.language,) if beneficiary and beneficiary.language else (),
                        beneficiary and beneficiary.name, event.occurred_at)


async def _save_contact(conn, recipient, email, phone, languages, name, registered_at) -> None:
    await conn.execute(
        "INSERT INTO contact (recipient, email, phone, languages, name, registered_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (recipient) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, "
        "languages = EXCLUDED.languages, name = EXCLUDED.name, registered_at = EXCLUDED.registered_at "
        "WHERE contact.registered_at <= EXCLUDED.registered_at",
        recipient, email, phone, list(languages), name, registered_at)


async def save_mediator(conn: asyncpg.Connection, event: CaseAssigned) -> None:
    await conn.execute("INSERT INTO case_mediator (case_id, level, recipient) VALUES ($1, $2, $3) "
                       "ON CONFLICT (case_id, level) DO UPDATE SET recipient = EXCLUDED.recipient",
                       event.case_id, event.level, volunteer(event.volunteer))


async def mediators(conn: asyncpg.Connection, case_id: UUID) -> dict[str, str]:
    rows = await conn.fetch("SELECT level, recipient FROM case_mediator WHERE case_id = $1", case_id)
    return {row["level"]: row["recipient"] for row in rows}


async def contact(conn: asyncpg.Connection, recipient: str) -> Contact | None:
    return (await contacts(conn, [recipient])).get(recipient)


async def contacts(conn: asyncpg.Connection, recipients: list[str]) -> dict[str, Contact]:
    """The contacts of those among `recipients` who have one, in one statement."""
    rows = await conn.fetch("SELECT recipient, email, phone, languages, name FROM contact "
                            "WHERE recipient = ANY($1::text[])", recipients)
    return {row["recipient"]: Contact(email=row["email"], phone=row["phone"], languages=tuple(row["languages"]),
                                      name=row["name"], has_app=not row["recipient"].startswith("resident:"))
            for row in rows}


async def take_turns(conn: asyncpg.Connection, keys) -> None:
    """Holding an event for what has not arrived and its arrival, adding an assignment's messages
    and settling them, take turns per key (domain/ordering.py; until commit): the arrival then
    finds the held event, or the event finds what arrived. The locks are taken in one statement,
    in one order everywhere: the contacts', mediators' and backlogs' first, then the assignments',
    each by the lock's id. A transaction takes more assignment turns later (an arrival, those of
    the events it releases), never more of the others, so no two transactions wait for each other."""
    if keys := list(set(keys)):
        await conn.execute(
            "SELECT pg_advisory_xact_lock(t.id) FROM (SELECT DISTINCT k LIKE 'assignment:%' AS last, CASE "
            "WHEN k LIKE 'assignment:%' THEN hashtext('notify.' || k)::bigint ELSE hashtextextended(k, 13) END AS id "
            "FROM unnest($1::text[]) k ORDER BY last, id) t", keys)  # the ids they always had


async def unknown(conn: asyncpg.Connection, keys) -> list[str]:
    """The keys (domain/ordering.py) among `keys` whose contact or case mediator has not arrived."""
    return await conn.fetchval(
        "SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM unnest($1::text[]) k WHERE NOT CASE "
        "WHEN k LIKE 'contact:%' THEN EXISTS (SELECT 1 FROM contact WHERE recipient = substr(k, 9)) "
        "ELSE EXISTS (SELECT 1 FROM case_mediator WHERE case_id = split_part(k, ':', 2)::uuid "
        "AND level = split_part(k, ':', 3)) END",  # by their primary keys
        list(keys))


async def hold(conn: asyncpg.Connection, event: Event, waiting_for: list[str], told: bool, now: datetime,
               bound: timedelta) -> bool:
    """Hold `event` for what it waits for, `bound` from when it was first held; False once that
    has passed (it must then be told with what is known)."""
    return await conn.fetchval(
        "INSERT INTO held_event (event_id, routing_key, body, correlation_id, waiting_for, told, held_until) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz + $8::interval) ON CONFLICT (event_id) DO UPDATE SET "
        "waiting_for = EXCLUDED.waiting_for, told = held_event.told OR EXCLUDED.told "
        "RETURNING held_until > $7", event.event_id, event.routing_key, encode(event), event.correlation_id,
        waiting_for, told, now, bound)


async def release(conn: asyncpg.Connection, event_id: UUID) -> None:
    await conn.execute("DELETE FROM held_event WHERE event_id = $1", event_id)


async def held_for(conn: asyncpg.Connection, keys) -> list[Event]:
    """The held events that wait for any of `keys`, oldest first, locked until commit in the one
    order of their ids (two transactions releasing some of the same never wait for each other)."""
    rows = await conn.fetch("SELECT routing_key, body FROM (SELECT routing_key, body, held_until FROM held_event "
                            "WHERE waiting_for && $1::text[] ORDER BY event_id FOR UPDATE) h ORDER BY held_until",
                            sorted(keys))
    return [_decoded(row) for row in rows]


async def held_past(conn: asyncpg.Connection, now: datetime, limit: int) -> list[Event]:
    """The held events whose bound has passed by `now`, oldest first, unlocked."""
    rows = await conn.fetch("SELECT routing_key, body FROM held_event WHERE held_until <= $1 "
                            "ORDER BY held_until LIMIT $2", now, limit)
    return [_decoded(row) for row in rows]


async def lock_held(conn: asyncpg.Connection, event_ids: list[UUID]) -> list[tuple[Event, bool]]:
    """(event, told already) of those held events still held and not locked by another
    transaction (another notify process's sweeper, or a release), locked until commit."""
    rows = await conn.fetch("SELECT routing_key, body, told FROM held_event WHERE event_id = ANY($1::uuid[]) "
                            "ORDER BY held_until FOR UPDATE SKIP LOCKED", event_ids)
    return [(_decoded(row), row["told"]) for row in rows]


def _decoded(row: asyncpg.Record) -> Event:
    return EVENT_TYPES[row["routing_key"]].model_validate_json(row["body"])


async def lock_due(conn: asyncpg.Connection, now: datetime, stale: datetime, limit: int) -> list[asyncpg.Record]:
    """Pending notifications whose time has come by `now`, and those left 'sending' by a process
    that died mid-call (marked before `stale`), locked so no other notify process takes them too."""
    return await conn.fetch(
        f"SELECT * FROM notification WHERE {NOTIFICATIONS.due} "
        "ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED", now, stale, limit)


async def inbox(conn: asyncpg.Connection, recipient: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT notification_id, kind, subject, body, created_at FROM inbox_message "
                            "WHERE recipient = $1 ORDER BY id DESC LIMIT $2", recipient, limit)


async def notifications(conn: asyncpg.Connection, status: str | None, recipient: str | None,
                        about_event_id: UUID | None, assignment_id: UUID | None, limit: int,
                        among: list[str] | None = None) -> list[asyncpg.Record]:
    """Notifications by the filters, to the recipients `among` (None: anyone)."""
    return await conn.fetch(
        f"SELECT {NOTIFICATION_COLUMNS} FROM notification WHERE ($1::text IS NULL OR status = $1) "
        "AND ($2::text IS NULL OR recipient = $2) AND ($3::uuid IS NULL OR about_event_id = $3) "
        "AND ($4::uuid IS NULL OR assignment_id = $4) AND ($6::text[] IS NULL OR recipient = ANY($6)) "
        "ORDER BY created_at DESC LIMIT $5",
        status, recipient, about_event_id, assignment_id, limit, among)


async def latest_window(conn: asyncpg.Connection, community_code: str) -> Window | None:
    """The community's latest backlog window, locked until commit (its backlog message waits)."""
    row = await conn.fetchrow(f"SELECT {WINDOW_COLUMNS} FROM staff_backlog WHERE community_code = $1 "
                              "ORDER BY opens_at DESC LIMIT 1 FOR UPDATE", community_code)
    return _window(row) if row else None


async def open_window(conn: asyncpg.Connection, community_code: str, window: Window) -> None:
    await conn.execute("INSERT INTO staff_backlog (community_code, opens_at, closes_at) VALUES ($1, $2, $3) "
                       "ON CONFLICT DO NOTHING", community_code, window.opens_at, window.closes_at)


async def escalation_taken(conn: asyncpg.Connection, event_id: UUID) -> str | None:
    """'held' if the escalation is held for a backlog message, 'told' if it was told at once
    (a copy of it comes again, re-published), else None."""
    return await conn.fetchval(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM staff_backlog_escalation WHERE event_id = $1) THEN 'held' "
        "WHEN EXISTS (SELECT 1 FROM notification WHERE about_event_id = $1) THEN 'told' END", event_id)


async def hold_escalation(conn: asyncpg.Connection, event: RequestEscalated, window: Window) -> None:
    """Hold the escalation in the window (opened if it is new), in one statement; one held already
    (re-published) is not counted twice."""
    await conn.execute(
        "WITH held AS (INSERT INTO staff_backlog_escalation (event_id, correlation_id, community_code, opens_at, "
        "category, urgency, escalated_at) VALUES ($1, $2, $3, $4, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1) "
        "INSERT INTO staff_backlog (community_code, opens_at, closes_at, held) SELECT $3, $4, $5, count(*) FROM held "
        "ON CONFLICT (community_code, opens_at) DO UPDATE SET held = staff_backlog.held + EXCLUDED.held",
        event.event_id, event.correlation_id, event.community_code, window.opens_at, window.closes_at,
        event.category, event.urgency, event.occurred_at)


async def backlogs_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[tuple[str, Window]]:
    """(community, window) of the closed windows that held escalations and are not told yet,
    locked so that no other notify process tells them too."""
    rows = await conn.fetch(f"SELECT community_code, {WINDOW_COLUMNS} FROM staff_backlog WHERE told_at IS NULL "
                            "AND held > 0 AND closes_at <= $1 ORDER BY closes_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                            now, limit)
    return [(row["community_code"], _window(row)) for row in rows]


async def held_in(conn: asyncpg.Connection, community_code: str, window: Window) -> list[Held]:
    rows = await conn.fetch("SELECT event_id, correlation_id, category, urgency, escalated_at "
                            "FROM staff_backlog_escalation WHERE community_code = $1 AND opens_at = $2",
                            community_code, window.opens_at)
    return [Held(row["event_id"], row["correlation_id"], row["category"], Urgency(row["urgency"]),
                 row["escalated_at"]) for row in rows]


def _window(row: asyncpg.Record) -> Window:
    return Window(row["opens_at"], row["closes_at"], row["held"], row["told"])


async def backlog_told(conn: asyncpg.Connection, community_code: str, window: Window, now: datetime) -> None:
    await conn.execute("UPDATE staff_backlog SET told_at = $3 WHERE community_code = $1 AND opens_at = $2",
                       community_code, window.opens_at, now)
