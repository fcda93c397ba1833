"""Erasure in notify (see services/intake/erasure.py): the person's contacts go; every message
to them, about their requests and cases (their chains), or quoting their name, phone or email
keeps its delivery record but not its text ("(erased)"), and one still pending is cancelled;
their inbox goes with it, and so does an event about them still held (services/notify/domain/ordering.py).
Erasing twice changes nothing the second time."""
from services.notify.context import Notifier
from services.notify.domain.messages import resident, volunteer
from shared.events import ErasureDone, PersonErased
from shared.unit_of_work import UnitOfWork

ERASED = "(erased)"


async def on_person_erased(notifier: Notifier, uow: UnitOfWork, event: PersonErased) -> None:
    conn = uow.connection
    recipients = [resident(r.source, r.external_id) for r in event.requests] + [volunteer(v) for v in event.volunteers]
    contacts = await conn.fetch("DELETE FROM contact WHERE recipient = ANY($1::text[]) RETURNING name, phone, email",
                                recipients)
    said = sorted({text for row in contacts for text in row.values() if text and len(text) > 1})
    patterns = [f"%{text}%" for text in said]
    erased = await conn.fetch(
        "UPDATE notification SET subject = $4, body = $4, address = NULL, "
        "status = CASE WHEN status IN ('pending', 'sending') THEN 'cancelled' ELSE status END "
        "WHERE (recipient = ANY($1::text[]) OR correlation_id = ANY($2::text[]) OR body LIKE ANY($3::text[]) "
        "OR subject LIKE ANY($3::text[]) OR address = ANY($5::text[])) AND (body <> $4 OR address IS NOT NULL) "
        "RETURNING notification_id", recipients, list(event.correlation_ids), patterns, ERASED, said)
    inbox = await conn.execute("UPDATE inbox_message SET subject = $2, body = $2 WHERE notification_id = ANY($1::uuid[])",
                               [row["notification_id"] for row in erased], ERASED)
    held = await conn.execute("DELETE FROM held_event WHERE correlation_id = ANY($1::text[])",
                              list(event.correlation_ids))
    changed = {"contact": len(contacts), "held_event": int(held.split()[-1]), "notification": len(erased),
               "inbox_message": int(inbox.split()[-1])}
    await uow.emit(ErasureDone(correlation_id=event.correlation_id, occurred_at=notifier.now(),
                               erasure_id=event.erasure_id, service="notify",
                               changed={table: n for table, n in changed.items() if n}))
