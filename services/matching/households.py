"""matching's handlers of key households (建档) and visit campaigns (走访慰问): kept so that a
household's visits go to its paired volunteer first and staff see its history and each
campaign's progress. Both come on linli.events, without the resident's personal data."""
from services.matching.context import Matching
from services.matching.store import households
from shared.events import CampaignStarted, HouseholdRegistered
from shared.unit_of_work import UnitOfWork


async def on_household_registered(matching: Matching, uow: UnitOfWork, event: HouseholdRegistered) -> None:
    await households.save_household(uow.connection, event)


async def on_campaign_started(matching: Matching, uow: UnitOfWork, event: CampaignStarted) -> None:
    await households.save_campaign(uow.connection, event)
