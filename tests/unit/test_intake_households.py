"""The rules of key households and visit campaigns, with no servers: which households a
campaign visits, the visit built for each, what a request naming a household takes from its
file, phones as shown and searched, a campaign's body."""
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.intake.households import (Campaign, CampaignStart, Household, beneficiary_of, for_household,
                                        masked_phone, read_query, targets, visit_of)
from services.intake.sources import Source, Sources
from shared.submissions import Beneficiary, HouseholdRegistration, ServiceRequestSubmission, Window

WINDOW = Window(start=datetime(2027, 2, 1, tzinfo=UTC), end=datetime(2027, 2, 10, tzinfo=UTC))
CAMPAIGN = Campaign(uuid.UUID(int=1), "春节前走访", ("east-1", "east-2"), ("living_alone", "severely_disabled"), WINDOW)


def a_household(n: int, **changes) -> Household:
    fields = {"household_id": uuid.UUID(int=100 + n), "community_code": "east-1", "grid_code": "g-1",
              "address": "东街1号", "tags": ("living_alone",), "languages": (),
              "beneficiary": Beneficiary(name="王秀英", phone="138 0000 5678"), "consented": True, **changes}
    return Household(**fields)


@pytest.mark.parametrize("household, targeted", [
    (a_household(1), True),
    (a_household(2, community_code="east-2", tags=("elderly", "severely_disabled")), True),  # any of the tags
    (a_household(3, tags=("elderly",)), False),  # none of them
    (a_household(4, community_code="west-1"), False),  # outside the area
    (a_household(5, consented=False), False),
    (a_household(6, erased=True), False),  # nobody left to visit
])
def test_a_campaign_targets_its_areas_households_with_any_of_its_tags_and_consent(household, targeted):
    assert targets(CAMPAIGN, [household]) == ([household] if targeted else [])


def test_targets_keep_the_order_they_are_given():
    households = [a_household(n) for n in range(5)]
    assert targets(CAMPAIGN, households) == households


def test_a_visit_is_a_home_visit_in_the_window_reaching_the_households_resident():
    household = a_household(1, languages=("minnan", "mandarin"), tags=("living_alone", "elderly"))
    visit = visit_of(CAMPAIGN, household)
    assert isinstance(visit, ServiceRequestSubmission)
    assert (visit.source, visit.external_id) == ("campaign", f"{CAMPAIGN.campaign_id}:{household.household_id}")
    assert (visit.category, visit.description) == ("elder_care.home_visit", "春节前走访:上门走访慰问")
    assert (visit.community_code, visit.grid_code, visit.address) == ("east-1", "g-1", "东街1号")
    assert visit.window == WINDOW and visit.household_id == household.household_id
    assert visit.beneficiary == Beneficiary(name="王秀英", phone="138 0000 5678", tags=("living_alone", "elderly"),
                                            language="minnan")


@pytest.mark.parametrize("languages, own, language", [
    (("minnan", "mandarin"), None, "minnan"),  # the first of the household's languages
    ((), "hakka", "hakka"),  # else the resident's own
    ((), None, None),
])
def test_a_households_resident_speaks_its_first_language(languages, own, language):
    household = a_household(1, languages=languages, beneficiary=Beneficiary(name="李", language=own))
    assert beneficiary_of(household).language == language


def a_request(**changes) -> ServiceRequestSubmission:
    return ServiceRequestSubmission(**{"source": "hotline-12345", "external_id": "r-1", "category": "elder_care.meals",
                                       "description": "助餐", "community_code": "east-1", **changes})


def test_a_request_without_a_beneficiary_takes_the_households():
    household = a_household(1, languages=("minnan",))
    taken = for_household(a_request(), household)
    assert taken.beneficiary == beneficiary_of(household) and taken.address == "东街1号"


def test_a_request_with_its_own_beneficiary_and_address_keeps_them():
    request = a_request(beneficiary={"name": "张三", "phone": "13900000000"}, address="西街2号")
    assert for_household(request, a_household(1)) == request


@pytest.mark.parametrize("phone, shown", [
    ("13812345678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("+86 138 1234 5678", "138****5678"),
    ("0591-87654321", "059****4321"),
    ("12345", "****"),  # too short to show any of it
    (None, None),
    ("", None),
])
def test_phones_are_shown_with_their_first_three_and_last_four_digits(phone, shown):
    assert masked_phone(phone) == shown


@pytest.mark.parametrize("q, as_id, phone, community", [
    (str(uuid.UUID(int=7)), uuid.UUID(int=7), None, None),
    ("138 1234 5678", None, "13812345678", None),
    ("+86-138-1234-5678", None, "13812345678", None),
    ("13812345678", None, "13812345678", "13812345678"),  # digits: also a code (an external id, a community)
    ("east-1", None, None, "east-1"),
    ("HL-2027-0001", None, None, "HL-2027-0001"),
    ("王秀英", None, None, None),  # only an external id could be this
    ("12345", None, None, "12345"),  # too short for a phone
])
def test_search_reads_its_query_as_an_id_a_phone_or_a_community(q, as_id, phone, community):
    query = read_query(q)
    assert (query.text, query.id, query.phone, query.community) == (q.strip(), as_id, phone, community)


START = {"title": "春节前走访", "community": "east-1", "tags": ["living_alone"],
         "window": {"start": "2027-02-01T00:00:00+08:00", "end": "2027-02-10T00:00:00+08:00"}}


@pytest.mark.parametrize("changes, reason", [
    ({"street": "S-east"}, "exactly one of community or street"),
    ({"community": None}, "exactly one of community or street"),
    ({"tags": []}, "at least 1 item"),
    ({"tags": ["rich"]}, "unknown household tags ['rich']"),
    ({"title": ""}, "at least 1 character"),
    ({"window": {"start": "2027-02-10T00:00:00+08:00", "end": "2027-02-01T00:00:00+08:00"}}, "window.end"),
    ({"budget": 100}, "Extra inputs"),
])
def test_a_bad_campaign_is_refused_with_its_reason(changes, reason):
    with pytest.raises(ValidationError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        CampaignStart.model_validate({**START, **changes})


def test_a_street_campaign_names_its_tags_once():
    start = CampaignStart.model_validate({**START, "community": None, "street": "S-east",
                                          "tags": ["living_alone", "living_alone", "empty_nest"]})
    assert start.tags == ("living_alone", "empty_nest")


REGISTRATION = {"source": "grid-platform", "external_id": "hh-1",
                "beneficiary": {"name": "王秀英", "phone": "13800005678"}, "community_code": "east-1", "tags": ["living_alone"], "consent": {"given": True}}


@pytest.mark.parametrize("changes, reason", [
    ({"consent": {"given": False}}, "only with the resident's consent"),
    ({"tags": []}, "at least 1 item"),
    ({"tags": ["vip"]}, "unknown household tags"),
    ({"consent": None}, "consent"),
])
def test_a_household_is_filed_only_valid_and_with_consent(changes, reason):
    with pytest.raises(ValidationError, match=reason):
        HouseholdRegistration.model_validate({**REGISTRATION, **changes})


@pytest.mark.parametrize("source", ["staff", "campaign"])
def test_no_system_publishes_as_linlis_own_sources(source):
    assert not Sources({}, accept_unknown=True).accepts(source)
    with pytest.raises(ValidationError, match="linli's own"):
        Source.model_validate({"source": source, "name": "x", "api_key_sha256": ["0" * 64]})
