"""Erasure in matching (see services/intake/erasure.py): a volunteer's name and location go and
they leave the roster (no more offers); a request keeps what staffing it needs, not its
description, address, location or beneficiary; a case loses its summary. Ids, hours and the
assignments stay, for the statistics. Erasing twice changes nothing the second time."""
from services.matching.context import Matching
from shared.events import ErasureDone, PersonErased, RequestReceived
from shared.unit_of_work import UnitOfWork

ERASED_NAME = ""


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
        "mediation_case": ("UPDATE mediation_case SET summary = '' WHERE case_id = ANY($1::uuid[]) AND summary <> ''",
                           list(event.case_ids)),
    }
    changed = {}
    for table, (sql, *args) in statements.items():
        if n := int((await conn.execute(sql, *args)).split()[-1]):
            changed[table] = n
    await uow.emit(ErasureDone(correlation_id=event.correlation_id, occurred_at=matching.now(),
                               erasure_id=event.erasure_id, service="matching", changed=changed))
