"""Key households (建档) and visit campaigns (走访慰问) as matching keeps them: from
household.registered (the public form: no name, phone or address) and campaign.started; a
household's paired volunteer (asked first), its history, and each campaign's visits."""
from uuid import UUID

import asyncpg

from shared.events import CampaignStarted, HouseholdRegistered


async def save_household(conn: asyncpg.Connection, event: HouseholdRegistered) -> None:
    """Add or update a household; a registration older than the one applied is ignored."""
    paired = event.paired_volunteer
    await conn.execute(
        "INSERT INTO household (household_id, source, external_id, community_code, grid_code, tags, paired_source, "
        "paired_external_id, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (household_id) DO UPDATE SET community_code = EXCLUDED.community_code, "
        "grid_code = EXCLUDED.grid_code, tags = EXCLUDED.tags, paired_source = EXCLUDED.paired_source, "
        "paired_external_id = EXCLUDED.paired_external_id, registered_at = EXCLUDED.registered_at "
        "WHERE household.registered_at <= EXCLUDED.registered_at",
        event.household_id, event.source, event.external_id, event.community_code, event.grid_code,
        list(event.tags), paired.source if paired else None, paired.external_id if paired else None,
        event.occurred_at)


async def save_campaign(conn: asyncpg.Connection, event: CampaignStarted) -> None:
    """Store the campaign and its visits once (a redelivery changes nothing)."""
    if not await conn.fetchval(
            "INSERT INTO campaign (campaign_id, title, community_codes, street_code, tags, window_start, window_end, "
            "started_by, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING true",
            event.campaign_id, event.title, list(event.community_codes), event.street_code, list(event.tags),
            event.window_start, event.window_end, event.started_by.model_dump(), event.occurred_at):
        return
    await conn.executemany("INSERT INTO campaign_visit (campaign_id, household_id, request_id) VALUES ($1, $2, $3) "
                           "ON CONFLICT DO NOTHING",
                           [(event.campaign_id, visit.household_id, visit.request_id) for visit in event.visits])


# The volunteer paired with the household of a request (结对), if it has one on the roster;
# formatted with the request (a column of store/waiting.py's statement).
PAIRED_VOLUNTEER = ("SELECT v.volunteer_id FROM service_request r JOIN household h ON h.household_id = r.household_id "
                    "JOIN volunteer v ON (v.source, v.external_id) = (h.paired_source, h.paired_external_id) "
                    "WHERE r.request_id = {request}")


async def household(conn: asyncpg.Connection, household_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT household_id, community_code FROM household WHERE household_id = $1",
                               household_id)


async def services_of(conn: asyncpg.Connection, household_id: UUID) -> list[asyncpg.Record]:
    """Every occurrence of the household's requests, newest first, with what was served and by whom."""
    return await conn.fetch(
        "SELECT t.request_id, t.occurrence, r.category, t.status, t.window_start, t.window_end, "
        "COALESCE(h.hours, sum(a.hours) FILTER (WHERE a.status = 'completed')) AS hours, "
        "COALESCE(h.people_served, sum(a.people_served) FILTER (WHERE a.status = 'completed')) "
        "  AS people_served, "
        "COALESCE(h.handled_at, max(a.completed_at) FILTER (WHERE a.status = 'completed')) AS completed_at, "
        "h.task_id IS NOT NULL AS handled_by_staff, r.campaign_id "
        "FROM service_request r JOIN task t ON t.request_id = r.request_id "
        "LEFT JOIN staff_handled h ON h.task_id = t.task_id "
        "LEFT JOIN assignment a ON a.task_id = t.task_id WHERE r.household_id = $1 "
        "GROUP BY t.task_id, r.request_id, h.task_id ORDER BY COALESCE(t.window_start, r.received_at) DESC, t.occurrence DESC",
        household_id)


async def cases_of(conn: asyncpg.Connection, household_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT c.case_id, c.dispute_type, c.level, c.status, c.outcome, v.satisfaction, v.visited_at "
        "FROM mediation_case c LEFT JOIN return_visit v ON v.case_id = c.case_id WHERE c.household_id = $1 "
        "ORDER BY c.received_at DESC", household_id)


async def campaigns(conn: asyncpg.Connection, communities: list[str] | None) -> list[asyncpg.Record]:
    """The campaigns of any of `communities` (None: all), newest first (campaign_of_community)."""
    area = "community_codes && $1::text[]" if communities is not None else "$1::text[] IS NULL"
    return await conn.fetch("SELECT campaign_id, title, community_codes, tags, window_start, window_end, started_at "
                            f"FROM campaign WHERE {area} ORDER BY started_at DESC", communities)


async def campaign(conn: asyncpg.Connection, campaign_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT campaign_id, title, community_codes, tags, window_start, window_end, started_at "
                               "FROM campaign WHERE campaign_id = $1", campaign_id)


async def visits(conn: asyncpg.Connection, campaign_ids: list[UUID]) -> list[asyncpg.Record]:
    """The campaigns' visits, each with its occurrences' statuses, whether staff handled it or a
    volunteer accepted it, and the volunteer who took it (None before anyone did)."""
    return await conn.fetch(
        "SELECT cv.campaign_id, cv.household_id, cv.request_id, "
        "COALESCE(array_agg(t.status) FILTER (WHERE t.task_id IS NOT NULL), '{}') AS statuses, "
        "COALESCE(bool_or(h.task_id IS NOT NULL), false) AS handled, "
        "COALESCE(bool_or(a.status = 'accepted'), false) AS accepted, "
        "(array_agg(v.name ORDER BY a.answered_at) FILTER (WHERE a.status IN ('accepted', 'completed')))[1] "
        "  AS volunteer_name "
        "FROM campaign_visit cv LEFT JOIN task t ON t.request_id = cv.request_id "
        "LEFT JOIN staff_handled h ON h.task_id = t.task_id LEFT JOIN assignment a ON a.task_id = t.task_id LEFT JOIN volunteer v ON v.volunteer_id = a.volunteer_id "
        "WHERE cv.campaign_id = ANY($1::uuid[]) GROUP BY cv.campaign_id, cv.household_id, cv.request_id "
        "ORDER BY cv.household_id", campaign_ids)
