"""The rules of the registry of key households (建档) and of visit campaigns (走访慰问), free of
I/O: which households a campaign visits, the visit request built for each, what a request
naming a household takes from its file, how staff's search reads its query, phones as shown."""
import re
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from services.intake.domain import phone_key
from shared.submissions import Beneficiary, Code, HouseholdTags, ServiceRequestSubmission, Window

VISIT_CATEGORY = "elder_care.home_visit"
CAMPAIGN_SOURCE = "campaign"  # the source of a campaign's visits
STAFF_SOURCE = "staff"  # the source of the households staff register
VISIT_DESCRIPTION = "{title}:上门走访慰问"
# A phone as staff type it into search: digits with the usual separators, at least 7 digits.
PHONE_QUERY = re.compile(r"^\+?[0-9][0-9 ()\-]{5,30}$")
MIN_PHONE_DIGITS = 7


@dataclass(frozen=True)
class Household:
    """A household's file, as the rules need it."""

    household_id: UUID
    community_code: str
    grid_code: str | None
    address: str | None
    tags: tuple[str, ...]
    languages: tuple[str, ...]
    beneficiary: Beneficiary | None
    consented: bool
    erased: bool = False  # its resident's personal data was erased: nobody to visit


class CampaignStart(BaseModel):
    """What staff send to start a campaign: one area (a community or a street), tags, a window."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    community: Code | None = None
    street: Code | None = None
    tags: HouseholdTags  # households with ANY of them
    window: Window

    @model_validator(mode="after")
    def _one_area(self):
        if (self.community is None) == (self.street is None):
            raise ValueError("name exactly one of community or street")
        return self


@dataclass(frozen=True)
class Campaign:
    campaign_id: UUID
    title: str
    community_codes: tuple[str, ...]
    tags: tuple[str, ...]
    window: Window


def targets(campaign: Campaign, households: list[Household]) -> list[Household]:
    """The households a campaign visits: of its communities, with any of its tags, filed with
    consent and not erased since."""
    wanted = set(campaign.tags)
    return [h for h in households if h.community_code in campaign.community_codes and wanted & set(h.tags)
            and h.consented and not h.erased]


def visit_of(campaign: Campaign, household: Household) -> ServiceRequestSubmission:
    """The visit to one household: a home visit in the campaign's window, reaching its resident."""
    return ServiceRequestSubmission(
        source=CAMPAIGN_SOURCE, external_id=f"{campaign.campaign_id}:{household.household_id}",
        category=VISIT_CATEGORY, description=VISIT_DESCRIPTION.format(title=campaign.title),
        community_code=household.community_code, grid_code=household.grid_code, address=household.address,
        window=campaign.window, beneficiary=beneficiary_of(household), household_id=household.household_id)


def beneficiary_of(household: Household) -> Beneficiary:
    """Whom a request for the household reaches: its resident, with the household's tags and
    first language (else the one the resident's own record gives)."""
    resident = household.beneficiary or Beneficiary()
    language = household.languages[0] if household.languages else resident.language
    return Beneficiary(name=resident.name, phone=resident.phone, tags=household.tags, language=language)


def for_household(request: ServiceRequestSubmission, household: Household) -> ServiceRequestSubmission:
    """A request naming a household: without a beneficiary of its own it takes the household's,
    so that its resident is reached as usual; the address too, when the request gives none."""
    changes = {}
    if request.beneficiary is None:
        changes["beneficiary"] = beneficiary_of(household)
    if request.address is None and household.address:
        changes["address"] = household.address
    return request.model_copy(update=changes) if changes else request


def masked_phone(phone: str | None) -> str | None:
    """A phone as staff lists show it: the first 3 and last 4 digits, 138****5678."""
    digits = phone_key(phone)
    if not digits:
        return None
    return digits[:3] + "****" + digits[-4:] if len(digits) >= MIN_PHONE_DIGITS else "****"


@dataclass(frozen=True)
class Query:
    """How search reads `q`: every query is tried as a submission's external_id; a uuid also as
    an id, a phone-like one as a phone (digits), a code-like one as a community code."""

    text: str
    id: UUID | None
    phone: str | None
    community: str | None


CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def read_query(q: str) -> Query:
    text = q.strip()
    try:
        as_id = UUID(text)
    except ValueError:
        as_id = None
    digits = phone_key(text) if PHONE_QUERY.match(text) else None
    phone = digits if digits and len(digits) >= MIN_PHONE_DIGITS else None
    community = text if as_id is None and CODE.match(text) and len(text) <= 64 else None
    return Query(text, as_id, phone, community)
