"""A matching decision: the waiting tasks of one community are staffed together (burst mode),
offers are booked against the volunteers' caps in PostgreSQL, and a task nobody can take is
escalated (a request) or climbs a level (a case)."""
from collections import Counter
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
from prometheus_client import Counter as Metric

from services.matching import cycle
from services.matching.announce import Subjects
from services.matching.context import Matching
from services.matching.domain.candidates import able, nobody_reason
from services.matching.domain.offers import Status, is_exhausted, offers_wanted
from services.matching.domain.staffing import Demand, Offer, staff_batch
from services.matching.plan import as_task
from services.matching.store import assignments, roster, tasks
from shared.calendar import day_of, week_of
from shared.events import AssignmentOffered, VolunteerRef
from shared.unit_of_work import UnitOfWork

OFFERS = Metric("linli_matching_offers_total", "Offers made, by urgency", ["urgency"])
# Passes over one community in a row (a case that climbs becomes a new waiting task).
MAX_PASSES = 4


async def lock_community(conn: asyncpg.Connection, community: str) -> None:
    """One decision at a time per community, across every matching process, until the
    transaction ends: each decision sees the loads the one before left. Every path that
    changes a community's tasks takes this lock first, then row locks, so none deadlock."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('matching.community:' || $1))", community)


async def dispatch(matching: Matching, community: str) -> None:
    for _ in range(MAX_PASSES):
        if not await decide(matching, community):
            return


async def decide(matching: Matching, community: str) -> bool:
    """One decision; True if it left new waiting tasks behind (a case moved up)."""
    async with matching.unit_of_work() as uow:
        conn = uow.connection
        await lock_community(conn, community)
        waiting = await tasks.waiting(conn, community, matching.settings.matching_batch_size)
        demands, failures, areas = [], {}, {}
        for row in waiting:
            demand, failures[row["task_id"]], areas[row["task_id"]] = await _demand(matching, conn, row)
            if demand is not None:
                demands.append(demand)
        offers = staff_batch(demands, matching.limits)
        subjects = Subjects(conn)
        made = Counter()
        for offer in offers:
            row = next(r for r in waiting if r["task_id"] == offer.task.task_id)
            made[offer.task.task_id] += await _offer(matching, uow, subjects, row, offer, areas[row["task_id"]])
        planned = Counter(offer.task.task_id for offer in offers)
        climbed = False
        for row in waiting:
            climbed |= await _settle_task(matching, uow, subjects, row, planned[row["task_id"]],
                                          made[row["task_id"]], failures[row["task_id"]], areas[row["task_id"]])
        return climbed


async def _demand(matching: Matching, conn: asyncpg.Connection, row: asyncpg.Record):
    """The task's demand for offers now (None if it needs none), why others could not take it,
    and the communities searched."""
    held = await assignments.of_task(conn, row["task_id"])
    accepted, pending = _places_held(held)
    wanted = offers_wanted(row["needed"], accepted, pending, row["urgency"], matching.settings.matching_emergency_fan_out)
    area = list(row["search_area"])
    if wanted == 0:
        return None, Counter(), area
    paired = await tasks.paired(conn, row["request_id"], row["occurrence"]) if row["request_id"] else set()
    # A mediator offered the case at a lower level is not asked again higher up.
    offered = await tasks.offered_for_case(conn, row["case_id"]) if row["case_id"] else set()
    task = as_task(row, offered | {a["volunteer_id"] for a in held}, paired)
    fit, failures = await _able(matching, conn, row, task, area)
    widen = (len(fit) < wanted and row["request_id"] and matching.settings.matching_widen_to_street
             and matching.areas.neighbours(row["community_code"]))
    if widen:
        area = [row["community_code"], *matching.areas.neighbours(row["community_code"])]
        fit, failures = await _able(matching, conn, row, task, area)
        await tasks.widen(conn, row["task_id"], area)
    return (Demand(task, wanted, tuple(fit)) if fit else None), failures, area


def _places_held(held) -> tuple[int, int]:
    """Places taken (accepted or served) and places with an offer pending."""
    return (sum(a["status"] in (Status.ACCEPTED, Status.COMPLETED) for a in held),
            sum(a["status"] == Status.OFFERED for a in held))


async def _able(matching: Matching, conn, row, task, area: list[str]):
    week = week_of(_day_of(matching, row["window_start"]))
    volunteers = await roster.candidates(conn, list(area), task.skills[0], week)
    if row["level"] == "grid":
        volunteers = [v for v in volunteers if v.grid_code == row["grid_code"]]
    return able(volunteers, task, matching.limits)


def _day_of(matching: Matching, moment: datetime | None):
    return day_of(moment or datetime.now(UTC), matching.limits.timezone)


async def _offer(matching: Matching, uow: UnitOfWork, subjects: Subjects, row, offer: Offer,
                 area: list[str]) -> int:
    """Book the volunteer and send the offer; 0 if another decision filled their caps first."""
    volunteer, planned = offer.volunteer, float(row["planned_hours"])
    week = week_of(_day_of(matching, row["window_start"]))
    if not await roster.book(uow.connection, volunteer.volunteer_id, week, planned,
                             matching.limits.max_open_assignments):
        return 0
    assignment_id, now = uuid4(), datetime.now(UTC)
    expires_at = matching.offer_expires(now, row["urgency"])
    reason = {**offer.score.reason(), "matched_skills": sorted(set(row["skills"]) & volunteer.skills),
              "volunteer_community": volunteer.community_code, "searched": area}
    await assignments.insert(uow.connection, assignment_id, row["task_id"], volunteer.volunteer_id, reason,
                             planned, week, expires_at)
    ref = VolunteerRef(volunteer_id=volunteer.volunteer_id, source=volunteer.source,
                       external_id=volunteer.external_id)
    about = await subjects.about_assignment(row, assignment_id, ref)
    await uow.emit(AssignmentOffered(**about, **await _offer_details(subjects, row), expires_at=expires_at,
                                     window_start=row["window_start"], window_end=row["window_end"]))
    OFFERS.labels(row["urgency"]).inc()
    return 1


async def _offer_details(subjects: Subjects, row) -> dict:
    if row["request_id"]:
        request = await subjects.request(row["request_id"])
        return {"urgency": request.urgency, "description": request.description, "address": request.address}
    case = await subjects.case(row["case_id"])
    return {"urgency": "high", "description": f"矛盾纠纷调解 ({case['dispute_type']})", "address": None}


async def _settle_task(matching: Matching, uow: UnitOfWork, subjects: Subjects, row, planned: int, made: int,
                       failures: Counter, area: list[str]) -> bool:
    """After the offers: a task nobody holds and nobody could be offered is escalated or climbs;
    one whose booking lost a race to another decision keeps waiting for the next one."""
    if made < planned:
        return False
    held = await assignments.of_task(uow.connection, row["task_id"])
    accepted, pending = _places_held(held)
    if not is_exhausted(row["needed"], accepted, pending):
        await tasks.offers_complete(uow.connection, row["task_id"])
        return False
    if row["request_id"]:
        label = (await subjects.request(row["request_id"])).category
        reason = nobody_reason(label, "community " + ", ".join(area), failures)
        if accepted + pending:
            reason = f"found {accepted + pending} of {row['needed']} volunteers; {reason}"
        await cycle.escalate_request(uow, subjects, row, reason, accepted)
        return False
    reason = nobody_reason("the case", f"{row['level']} level ({', '.join(area)})", failures)
    await cycle.climb(matching, uow, subjects, row, reason)
    return True
