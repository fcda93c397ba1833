"""Erasure in matching (see services/intake/erasure.py): a volunteer's name and location go and
they leave the roster (no more offers); a request keeps what staffing it needs, not its
description, address, location or beneficiary; a case loses its summary. Ids, hours and the
assignments stay, for the statistics. Erasing twice changes nothing the second time.

Order does not matter: the erasure is remembered (table `erased`), and a request, case or
registration that happened before it but is handled after it (its queue is another) is stored
as the erasure leaves it. A registration made after the erasure (the person joined again) is
taken as it is."""
from datetime import datetime
from uuid import UUID

import asyncpg

from services.matching.context import Matching
from services.matching.store import tasks
from shared.events import CaseReceived, ErasureDone, PersonErased, RequestReceived, VolunteerRegistered
from shared.unit_of_work import UnitOfWork

ERASED_NAME = ""
Erasable = RequestReceived | CaseReceived | VolunteerRegistered
SUBJECTS = {RequestReceived: "request", CaseReceived: "case", VolunteerRegistered: "volunteer"}


def as_erased(event: Erasable, erased_at: datetime | None) -> Erasable:
    """`event` as matching may keep it: without its personal fields (a volunteer also off the
    roster) if it happened before an erasure of its person, at `erased_at`; else as it is."""
    if erased_at is None or event.occurred_at > erased_at:
        return event
    blank = {field: None for field in type(event).personal}
    if isinstance(event, CaseReceived):
        blank.update(summary="", parties=())
    if isinstance(event, VolunteerRegistered):
        blank.update(name=ERASED_NAME, active=False)
    return event.model_copy(update=blank)


async def unless_erased(uow: UnitOfWork, event: Erasable, key: UUID) -> Erasable:
    """`event` as_erased by the erasure of its subject (`key`: its request, case or volunteer id),
    if any, read under the subject's lock (unless its batch took it first): of an erasure and the
    event handled at once, the second sees the first."""
    await tasks.take_locks(uow.connection, uow.not_yet_held([erasure_lock(key)]))
    erased_at = await uow.connection.fetchval("SELECT erased_at FROM erased WHERE subject = $1 AND id = $2",
                                              SUBJECTS[type(event)], key)
    return as_erased(event, erased_at)


def erasure_lock(key: UUID) -> str:
    return f"matching.erasure:{key}"


async def on_person_erased(matching: Matching, uow: UnitOfWork, event: PersonErased) -> None:
    conn = uow.connection
    volunteers = [v.volunteer_id for v in event.volunteers]
    requests = [r.request_id for r in event.requests]
    statements = {
        "volunteer": ("UPDATE volunteer SET name = $2, lat = NULL, lon = NULL, active = false "
                      "WHERE volunteer_id = ANY($1::uuid[]) AND (name <> $2 OR lat IS NOT NULL OR active)",
                      volunteers, ERASED_NAME),
        "volunteer_skill": ("DELETE FROM volunteer_skill WHERE volunteer_id = ANY($1::uuid[])", volunteers),
        "service_request": ("UPDATE service_request SET received = received - $2::text[] "
                            "WHERE request_id = ANY($1::uuid[]) AND received ?| $2::text[]",
                            requests, sorted(RequestReceived.personal)),
        "task": ("UPDATE task SET lat = NULL, lon = NULL WHERE request_id = ANY($1::uuid[]) AND lat IS NOT NULL",
                 requests),
        "mediation_case": ("UPDATE mediation_case SET summary = '', closing_note = NULL "
                           "WHERE case_id = ANY($1::uuid[]) AND (summary <> '' OR closing_note IS NOT NULL)",
                           list(event.case_ids)),
        "return_visit": ("UPDATE return_visit SET note = NULL WHERE case_id = ANY($1::uuid[]) AND note IS NOT NULL",
                         list(event.case_ids)),
    }
    await _lock(conn, [*volunteers, *requests, *event.case_ids])
    await conn.executemany(
        "INSERT INTO erased (subject, id, erased_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [("volunteer", key, event.occurred_at) for key in volunteers]
        + [("request", key, event.occurred_at) for key in requests]
        + [("case", key, event.occurred_at) for key in event.case_ids])
    changed = {}
    for table, (sql, *args) in statements.items():
        if n := int((await conn.execute(sql, *args)).split()[-1]):
            changed[table] = n
    await uow.emit(ErasureDone(correlation_id=event.correlation_id, occurred_at=matching.now(),
                               erasure_id=event.erasure_id, service="matching", changed=changed))


async def _lock(conn: asyncpg.Connection, keys: list[UUID]) -> None:
    """Held until the transaction ends; taken in one order, so two erasures never deadlock."""
    await tasks.take_locks(conn, [erasure_lock(key) for key in sorted(set(keys))])
