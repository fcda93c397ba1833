"""The registry of key households (建档) and visit campaigns (走访慰问): filing a household
(from a source's `household.register` or from staff), finding the household a request or case
names, and starting a campaign, whose visits are received like any request. Each writes its
tables and its events (through the outbox) in the caller's unit of work."""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from services.intake import household_store, store
from services.intake.households import Campaign, Household, targets, visit_of
from shared.events import CampaignStarted, CampaignVisit, HouseholdRegistered, RequestReceived, StaffRef
from shared.submissions import HouseholdRegistration, Window
from shared.unit_of_work import UnitOfWork


async def file_household(uow: UnitOfWork, registration: HouseholdRegistration, stamp: dict,
                         registered_by: StaffRef | None = None) -> UUID:
    """File the household (or update its file: it keeps its id) and announce it."""
    household_id = await household_store.upsert_household(uow.connection, registration, registered_by,
                                                           stamp["correlation_id"], stamp["occurred_at"])
    await uow.emit(HouseholdRegistered(**registration.model_dump(), **stamp, household_id=household_id,
                                       registered_by=registered_by))
    return household_id


@dataclass(frozen=True)
class Named:
    """The household a submission names: found, or why not (`reason`); neither when it names none."""

    household: Household | None = None
    reason: str | None = None


async def named_household(uow: UnitOfWork, source: str, household_id: UUID | None,
                          household_external_id: str | None) -> Named:
    """The household a request or case names: by linli's id, or by the id the same source
    registered it under; both, when given, must name the same one."""
    conn = uow.connection
    by_id = await household_store.household_by_id(conn, household_id) if household_id else None
    by_key = (await household_store.household_by_key(conn, source, household_external_id)
              if household_external_id else None)
    if household_id and by_id is None:
        return Named(reason=f"unknown household {household_id}")
    if household_external_id and by_key is None:
        return Named(reason=f"unknown household {source}/{household_external_id}: "
                            f"{source} registered no household under that id (household.register)")
    if by_id and by_key and by_id["household_id"] != by_key["household_id"]:
        return Named(reason=f"household_id {household_id} and household_external_id {household_external_id!r} "
                            "name two different households")
    found = by_id or by_key
    return Named(household_store.household_of(found)) if found else Named()


@dataclass(frozen=True)
class Started:
    campaign_id: UUID
    targeted: int


async def start_campaign(uow: UnitOfWork, title: str, communities: list[str], street: str | None,
                         tags: tuple[str, ...], window: Window, staff: StaffRef, correlation_id: str,
                         at: datetime) -> Started | None:
    """Store the campaign and one visit request per household it targets (households.targets),
    each announced as `request.received` with the campaign's id, then `campaign.started`; None,
    and nothing stored, when no household matches."""
    campaign = Campaign(uuid4(), title, tuple(communities), tags, window)
    conn = uow.connection
    chosen = targets(campaign, await household_store.households_of(conn, communities, list(tags)))
    if not chosen:
        return None
    await household_store.insert_campaign(conn, campaign, street, staff, correlation_id, at)
    stamp = {"correlation_id": correlation_id, "occurred_at": at}
    visits = []
    for household in chosen:
        visit = visit_of(campaign, household)
        request_id = await store.insert_request(conn, visit, correlation_id, at, household.household_id,
                                                campaign.campaign_id)
        await uow.emit(RequestReceived(**visit.model_dump(), **stamp, request_id=request_id,
                                       campaign_id=campaign.campaign_id))
        visits.append(CampaignVisit(household_id=household.household_id, request_id=request_id))
    await uow.emit(CampaignStarted(**stamp, campaign_id=campaign.campaign_id, title=title,
                                   community_codes=campaign.community_codes, street_code=street, tags=tags,
                                   window_start=window.start, window_end=window.end, visits=tuple(visits),
                                   started_by=staff))
    return Started(campaign.campaign_id, len(visits))
