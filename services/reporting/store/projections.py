"""What each event writes into the read models. The same code serves the handlers and the
rebuild. Each write is either an increment of a rollup cell (or a sketch cell) or an upsert that
keeps the earliest (or latest) time, so the read models end the same whatever order events come in.

The facts are written at once, each request's and each assignment's in turn (advisory locks the
caller takes first: take_turns);
the cells' changes are collected (domain.changes) and written at the end of the transaction
(store.cells), sorted."""
from collections.abc import Awaitable, Callable, Iterable, Mapping

import asyncpg

from services.reporting.domain.changes import CellChanges
from services.reporting.domain.increments import (Cell, cell_of, dispute_increments, request_increments,
                                                  return_visit_increments, staff_action)
from services.reporting.domain.notes import public_params
from services.reporting.domain.periods import day_of, period_start
from services.reporting.domain.sketches import Cell as SketchCell
from services.reporting.domain.sketches import Occurrence, duration_changes, people_served
from services.reporting.store.archive import beneficiary_of
from services.reporting.store.cells import ROLLUPS
from shared.events import (CampaignStarted, CaseClosed, CaseEscalated, CaseReceived, CompletionReported, Event,
                           HouseholdRegistered, OccurrenceEvent, RequestAssigned, RequestCancelled, RequestCompleted,
                           RequestDuplicate, RequestEscalated, RequestHandledByStaff, RequestMissed, RequestReceived,
                           RequestRejected, RequestReopened, RequestStaffAssigned, ReturnVisitRecorded,
                           VolunteerRegistered)

# The steps an occurrence reaches; staff_agreed: staff named a volunteer who agreed by phone,
# handled: staff did the service themselves.
STEPS = ("assigned", "escalated", "completed", "missed", "staff_agreed", "handled")
# projection(conn, event, city timezone, the transaction's cell changes)
Projection = Callable[[asyncpg.Connection, Event, str, CellChanges], Awaitable[None]]


def _add_up(changes: CellChanges, rollup: str, event: Event, kind: str | None, increments: Mapping[str, float],
            city_timezone: str) -> None:
    """Add to the event's day cell and to its month cell."""
    _add_to(changes, rollup, cell_of(event, kind, city_timezone), increments)


def _add_to(changes: CellChanges, rollup: str, cell: Cell, increments: Mapping[str, float]) -> None:
    """Add to a day cell and to its month cell."""
    _, counts, months = ROLLUPS[rollup]
    if not increments.keys() <= set(counts):  # column names come from these closed sets only
        raise ValueError(f"unknown counts {sorted(increments.keys() - set(counts))} for {rollup}")
    changes.add(rollup, (cell.day, cell.community_code, cell.kind), increments)
    changes.add(months, (period_start(cell.day, "month"), cell.community_code, cell.kind), increments)


async def roll_up_months(conn: asyncpg.Connection, rollup: str) -> None:
    """Fill a month rollup from its day rows, as migration 0007 did (the bench's load)."""
    kind_column, counts, months = ROLLUPS[rollup]
    await conn.execute(
        f"INSERT INTO {months} (month, community_code, {kind_column}, {', '.join(counts)}) "
        f"SELECT date_trunc('month', day)::date, community_code, {kind_column}, "
        f"{', '.join(f'sum({name})' for name in counts)} FROM {rollup} GROUP BY 1, 2, 3")


async def _one_request_at_a_time(conn: asyncpg.Connection, *request_ids) -> None:
    """Projections that copy between a request and its occurrences take turns per request (until
    commit): each then sees what the other wrote, whichever came first. Several are taken in one
    statement, in one order."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(r::text, 6)) FROM unnest($1::uuid[]) r",
                       sorted(set(request_ids)))


# What the sketches read of an occurrence (domain.sketches.Occurrence), and the steps they count.
SKETCHED = ", ".join(Occurrence.__dataclass_fields__)
SKETCHED_STEPS = ("assigned", "completed", "handled")


def _occurrence(record: asyncpg.Record | None) -> Occurrence | None:
    return None if record is None else Occurrence(**record)


def _sketch(changes: CellChanges, before: Occurrence | None, after: Occurrence) -> None:
    """Count what an event changed of an occurrence into the sketches: the people it served and
    the durations to its steps (domain.sketches)."""
    for cell, person in people_served(before, after):
        changes.see(cell, "beneficiary", person)
    for cell, step, seconds, delta in duration_changes(before, after):
        changes.move(cell, step, seconds, delta)


async def _mark_step(conn: asyncpg.Connection, event: OccurrenceEvent, step: str, city_timezone: str,
                     changes: CellChanges) -> None:
    """The occurrence reached `step`; the earliest time stands when it is told twice. A new
    occurrence copies its request's receipt, if that came first. The sketches count the change
    of the steps they know, from the occurrence as it was (read under the request's lock)."""
    if step not in STEPS:  # the column names below come from this closed set only
        raise ValueError(f"unknown step {step!r}")
    before = None
    if step in SKETCHED_STEPS:
        before = _occurrence(await conn.fetchrow(
            f"SELECT {SKETCHED} FROM occurrence_fact WHERE request_id = $1 AND occurrence = $2",
            event.request_id, event.occurrence))
    escalated = isinstance(event, RequestEscalated)
    after = await conn.fetchrow(
        f"INSERT INTO occurrence_fact AS o (request_id, occurrence, community_code, category, {step}_at, {step}_day, "
        "escalation_reason, escalation_reason_code, escalation_reason_params, received_at, beneficiary) "
        "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, r.received_at, r.beneficiary "
        "FROM (SELECT) AS one LEFT JOIN request_fact r ON r.request_id = $1 "
        "ON CONFLICT (request_id, occurrence) DO UPDATE SET "
        f"{step}_at = EXCLUDED.{step}_at, {step}_day = EXCLUDED.{step}_day, "
        "escalation_reason = COALESCE(EXCLUDED.escalation_reason, o.escalation_reason), "
        "escalation_reason_code = COALESCE(EXCLUDED.escalation_reason_code, o.escalation_reason_code), "
        "escalation_reason_params = COALESCE(EXCLUDED.escalation_reason_params, o.escalation_reason_params) "
        f"WHERE o.{step}_at IS NULL OR EXCLUDED.{step}_at < o.{step}_at RETURNING {SKETCHED}",
        event.request_id, event.occurrence, event.community_code, event.category, event.occurred_at,
        day_of(event.occurred_at, city_timezone), event.reason if escalated else None,
        event.reason_code if escalated else None,
        public_params(event.reason_params) if escalated and event.reason_code else None)
    if step in SKETCHED_STEPS and after is not None:
        _sketch(changes, before, _occurrence(after))


async def _received(conn: asyncpg.Connection, event: RequestReceived, city_timezone: str,
                    changes: CellChanges) -> None:
    await conn.execute(
        "INSERT INTO request_fact (request_id, community_code, category, received_at, beneficiary) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id) DO UPDATE SET community_code = EXCLUDED.community_code, "
        "category = EXCLUDED.category, received_at = EXCLUDED.received_at, beneficiary = EXCLUDED.beneficiary",
        event.request_id, event.community_code, event.category, event.occurred_at, await beneficiary_of(conn, event))
    before = {row["occurrence"]: _occurrence(row) for row in await conn.fetch(
        f"SELECT {SKETCHED} FROM occurrence_fact WHERE request_id = $1", event.request_id)}
    for after in await conn.fetch(
            "UPDATE occurrence_fact SET received_at = r.received_at, beneficiary = r.beneficiary "
            "FROM request_fact r WHERE r.request_id = $1 AND occurrence_fact.request_id = $1 "
            f"RETURNING {', '.join(f'occurrence_fact.{name}' for name in Occurrence.__dataclass_fields__)}",
            event.request_id):
        _sketch(changes, before[after["occurrence"]], _occurrence(after))
    _add_up(changes, "request_rollup", event, event.category, request_increments(event), city_timezone)


async def _staff_assigned(conn: asyncpg.Connection, event: RequestStaffAssigned, city_timezone: str,
                          changes: CellChanges) -> None:
    """A volunteer who agreed by phone holds the occurrence now; an offer holds it only once
    accepted (request.assigned)."""
    if event.agreed:
        await _mark_step(conn, event, "staff_agreed", city_timezone, changes)


async def _handled(conn: asyncpg.Connection, event: RequestHandledByStaff, city_timezone: str,
                   changes: CellChanges) -> None:
    await _mark_step(conn, event, "handled", city_timezone, changes)
    _add_up(changes, "request_rollup", event, event.category, request_increments(event), city_timezone)


async def _linked(conn: asyncpg.Connection, event: RequestDuplicate, city_timezone: str,
                  changes: CellChanges) -> None:
    """Staff linked a request as a duplicate: it waits no more. (A duplicate intake found never
    came in as a request: nothing to write.)"""
    if event.linked_by is not None:
        await conn.execute(
            "INSERT INTO request_fact AS r (request_id, duplicate_at) VALUES ($1, $2) ON CONFLICT (request_id) "
            "DO UPDATE SET duplicate_at = LEAST(r.duplicate_at, EXCLUDED.duplicate_at)",
            event.request_id, event.occurred_at)


async def _cancelled(conn: asyncpg.Connection, event: RequestCancelled, city_timezone: str,
                     changes: CellChanges) -> None:
    await conn.execute(
        "INSERT INTO request_fact AS r (request_id, cancelled_at) VALUES ($1, $2) ON CONFLICT (request_id) "
        "DO UPDATE SET cancelled_at = LEAST(r.cancelled_at, EXCLUDED.cancelled_at)",
        event.request_id, event.occurred_at)
    _add_up(changes, "request_rollup", event, event.category, request_increments(event), city_timezone)


async def _rejected(conn: asyncpg.Connection, event: RequestRejected, city_timezone: str,
                    changes: CellChanges) -> None:
    _add_up(changes, "request_rollup", event, None, request_increments(event), city_timezone)


def _occurrence_step(step: str) -> Projection:
    async def project_step(conn: asyncpg.Connection, event: OccurrenceEvent, city_timezone: str,
                           changes: CellChanges) -> None:
        await _mark_step(conn, event, step, city_timezone, changes)
        _add_up(changes, "request_rollup", event, event.category, request_increments(event), city_timezone)
    return project_step


async def _one_assignment_at_a_time(conn: asyncpg.Connection, *assignment_ids) -> None:
    """A completion and the volunteer's report of the same assignment take turns (until commit):
    whichever comes second adds the volunteer's hours as reported. Several are taken in one
    statement, in one order."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(a::text, 7)) FROM unnest($1::uuid[]) a",
                       sorted(set(assignment_ids)))


async def _completed(conn: asyncpg.Connection, event: RequestCompleted, city_timezone: str,
                     changes: CellChanges) -> None:
    """The occurrence is done; each volunteer took part (once), for the hours they reported, else
    an equal share of the service's."""
    await _occurrence_step("completed")(conn, event, city_timezone, changes)
    cell = cell_of(event, event.category, city_timezone)
    taking_part = await conn.fetch(
        "WITH taking_part AS (INSERT INTO participation (assignment_id, volunteer_id, request_id, occurrence, "
        "community_code, category, day, share_hours) SELECT assignment_id, volunteer_id, $3, $4, $5, $6, $7, $8 "
        "FROM unnest($1::uuid[], $2::uuid[]) AS v(assignment_id, volunteer_id) ON CONFLICT DO NOTHING "
        "RETURNING assignment_id, volunteer_id, share_hours) "
        "SELECT t.volunteer_id::text AS volunteer, COALESCE(h.hours, t.share_hours) AS hours "
        "FROM taking_part t LEFT JOIN reported_hours h USING (assignment_id)",
        [volunteer.assignment_id for volunteer in event.volunteers],
        [volunteer.volunteer_id for volunteer in event.volunteers], event.request_id, event.occurrence,
        event.community_code, event.category, cell.day, event.hours / len(event.volunteers))
    if taking_part:
        _add_to(changes, "request_rollup", cell, {"volunteer_hours": sum(row["hours"] for row in taking_part)})
        month = SketchCell(period_start(cell.day, "month"), cell.community_code, cell.kind)
        for row in taking_part:
            changes.see(month, "volunteer", row["volunteer"])


async def _reported(conn: asyncpg.Connection, event: CompletionReported, city_timezone: str,
                    changes: CellChanges) -> None:
    """The latest report stands; a participation already counted moves from its share of the
    service's hours (or the report before) to these."""
    moved = await conn.fetchrow(
        "WITH earlier AS (SELECT hours FROM reported_hours WHERE assignment_id = $1), "
        "reported AS (INSERT INTO reported_hours AS h (assignment_id, hours, reported_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (assignment_id) DO UPDATE SET hours = EXCLUDED.hours, reported_at = EXCLUDED.reported_at "
        "WHERE EXCLUDED.reported_at >= h.reported_at RETURNING hours) "
        "SELECT p.day, p.community_code, p.category, r.hours - COALESCE(e.hours, p.share_hours) AS hours "
        "FROM reported r JOIN participation p ON p.assignment_id = $1 LEFT JOIN earlier e ON true",
        event.assignment_id, event.hours, event.occurred_at)
    if moved is not None and moved["hours"]:
        _add_to(changes, "request_rollup", Cell(moved["day"], moved["community_code"], moved["category"]),
                {"volunteer_hours": moved["hours"]})


async def _registered(conn: asyncpg.Connection, event: VolunteerRegistered, city_timezone: str,
                      changes: CellChanges) -> None:
    """The latest profile stands (ids, community, team: no name); the day of the first registration stays."""
    day = day_of(event.occurred_at, city_timezone)
    await conn.execute(
        "INSERT INTO volunteer AS v (volunteer_id, source, external_id, community_code, team, active, "
        "profile_at, first_day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (volunteer_id) DO UPDATE SET "
        "source = EXCLUDED.source, external_id = EXCLUDED.external_id, "
        "community_code = EXCLUDED.community_code, team = EXCLUDED.team, active = EXCLUDED.active, "
        "profile_at = EXCLUDED.profile_at WHERE EXCLUDED.profile_at >= v.profile_at",
        event.volunteer_id, event.source, event.external_id, event.community_code, event.team,
        event.active, event.occurred_at, day)
    await conn.execute("UPDATE volunteer SET first_day = $2 WHERE volunteer_id = $1 AND first_day > $2",
                       event.volunteer_id, day)


async def _dispute(conn: asyncpg.Connection, event: CaseReceived | CaseEscalated | CaseClosed,
                   city_timezone: str, changes: CellChanges) -> None:
    level, increments = dispute_increments(event)
    _add_up(changes, "dispute_rollup", event, level, increments, city_timezone)


async def _return_visit(conn: asyncpg.Connection, event: ReturnVisitRecorded, city_timezone: str,
                        changes: CellChanges) -> None:
    level, increments = return_visit_increments(event)
    _add_up(changes, "dispute_rollup", event, level, increments, city_timezone)


async def _household(conn: asyncpg.Connection, event: HouseholdRegistered, city_timezone: str,
                     changes: CellChanges) -> None:
    """The latest file's community stands; the day it was first filed stays."""
    day = day_of(event.occurred_at, city_timezone)
    await conn.execute(
        "INSERT INTO household AS h (household_id, community_code, registered_at, first_day) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (household_id) DO UPDATE SET community_code = EXCLUDED.community_code, "
        "registered_at = EXCLUDED.registered_at WHERE EXCLUDED.registered_at >= h.registered_at",
        event.household_id, event.community_code, event.occurred_at, day)
    await conn.execute("UPDATE household SET first_day = $2 WHERE household_id = $1 AND first_day > $2",
                       event.household_id, day)


async def _campaign(conn: asyncpg.Connection, event: CampaignStarted, city_timezone: str,
                    changes: CellChanges) -> None:
    await conn.execute(
        "INSERT INTO campaign (campaign_id, title, community_codes, street_code, window_start, window_end, targeted, "
        "started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        event.campaign_id, event.title, list(event.community_codes), event.street_code, event.window_start,
        event.window_end, len({visit.household_id for visit in event.visits}), event.occurred_at)
    await conn.executemany(
        "INSERT INTO campaign_visit (request_id, campaign_id, household_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [(visit.request_id, event.campaign_id, visit.household_id) for visit in event.visits])


def _count_staff_action(changes: CellChanges, event: Event, city_timezone: str) -> None:
    """What staff did by hand, per day, community, category and kind (domain.increments.staff_action)."""
    action = staff_action(event)
    if action is None:
        return
    kind, category = action
    cell = cell_of(event, category, city_timezone)
    changes.add("staff_action_rollup", (cell.day, cell.community_code, cell.kind, kind), {"actions": 1})


async def _nothing_more(conn: asyncpg.Connection, event: Event, city_timezone: str, changes: CellChanges) -> None:
    """An event that only counts as a staff action (request.reopened)."""


PROJECTIONS: dict[type[Event], Projection] = {
    RequestReceived: _received, RequestRejected: _rejected, RequestCancelled: _cancelled,
    RequestAssigned: _occurrence_step("assigned"), RequestEscalated: _occurrence_step("escalated"),
    RequestMissed: _occurrence_step("missed"), RequestCompleted: _completed,
    CompletionReported: _reported, VolunteerRegistered: _registered,
    CaseReceived: _dispute, CaseEscalated: _dispute, CaseClosed: _dispute,
    RequestStaffAssigned: _staff_assigned, RequestReopened: _nothing_more, RequestHandledByStaff: _handled,
    RequestDuplicate: _linked, ReturnVisitRecorded: _return_visit, HouseholdRegistered: _household,
    CampaignStarted: _campaign,
}


async def project(conn: asyncpg.Connection, event: Event, city_timezone: str, changes: CellChanges) -> None:
    """Write what `event` tells into the read models (the caller guards against doing it twice),
    and count it if staff did it. Its cells' changes go to `changes`, for the caller to write
    (store.cells.write) before the transaction commits."""
    await PROJECTIONS[type(event)](conn, event, city_timezone, changes)
    _count_staff_action(changes, event, city_timezone)


async def take_turns(conn: asyncpg.Connection, events: list[Event], fresh: Callable[[Iterable], list]) -> None:
    """Take the turns the events' projections need (a handler's, before `project`; a batch's, all
    first): every request's, then every assignment's, each sorted in one statement; those `fresh`
    says the transaction does not hold yet (UnitOfWork.not_yet_held). A rebuild takes none: it
    holds the archive alone, and a lock per request in its one transaction ran PostgreSQL's lock
    table out (`out of shared memory` after 12,000 requests, at max_locks_per_transaction 64)."""
    requests = fresh(("request", event.request_id) for event in events
                     if getattr(event, "request_id", None) is not None)
    if requests:
        await _one_request_at_a_time(conn, *(request_id for _, request_id in requests))
    assignments = [volunteer.assignment_id for event in events if isinstance(event, RequestCompleted)
                   for volunteer in event.volunteers]
    assignments += [event.assignment_id for event in events if isinstance(event, CompletionReported)]
    if assignments := fresh(("assignment", assignment_id) for assignment_id in assignments):
        await _one_assignment_at_a_time(conn, *(assignment_id for _, assignment_id in assignments))
