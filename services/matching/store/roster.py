"""The roster: volunteers, the skills they are found by, and the hours and places they hold."""
from datetime import date, time
from uuid import UUID

import asyncpg

from services.matching.domain.changes import AddAssignment, SettleBooking
from services.matching.domain.model import Slot, Volunteer
from shared.events import VolunteerRegistered

# Weeks of hours that count as "recent" for fairness.
RECENT_WEEKS = 4


async def save_volunteer(conn: asyncpg.Connection, event: VolunteerRegistered) -> None:
    """Add or update a roster entry; a registration older than the one applied is ignored.
    The searchable skills follow the profile: none while the volunteer is paused."""
    applied = await conn.fetchval(
        "INSERT INTO volunteer (volunteer_id, source, external_id, name, community_code, grid_code, team, skills, "
        "availability, max_weekly_hours, lat, lon, languages, active, registered_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
        "ON CONFLICT (volunteer_id) DO UPDATE SET name = EXCLUDED.name, community_code = EXCLUDED.community_code, "
        "grid_code = EXCLUDED.grid_code, team = EXCLUDED.team, skills = EXCLUDED.skills, "
        "availability = EXCLUDED.availability, max_weekly_hours = EXCLUDED.max_weekly_hours, lat = EXCLUDED.lat, "
        "lon = EXCLUDED.lon, languages = EXCLUDED.languages, active = EXCLUDED.active, "
        "registered_at = EXCLUDED.registered_at WHERE volunteer.registered_at <= EXCLUDED.registered_at "
        "RETURNING true",
        event.volunteer_id, event.source, event.external_id, event.name, event.community_code, event.grid_code,
        event.team, list(event.skills), [slot.model_dump() for slot in event.availability],
        event.max_weekly_hours, event.location.lat if event.location else None,
        event.location.lon if event.location else None, list(event.languages), event.active, event.occurred_at)
    if applied:
        await conn.execute("DELETE FROM volunteer_skill WHERE volunteer_id = $1", event.volunteer_id)
        if event.active:
            await conn.executemany("INSERT INTO volunteer_skill (community_code, skill, volunteer_id) VALUES ($1, $2, $3)",
                                   [(event.community_code, skill, event.volunteer_id) for skill in event.skills])


# For each search (number, skill, week), its communities' volunteers with the skill (the
# (community, skill) key), their hours that week and over the recent weeks, and their accepted windows.
CANDIDATES = (
    "SELECT q.number, v.volunteer_id, v.source, v.external_id, v.community_code, v.grid_code, v.skills, "
    "v.availability, v.max_weekly_hours, v.lat, v.lon, v.languages, v.active, v.open_assignments, "
    "COALESCE(w.hours, 0) AS week_hours, "
    "COALESCE((SELECT sum(r.hours) FROM volunteer_week r WHERE r.volunteer_id = v.volunteer_id "
    "          AND r.week > q.week - $5::int AND r.week <= q.week), 0) AS recent_hours, "
    "COALESCE((SELECT array_agg(tstzrange(t.window_start, t.window_end)) FROM assignment a JOIN task t "
    "          USING (task_id) WHERE a.volunteer_id = v.volunteer_id AND a.status = 'accepted' "
    "          AND t.window_start IS NOT NULL), '{}') AS booked "
    "FROM unnest($1::int[], $2::text[]) AS p(number, community) "
    "JOIN unnest($3::text[], $4::date[]) WITH ORDINALITY AS q(skill, week, number) USING (number) "
    "JOIN volunteer_skill s ON s.community_code = p.community AND s.skill = q.skill "
    "JOIN volunteer v USING (volunteer_id) "
    "LEFT JOIN volunteer_week w ON w.volunteer_id = v.volunteer_id AND w.week = q.week")


async def candidates(conn: asyncpg.Connection, searches: list[tuple[list[str], str, date]]) -> list[list[Volunteer]]:
    """For each search (communities, skill, week), in one statement: the active volunteers of
    the communities who have the skill, with their hours in the week and over the recent weeks.
    The (community, skill) key finds them without reading anyone else."""
    if not searches:
        return []
    places = [(number, community) for number, (communities, _, _) in enumerate(searches, 1)
              for community in communities]
    rows = await conn.fetch(
        CANDIDATES,
        [number for number, _ in places], [community for _, community in places],
        [skill for _, skill, _ in searches], [week for _, _, week in searches], RECENT_WEEKS * 7)
    found = [[] for _ in searches]
    for row in rows:
        found[row["number"] - 1].append(_volunteer(row))
    return found


def _volunteer(row: asyncpg.Record) -> Volunteer:
    return Volunteer(
        volunteer_id=row["volunteer_id"], source=row["source"], external_id=row["external_id"],
        community_code=row["community_code"], grid_code=row["grid_code"], skills=frozenset(row["skills"]),
        availability=tuple(_slot(slot) for slot in row["availability"]),
        max_weekly_hours=float(row["max_weekly_hours"]),
        location=(row["lat"], row["lon"]) if row["lat"] is not None else None,
        languages=frozenset(row["languages"]), active=row["active"], open_assignments=row["open_assignments"],
        week_hours=float(row["week_hours"]), recent_hours=float(row["recent_hours"]),
        booked=tuple((window.lower, window.upper) for window in row["booked"]))


def _slot(slot: dict) -> Slot:
    end = time.max if slot["end"] == "24:00" else time.fromisoformat(slot["end"])
    return Slot(slot["weekday"], time.fromisoformat(slot["start"]), end)


async def lock_volunteer(conn: asyncpg.Connection, volunteer_id: UUID) -> None:
    """One answer at a time per volunteer, across communities and processes, until the
    transaction ends: each acceptance sees the windows the one before booked. Only answers
    take it (after their community's lock and rows, or a batch's after all its communities'),
    so it closes no cycle with other locks."""
    await lock_volunteers(conn, [volunteer_id])


async def lock_volunteers(conn: asyncpg.Connection, volunteer_ids: list[UUID]) -> None:
    """lock_volunteer for each, in the one order (by id), in one statement."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('matching.volunteer:' || v::text)) FROM unnest($1::uuid[]) v",
        sorted(set(volunteer_ids)))


async def book(conn: asyncpg.Connection, offer: AddAssignment, max_open: int) -> bool:
    """Hold a place and the offer's hours of the volunteer's week, if their caps allow it now,
    and write the offer: all in one statement. The volunteer's row is locked first (FOR UPDATE
    re-reads it after any decision that held it, in any process), the week's hours are added
    only within the cap (ON CONFLICT sees the latest hours), the place only if they were, and
    the offer only if the place was; else nothing."""
    return bool(await conn.fetchval(
        "WITH placed AS (SELECT max_weekly_hours FROM volunteer WHERE volunteer_id = $1 AND active "
        "  AND open_assignments < $4 FOR UPDATE), "
        "booked AS (INSERT INTO volunteer_week AS w (volunteer_id, week, hours) "
        "  SELECT $1, $2, $3::numeric FROM placed WHERE $3::numeric <= placed.max_weekly_hours "
        "  ON CONFLICT (volunteer_id, week) DO UPDATE SET hours = w.hours + EXCLUDED.hours "
        "  WHERE w.hours + EXCLUDED.hours <= (SELECT max_weekly_hours FROM placed) RETURNING w.volunteer_id), "
        "counted AS (UPDATE volunteer v SET open_assignments = v.open_assignments + 1 FROM booked "
        "  WHERE v.volunteer_id = booked.volunteer_id RETURNING v.volunteer_id) "
        "INSERT INTO assignment (assignment_id, task_id, volunteer_id, reason, planned_hours, week, expires_at) "
        "SELECT $5, $6, volunteer_id, $7, $3, $2, $8 FROM counted RETURNING true",
        offer.volunteer_id, offer.week, offer.planned_hours, max_open, offer.assignment_id, offer.task_id,
        offer.reason, offer.expires_at))


async def settle(conn: asyncpg.Connection, change: SettleBooking) -> None:
    await conn.execute("UPDATE volunteer SET open_assignments = GREATEST(open_assignments - 1, 0) "
                       "WHERE volunteer_id = $1", change.volunteer_id)
    await conn.execute(
        "INSERT INTO volunteer_week AS w (volunteer_id, week, hours) VALUES ($1, $2, GREATEST($3::numeric, 0)) "
        "ON CONFLICT (volunteer_id, week) DO UPDATE SET hours = GREATEST(w.hours + $3::numeric, 0)",
        change.volunteer_id, change.week, change.served - change.booked)


async def roster(conn: asyncpg.Connection, communities: list[str] | None, team: str | None, limit: int,
                 volunteer: tuple[str, str] | None = None) -> list[asyncpg.Record]:
    """The roster of `communities` (None: all), of one `team`, or just the `volunteer` (source, external id)."""
    source, external_id = volunteer or (None, None)
    return await conn.fetch(
        f"SELECT {PROFILE} FROM volunteer WHERE ($1::text[] IS NULL OR community_code = ANY($1)) "
        "AND ($2::text IS NULL OR team = $2) AND ($4::text IS NULL OR (source, external_id) = ($4, $5)) "
        "ORDER BY community_code, name LIMIT $3", communities, team, limit, source, external_id)


PROFILE = ("volunteer_id, source, external_id, name, community_code, grid_code, team, skills, availability, "
           "max_weekly_hours, lat, lon, languages, active, open_assignments, registered_at")


async def profile(conn: asyncpg.Connection, volunteer_id: UUID) -> dict | None:
    """A volunteer's profile with their weeks of hours and their assignments, newest first."""
    row = await conn.fetchrow(f"SELECT {PROFILE} FROM volunteer WHERE volunteer_id = $1", volunteer_id)
    if row is None:
        return None
    weeks = await conn.fetch("SELECT week, hours FROM volunteer_week WHERE volunteer_id = $1 ORDER BY week DESC "
                             "LIMIT 12", volunteer_id)
    history = await conn.fetch(
        "SELECT a.assignment_id, a.status, a.created_at, a.answered_at, a.completed_at, a.hours, a.people_served, "
        "t.request_id, t.occurrence, t.case_id, t.level, t.community_code FROM assignment a JOIN task t "
        "USING (task_id) WHERE a.volunteer_id = $1 ORDER BY a.created_at DESC LIMIT 200", volunteer_id)
    return {**dict(row), "availability": row["availability"],
            "weeks": [dict(w) for w in weeks], "assignments": [dict(h) for h in history]}


async def teams(conn: asyncpg.Connection, communities: list[str] | None) -> list[asyncpg.Record]:
    """Each team with its members and its specialities (the skills its active members have, most held first)."""
    return await conn.fetch(
        "SELECT community_code, team, count(*) AS members, count(*) FILTER (WHERE active) AS active_members, "
        "(SELECT array_agg(skill ORDER BY n DESC, skill) FROM (SELECT skill, count(*) AS n FROM volunteer m, "
        " unnest(m.skills) AS skill WHERE m.team = v.team AND m.community_code = v.community_code AND m.active "
        " GROUP BY skill) s) AS specialities "
        "FROM volunteer v WHERE team IS NOT NULL AND ($1::text[] IS NULL OR community_code = ANY($1)) "
        "GROUP BY community_code, team ORDER BY community_code, team", communities)
