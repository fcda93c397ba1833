"""intake's SQL for the registry of key households, campaigns and staff's search. Every
function takes the connection of the current unit of work (or of a read)."""
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from services.intake.domain import phone_key
from services.intake.households import Campaign, Household, Query
from shared.events import StaffRef
from shared.submissions import Beneficiary, HouseholdRegistration

HOUSEHOLD_COLUMNS = ("household_id, source, external_id, community_code, grid_code, tags, languages, beneficiary, "
                     "address, consent, paired_volunteer, registered_at, updated_at, erased_at")
# What search and lists return at most per kind.
SEARCH_LIMIT = 50


async def upsert_household(conn: asyncpg.Connection, registration: HouseholdRegistration,
                           registered_by: StaffRef | None, correlation_id: str, at: datetime) -> UUID:
    """File a household; one already known by (source, external_id) is updated and keeps its id
    (and is no longer erased: its resident has been filed again)."""
    data = registration.model_dump(mode="json")
    return await conn.fetchval(
        "INSERT INTO household (household_id, source, external_id, community_code, grid_code, tags, languages, "
        "beneficiary, phone_digits, address, consent, paired_volunteer, registered_by, correlation_id, "
        "registered_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) "
        "ON CONFLICT (source, external_id) DO UPDATE SET community_code = EXCLUDED.community_code, "
        "grid_code = EXCLUDED.grid_code, tags = EXCLUDED.tags, languages = EXCLUDED.languages, "
        "beneficiary = EXCLUDED.beneficiary, phone_digits = EXCLUDED.phone_digits, address = EXCLUDED.address, "
        "consent = EXCLUDED.consent, paired_volunteer = EXCLUDED.paired_volunteer, "
        "registered_by = EXCLUDED.registered_by, updated_at = EXCLUDED.updated_at, erased_at = NULL "
        "RETURNING household_id",
        uuid4(), registration.source, registration.external_id, registration.community_code, registration.grid_code,
        list(registration.tags), list(registration.languages), data["beneficiary"],
        phone_key(registration.beneficiary.phone), registration.address, data["consent"], data["paired_volunteer"],
        registered_by.model_dump() if registered_by else None, correlation_id, at)


async def household_by_id(conn: asyncpg.Connection, household_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {HOUSEHOLD_COLUMNS} FROM household WHERE household_id = $1", household_id)


async def household_by_key(conn: asyncpg.Connection, source: str, external_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {HOUSEHOLD_COLUMNS} FROM household WHERE source = $1 AND external_id = $2",
                               source, external_id)


async def households(conn: asyncpg.Connection, communities: list[str] | None, tag: str | None,
                     limit: int) -> list[asyncpg.Record]:
    """Newest first; `communities` None: every one."""
    return await conn.fetch(
        f"SELECT {HOUSEHOLD_COLUMNS} FROM household WHERE ($1::text[] IS NULL OR community_code = ANY($1)) "
        "AND ($2::text IS NULL OR $2 = ANY(tags)) ORDER BY registered_at DESC, household_id LIMIT $3",
        communities, tag, limit)


async def households_of(conn: asyncpg.Connection, communities: list[str], tags: list[str]) -> list[Household]:
    """The households of these communities with any of these tags (a campaign's candidates)."""
    rows = await conn.fetch(f"SELECT {HOUSEHOLD_COLUMNS} FROM household WHERE community_code = ANY($1) "
                            "AND tags && $2::text[] ORDER BY community_code, registered_at, household_id",
                            communities, tags)
    return [household_of(row) for row in rows]


def household_of(row: asyncpg.Record) -> Household:
    return Household(household_id=row["household_id"], community_code=row["community_code"],
                     grid_code=row["grid_code"], address=row["address"], tags=tuple(row["tags"]),
                     languages=tuple(row["languages"]),
                     beneficiary=Beneficiary.model_validate(row["beneficiary"]) if row["beneficiary"] else None,
                     consented=bool((row["consent"] or {}).get("given")), erased=row["erased_at"] is not None)


async def insert_campaign(conn: asyncpg.Connection, campaign: Campaign, street: str | None, started_by: StaffRef,
                          correlation_id: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO campaign (campaign_id, title, community_codes, street_code, tags, window_start, window_end, "
        "started_by, correlation_id, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        campaign.campaign_id, campaign.title, list(campaign.community_codes), street, list(campaign.tags),
        campaign.window.start, campaign.window.end, started_by.model_dump(), correlation_id, at)


# --- search: only the communities the caller sees ($2 NULL: every one) --------------------------

async def search_requests(conn: asyncpg.Connection, q: Query,
                          communities: list[str] | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT request_id, source, external_id, category, community_code, received_at, beneficiary_phone AS phone "
        "FROM service_request WHERE ($2::text[] IS NULL OR community_code = ANY($2)) AND (external_id = $1 "
        "OR request_id = $3 OR beneficiary_phone = $4 OR community_code = $5) "
        "ORDER BY received_at DESC, request_id LIMIT $6", q.text, communities, q.id, q.phone, q.community,
        SEARCH_LIMIT)


async def search_cases(conn: asyncpg.Connection, q: Query,
                       communities: list[str] | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT case_id, community_code, dispute_type, received_at FROM mediation_case "
        "WHERE ($2::text[] IS NULL OR community_code = ANY($2)) AND (external_id = $1 OR case_id = $3 "
        "OR party_phones @> ARRAY[$4::text] OR community_code = $5) ORDER BY received_at DESC, case_id LIMIT $6",
        q.text, communities, q.id, q.phone, q.community, SEARCH_LIMIT)


async def search_households(conn: asyncpg.Connection, q: Query,
                            communities: list[str] | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {HOUSEHOLD_COLUMNS} FROM household WHERE ($2::text[] IS NULL OR community_code = ANY($2)) "
        "AND (external_id = $1 OR household_id = $3 OR phone_digits = $4 OR community_code = $5) "
        "ORDER BY registered_at DESC, household_id LIMIT $6", q.text, communities, q.id, q.phone, q.community,
        SEARCH_LIMIT)
