"""The registry of key households (建档), requests naming a household, visit campaigns (走访慰问)
and staff's search, against the real RabbitMQ and PostgreSQL."""
import json
import random
import uuid
from datetime import datetime

import pytest

from services.__main__ import publish_erasure
from services.intake.app import SERVICE
from shared.submissions import PersonErasure
from tests.conftest import KEYS
from tests.identities import as_, as_staff
from tests.support import event_tap, eventually, publish, running

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:6]
C1, C2, C3 = f"h1-{TAG}", f"h2-{TAG}", f"hx-{TAG}"  # C1, C2 on street S; C3 on street X
S, X = f"HS-{TAG}", f"HX-{TAG}"
STAFF, STREET, OTHER = as_staff(C1), as_("street_staff", "st-h", area=S), as_staff(C3)
HOTLINE = {"X-Api-Key": KEYS["hotline-12345"]}
WINDOW = {"start": "2027-02-01T00:00:00+08:00", "end": "2027-02-10T00:00:00+08:00"}


def a_phone() -> str:
    return f"136{random.randrange(10**8):08d}"


def a_household(community: str = C1, **changes) -> dict:
    return {"beneficiary": {"name": "王秀英", "phone": a_phone()}, "community_code": community, "grid_code": "g-1",
            "address": "幸福路1号", "tags": ["living_alone"], "languages": ["minnan"],
            "consent": {"given": True, "method": "verbal"}, **changes}


@pytest.fixture(scope="module")
async def intake(settings, tmp_path_factory):
    areas = tmp_path_factory.mktemp("household-areas") / "areas.json"
    areas.write_text(json.dumps({"streets": {S: {"communities": [C1, C2]}, X: {"communities": [C3]}}}))
    async with running(SERVICE, settings.model_copy(update={"matching_areas_file": str(areas)})) as client:
        yield client


async def filed(intake, household: dict, headers=STAFF) -> str:
    response = await intake.post("/api/v1/households", json=household, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["done"] == "household.registered"
    return response.json()["household_id"]


async def test_a_registration_on_the_bus_is_announced_listed_and_updated_in_place(intake, settings):
    registration = {**a_household(), "source": "grid-platform", "external_id": f"hh-{TAG}",
                    "paired_volunteer": {"source": "volunteer-app", "external_id": "v-pair"}}
    phone = registration["beneficiary"]["phone"]
    async with event_tap(settings) as tap:
        await publish(settings, "household.register", registration)
        [first] = await tap.wait_for("household.registered")
        await publish(settings, "household.register", {**registration, "tags": ["living_alone", "elderly"]})
        await publish(settings, "household.register", {**registration, "consent": {"given": False}})
        registered = await tap.wait_for("household.registered", 2)
        [rejected] = await tap.wait_for("household.rejected")
    assert registered[1]["household_id"] == first["household_id"] and registered[1]["tags"] == ["living_alone",
                                                                                                "elderly"]
    assert first["paired_volunteer"] == {"source": "volunteer-app", "external_id": "v-pair"}
    assert "beneficiary" not in first and "address" not in first  # personal: only on linli.personal
    assert "consent" in rejected["reason"] and rejected["external_id"] == f"hh-{TAG}"
    [listed] = [row for row in (await intake.get("/api/v1/households", params={"community": C1},
                                                 headers=STAFF)).json() if row["external_id"] == f"hh-{TAG}"]
    assert listed["household_id"] == first["household_id"] and listed["name"] == "王秀英"
    assert listed["phone"] == f"{phone[:3]}****{phone[-4:]}" and "address" not in listed
    assert listed["paired_volunteer"]["external_id"] == "v-pair" and listed["tags"] == ["living_alone", "elderly"]
    tagged = (await intake.get("/api/v1/households", params={"community": C1, "tag": "elderly"}, headers=STAFF)).json()
    assert [row["household_id"] for row in tagged] == [first["household_id"]]
    assert (await intake.get("/api/v1/households", params={"community": C1}, headers=OTHER)).status_code == 403


async def test_staff_file_a_household_in_their_area_only(intake, settings):
    async with event_tap(settings) as tap:
        household_id = await filed(intake, a_household())
        [announced] = [e for e in await tap.wait_for("household.registered") if e["household_id"] == household_id]
    assert announced["source"] == "staff" and announced["registered_by"]["subject"] == f"staff-{C1}"
    page = (await intake.get(f"/api/v1/households/{household_id}", headers=STREET)).json()
    assert page["address"] == "幸福路1号" and page["community_code"] == C1 and page["external_id"]
    again = await intake.post("/api/v1/households", headers=STAFF,
                              json={**a_household(), "external_id": page["external_id"], "tags": ["disabled"]})
    assert again.json()["household_id"] == household_id  # the same 档案号: the same file
    refused = await intake.post("/api/v1/households", json=a_household(), headers=OTHER)
    assert refused.status_code == 403 and C1 in refused.json()["error"]
    invalid = await intake.post("/api/v1/households", json=a_household(consent={"given": False}), headers=STAFF)
    assert invalid.status_code == 422 and "consent" in invalid.json()["error"]
    sourced = await intake.post("/api/v1/households", json={**a_household(), "source": "x"}, headers=STAFF)
    assert sourced.status_code == 422 and "source" in sourced.json()["error"]
    assert (await intake.post("/api/v1/households", json=a_household())).status_code == 403  # ops read, not act
    assert (await intake.get(f"/api/v1/households/{household_id}", headers=OTHER)).status_code == 403
    missing = await intake.get(f"/api/v1/households/{uuid.uuid4()}", headers=STAFF, params={"lang": "en"})
    assert missing.status_code == 404 and "not found" in missing.json()["error"]


async def test_a_request_or_case_naming_a_household_is_for_it_and_an_unknown_one_is_rejected(intake, settings):
    registration = {**a_household(languages=["hakka"]), "source": "hotline-12345", "external_id": f"hh-hl-{TAG}"}
    request = {"source": "hotline-12345", "external_id": f"r-hh-{TAG}", "category": "elder_care.meals",
               "description": "助餐", "community_code": C1, "household_external_id": registration["external_id"]}
    async with event_tap(settings) as tap, event_tap(settings, "linli.personal") as whole:
        await publish(settings, "household.register", registration)
        [household] = await tap.wait_for("household.registered")
        assert (await intake.post("/api/v1/requests", json=request, headers=HOTLINE)).status_code == 202
        unknown = {**request, "external_id": f"r-unknown-{TAG}", "household_external_id": "nobody"}
        assert (await intake.post("/api/v1/requests", json=unknown, headers=HOTLINE)).status_code == 400
        await publish(settings, "case.submit", {
            "source": "hotline-12345", "external_id": f"case-hh-{TAG}", "community_code": C1, "dispute_type": "family",
            "summary": "家庭纠纷", "household_id": household["household_id"],
            "parties": [{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}]})
        [received] = await tap.wait_for("request.received")
        [rejected] = await tap.wait_for("request.rejected")
        [case] = await tap.wait_for("case.received")
        [received_whole] = await whole.wait_for("request.received")
    assert received["household_id"] == household["household_id"] and case["household_id"] == household["household_id"]
    beneficiary = received_whole["beneficiary"]
    assert (beneficiary["name"], beneficiary["phone"]) == ("王秀英", registration["beneficiary"]["phone"])
    assert beneficiary["language"] == "hakka" and beneficiary["tags"] == ["living_alone"]
    assert "unknown household hotline-12345/nobody" in rejected["reason"]
    status = (await intake.get("/api/v1/requests", params={"source": "hotline-12345",
                                                          "external_id": request["external_id"]})).json()
    assert status["household_id"] == household["household_id"] and status["campaign_id"] is None
    by_id = {**request, "external_id": f"r-byid-{TAG}", "household_external_id": None,
             "household_id": str(uuid.uuid4())}
    refused = await intake.post("/api/v1/requests", json=by_id, headers=HOTLINE)
    assert refused.status_code == 400 and "unknown household" in refused.json()["error"]


async def test_a_campaign_makes_one_visit_per_matching_household_of_its_area(intake, settings):
    alone = await filed(intake, a_household(C1, tags=["living_alone"]))
    disabled = await filed(intake, a_household(C2, tags=["severely_disabled", "elderly"]), headers=as_staff(C2))
    untagged = await filed(intake, a_household(C2, tags=["elderly"]), headers=as_staff(C2))  # none of the tags
    elsewhere = await filed(intake, a_household(C3, tags=["living_alone"]), headers=OTHER)  # another street
    body = {"title": "春节前走访", "street": S, "tags": ["living_alone", "severely_disabled"], "window": WINDOW}
    async with event_tap(settings) as tap:
        started = await intake.post("/api/v1/campaigns", json=body, headers=STREET)
        assert started.status_code == 200, started.text
        [campaign] = await tap.wait_for("campaign.started")
        visits = [e for e in await tap.wait_for("request.received", len(campaign["visits"]))
                  if e["campaign_id"] == campaign["campaign_id"]]
    answer = started.json()
    assert answer["done"] == "campaign.started" and answer["campaign_id"] == campaign["campaign_id"]
    assert campaign["street_code"] == S and sorted(campaign["community_codes"]) == [C1, C2]
    assert campaign["started_by"]["area"] == S
    targeted = {v["household_id"] for v in campaign["visits"]}
    # with those filed by the tests before: C1's living alone
    assert answer["targeted"] == len(targeted) and targeted >= {alone, disabled}
    assert not targeted & {untagged, elsewhere}
    assert {v["household_id"] for v in visits} == targeted and len(visits) == len(targeted)
    assert {v["request_id"] for v in visits} == {v["request_id"] for v in campaign["visits"]}
    visit = next(v for v in visits if v["household_id"] == alone)
    assert visit["category"] == "elder_care.home_visit" and visit["source"] == "campaign"
    assert visit["external_id"] == f"{campaign['campaign_id']}:{alone}" and visit["community_code"] == C1
    assert {key: datetime.fromisoformat(at) for key, at in visit["window"].items()} == {
        key: datetime.fromisoformat(at) for key, at in WINDOW.items()}
    status = (await intake.get(f"/api/v1/requests/{visit['request_id']}")).json()
    assert status["campaign_id"] == campaign["campaign_id"] and status["household_id"] == alone


async def test_a_campaign_is_refused_outside_the_area_or_without_households(intake):
    body = {"title": "走访", "street": S, "tags": ["living_alone"], "window": WINDOW}
    assert (await intake.post("/api/v1/campaigns", json=body, headers=STAFF)).status_code == 403  # a street's
    assert (await intake.post("/api/v1/campaigns", json={**body, "street": X}, headers=STREET)).status_code == 403
    outside = await intake.post("/api/v1/campaigns", json={**body, "street": None, "community": C3}, headers=STREET)
    assert outside.status_code == 403
    none = await intake.post("/api/v1/campaigns", headers=STAFF,
                             json={**body, "street": None, "community": C1, "tags": ["left_behind_child"]})
    assert none.status_code == 422 and "没有" in none.json()["error"]
    english = await intake.post("/api/v1/campaigns", headers=STAFF, params={"lang": "en"},
                                json={**body, "street": None, "community": C1, "tags": ["left_behind_child"]})
    assert "no household" in english.json()["error"]
    bad = await intake.post("/api/v1/campaigns", json={**body, "community": C1}, headers=STAFF)
    assert bad.status_code == 422 and "exactly one" in bad.json()["error"]
    assert (await intake.post("/api/v1/campaigns", content=b"[", headers=STAFF)).status_code == 422


async def test_search_finds_by_id_phone_external_id_and_community_in_the_callers_area_only(intake, settings):
    phone = a_phone()
    household = a_household(C2, beneficiary={"name": "李大爷", "phone": phone})
    household_id = await filed(intake, household, headers=as_staff(C2))
    request = {"source": "hotline-12345", "external_id": f"r-search-{TAG}", "category": "elder_care.meals",
               "description": "助餐", "community_code": C2, "beneficiary": {"name": "李大爷", "phone": phone}}
    request_id = (await intake.post("/api/v1/requests", json=request, headers=HOTLINE)).json()["request_id"]
    async with event_tap(settings) as tap:
        await publish(settings, "case.submit", {
            "source": "hotline-12345", "external_id": f"case-s-{TAG}", "community_code": C2, "dispute_type": "noise",
            "summary": "噪音", "parties": [{"name": "李大爷", "phone": f"+86 {phone}", "role": "applicant"},
                                          {"name": "邻居", "role": "respondent"}]})
        [case] = await tap.wait_for("case.received")
    masked = f"{phone[:3]}****{phone[-4:]}"

    async def found(q, headers=STREET):
        response = await intake.get("/api/v1/search", params={"q": q}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    dashed = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    by_phone = await found(dashed)
    assert [r["request_id"] for r in by_phone["requests"]] == [request_id]
    assert by_phone["requests"][0]["phone"] == masked
    assert [c["case_id"] for c in by_phone["cases"]] == [case["case_id"]]
    assert [h["household_id"] for h in by_phone["households"]] == [household_id]
    assert by_phone["households"][0]["phone"] == masked and phone not in json.dumps(by_phone)
    assert [r["request_id"] for r in (await found(request_id))["requests"]] == [request_id]
    assert [h["household_id"] for h in (await found(household_id))["households"]] == [household_id]
    assert [c["case_id"] for c in (await found(case["case_id"]))["cases"]] == [case["case_id"]]
    assert [r["request_id"] for r in (await found(f"r-search-{TAG}"))["requests"]] == [request_id]
    in_community = await found(C2)
    assert request_id in {r["request_id"] for r in in_community["requests"]}
    assert household_id in {h["household_id"] for h in in_community["households"]}
    assert await found(dashed, OTHER) == {"requests": [], "cases": [], "households": []}  # another street's staff
    assert await found(C2, STAFF) == {"requests": [], "cases": [], "households": []}  # C1's staff
    ops = await found(dashed, None)
    assert ops["households"][0]["name"] == "李**"  # ops read no one's name


async def test_erasing_a_residents_phone_erases_their_household_file(intake, settings):
    phone = a_phone()
    household_id = await filed(intake, a_household(beneficiary={"name": "赵奶奶", "phone": phone}))
    async with event_tap(settings) as tap:
        await publish_erasure(settings.rabbitmq_url, PersonErasure(requested_by="ops:test", phone=phone))
        [erased] = [e for e in await tap.wait_for("person.erased") if household_id in e["household_ids"]]

        async def done():
            return [d for d in tap.of("erasure.done") if d["erasure_id"] == erased["erasure_id"]]
        [intake_done] = await eventually(done)
    assert intake_done["changed"]["household"] == 1
    page = (await intake.get(f"/api/v1/households/{household_id}", headers=STAFF)).json()
    assert (page["name"], page["phone"], page["address"]) == (None, None, None) and page["erased"]
    assert (page["community_code"], page["tags"]) == (C1, ["living_alone"])
    assert (await intake.get("/api/v1/search", params={"q": phone}, headers=STAFF)).json()["households"] == []
    async with intake.app.state.runtime.pool.acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM household WHERE household_id = $1 AND "
                                     "(beneficiary::text LIKE $2 OR beneficiary::text LIKE '%赵奶奶%')",
                                     uuid.UUID(household_id), f"%{phone}%")
    assert stored == 0
    campaign = (await intake.post("/api/v1/campaigns", headers=STAFF, json={
        "title": "走访", "community": C1, "tags": ["living_alone"], "window": WINDOW})).json()
    async with intake.app.state.runtime.pool.acquire() as conn:  # the others are visited, not the erased one
        visited = {row[0] for row in await conn.fetch("SELECT household_id FROM service_request WHERE campaign_id = $1",
                                                      uuid.UUID(campaign["campaign_id"]))}
    assert len(visited) == campaign["targeted"] and uuid.UUID(household_id) not in visited
