"""The staff console's reads in matching over the real servers and HTTP API: each work queue
(escalated with a Chinese reason, missed, expiring, cases with their steps, due return visits),
what each caller's area shows, a household's history, a campaign's progress, and a household's
paired volunteer (结对) asked first."""
import asyncio
import json
import uuid
from datetime import datetime, timedelta

import pytest

from services.matching.app import SERVICE
from shared.events import CampaignStarted, CampaignVisit, HouseholdRegistered, StaffRef
from shared.reasons import rendered, text
from tests.builders.matching import answer, case, community, done, received, registered
from tests.clock import SetClock
from tests.identities import as_, as_staff
from tests.support import announce, enrol, event_tap, eventually, running

pytestmark = pytest.mark.integration

# A street of the tests' own: EAST and WEST are its communities; ELSEWHERE is in no street.
STREET, EAST, WEST, ELSEWHERE = f"S-{uuid.uuid4().hex[:6]}", community(), community(), community()
CLOCK = SetClock()


def street_staff() -> dict:
    return as_("street_staff", "street-staff", area=STREET)


@pytest.fixture(scope="module")
async def matching(settings, tmp_path_factory):
    areas = tmp_path_factory.mktemp("areas") / "areas.json"
    areas.write_text(json.dumps({"streets": {STREET: {"name": "测试街道", "communities": [EAST, WEST]}}}))
    configured = settings.model_copy(update={
        "matching_areas_file": str(areas), "matching_clock_seconds": 0.2, "matching_max_open_assignments": 10,
        "matching_follow_up_days": 0, "notify_quiet_hours": "", "matching_widen_to_street": False})
    async with running(SERVICE, configured, clock=CLOCK) as client:
        yield client


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


async def work(matching, place: str, headers: dict | None = None, **params) -> dict:
    response = await matching.get("/api/v1/work", params={"community": place, **params},
                                  headers=headers or as_staff(place))
    assert response.status_code == 200, response.text
    return response.json()


def household(place: str, paired=None, **fields) -> HouseholdRegistered:
    return HouseholdRegistered(
        correlation_id="household", household_id=uuid.uuid4(), source="staff", external_id=f"h-{uuid.uuid4().hex[:6]}",
        beneficiary={"name": "张大爷", "phone": "13800001111"}, community_code=place, tags=("living_alone",),
        consent={"given": True}, occurred_at=CLOCK.now(),
        paired_volunteer={"source": paired.source, "external_id": paired.external_id} if paired else None, **fields)


async def filed(matching, settings, *households: HouseholdRegistered) -> None:
    for one in households:
        await announce(settings, one)
    for one in households:
        async def known(one=one):
            return (await matching.get(f"/api/v1/households/{one.household_id}/history")).status_code == 200
        await eventually(known)


async def test_an_escalated_request_is_in_the_queue_with_its_reason_in_the_staff_s_language(matching, settings):
    home = household(EAST)
    await filed(matching, settings, home)
    request = received(EAST, "legal.consultation", household_id=home.household_id)
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [escalated] = await tap.wait_for("request.escalated")
    assert escalated["household_id"] == str(home.household_id) and escalated["campaign_id"] is None
    queue = await work(matching, EAST)
    [row] = [r for r in queue["escalated"] if r["request_id"] == str(request.request_id)]
    assert row["reason_code"] == "nobody_able" and row["category_name"] == "法律咨询/法律援助"
    assert row["reason"] == text("nobody_able", row["reason_params"], "zh") and "没有具备法律咨询" in row["reason"]
    assert (row["occurrence"], row["needed"], row["accepted"], row["urgency"]) == (1, 1, 0, "normal")
    assert row["household_id"] == str(home.household_id) and at(row["escalated_at"]) == at(escalated["occurred_at"])
    assert queue["counts"]["escalated"] == len(queue["escalated"]) >= 1
    english = await work(matching, EAST, lang="en")
    [row] = [r for r in english["escalated"] if r["request_id"] == str(request.request_id)]
    assert row["reason"] == text("nobody_able", row["reason_params"], "en") and "legal.consultation" in row["reason"]
    assert (await matching.get("/api/v1/work", params={"lang": "fr"}, headers=as_staff(EAST))).status_code == 422


async def test_each_caller_sees_the_queues_of_their_own_area(matching, settings):
    east, west, elsewhere = (received(place, "legal.consultation") for place in (EAST, WEST, ELSEWHERE))
    async with event_tap(settings) as tap:
        for request in (east, west, elsewhere):
            await announce(settings, request)
        await tap.wait_for("request.escalated", 3)

    def requests(queue):
        return {row["request_id"] for row in queue["escalated"]}
    ids = {str(r.request_id): r.community_code for r in (east, west, elsewhere)}
    assert {ids[r] for r in requests(await work(matching, EAST)) if r in ids} == {EAST}
    seen = requests((await matching.get("/api/v1/work", headers=street_staff())).json())
    assert {ids[r] for r in seen if r in ids} == {EAST, WEST}
    assert {ids[r] for r in requests(await work(matching, WEST, street_staff())) if r in ids} == {WEST}
    refused = await matching.get("/api/v1/work", params={"community": WEST}, headers=as_staff(EAST))
    assert refused.status_code == 403 and WEST in refused.json()["error"]
    assert (await matching.get("/api/v1/work", headers=as_("volunteer", "v-1", source="volunteer-app"))).status_code \
        == 403
    everything = (await matching.get("/api/v1/work")).json()  # ops: the whole city
    assert {ids[r] for r in requests(everything) if r in ids} == {EAST, WEST, ELSEWHERE}


async def test_an_offer_close_to_expiry_and_a_missed_occurrence_are_in_their_queues(fresh_settings):
    settings = fresh_settings.model_copy(update={"matching_offer_timeout_seconds": 3600, "matching_clock_seconds": 0.2,
                                                 "matching_expiring_minutes": 30, "notify_quiet_hours": ""})
    clock, place = SetClock(), community()
    tutor, cook = registered(place, "tutoring", name="李老师"), registered(place, "cooking")
    window = {"start": clock.now(), "end": clock.now() + timedelta(hours=2)}
    tutoring = received(place, "child.tutoring", window=window)
    async with running(SERVICE, settings, clock=clock) as matching, event_tap(settings) as tap:
        await enrol(matching, settings, tutor, cook)
        await announce(settings, tutoring)
        await announce(settings, received(place, "elder_care.meals"))
        offers = await tap.wait_for("assignment.offered", 2)
        [meals] = [o for o in offers if o["volunteer"]["volunteer_id"] == str(cook.volunteer_id)]
        [lesson] = [o for o in offers if o["volunteer"]["volunteer_id"] == str(tutor.volunteer_id)]
        assert (await work(matching, place))["expiring"] == []  # an hour to answer
        clock.advance(timedelta(minutes=31))
        queue = await work(matching, place)
        assert {row["assignment_id"] for row in queue["expiring"]} == {meals["assignment_id"], lesson["assignment_id"]}
        [row] = [r for r in queue["expiring"] if r["assignment_id"] == lesson["assignment_id"]]
        assert (row["volunteer_name"], row["category"], row["request_id"]) == (
            "李老师", "child.tutoring", str(tutoring.request_id))
        assert at(row["expires_at"]) == at(lesson["expires_at"]) and queue["counts"]["expiring"] == 2
        ops_row = (await matching.get("/api/v1/work", params={"community": place})).json()["expiring"][0]
        assert "volunteer_name" not in ops_row  # ops see the record, not the person
        await announce(settings, answer(lesson, accept=True))
        await tap.wait_for("assignment.accepted")
        queue = await work(matching, place)
        assert [row["assignment_id"] for row in queue["expiring"]] == [meals["assignment_id"]]  # answered
        clock.set(window["end"] + timedelta(seconds=1))
        [missed] = await tap.wait_for("request.missed")
        queue = await work(matching, place)
    [row] = queue["missed"]
    assert (row["request_id"], row["occurrence"], row["category_name"]) == (str(tutoring.request_id), 1, "课业指导")
    assert at(row["missed_at"]) == at(missed["occurred_at"]) and queue["counts"]["missed"] == 1


async def test_an_open_case_shows_each_level_it_was_at_and_why_it_moved(matching, settings):
    dispute = case(EAST, "g-1")  # nobody mediates: it climbs grid -> community -> street -> street staff
    async with event_tap(settings) as tap:
        await announce(settings, dispute)
        moves = await tap.wait_for("case.escalated", 3)
    queue = await work(matching, EAST)
    [row] = [c for c in queue["cases"] if c["case_id"] == str(dispute.case_id)]
    assert (row["level"], row["status"], row["dispute_type"], row["grid_code"]) == ("street_staff", "open", "noise", "g-1")
    assert [step["level"] for step in row["steps"]] == ["grid", "community", "street", "street_staff"]
    assert at(row["steps"][0]["at"]) == dispute.occurred_at and row["steps"][0]["reason"] is None
    # in Chinese where the move carries a reason code, else its English reason
    assert [(step["reason"], step["reason_code"]) for step in row["steps"][1:]] == [
        (rendered(move, "zh"), move.get("reason_code")) for move in moves]
    assert [at(step["at"]) for step in row["steps"][1:]] == [at(move["occurred_at"]) for move in moves]
    assert all(step["staff"] is None for step in row["steps"])


async def test_a_closed_case_s_return_visit_is_due_until_it_is_recorded(matching, settings):
    mediator = registered(WEST, "mediation")
    await enrol(matching, settings, mediator)
    home = household(WEST)
    await filed(matching, settings, home)
    dispute = case(WEST, None).model_copy(update={"household_id": home.household_id})
    async with event_tap(settings) as tap:
        await announce(settings, dispute)
        [offer] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(offer, accept=True))
        await announce(settings, done(offer, hours=2, people=2, outcome="agreement"))
        [closed] = await tap.wait_for("case.closed")
    queue = await work(matching, WEST)
    [row] = [v for v in queue["return_visits"] if v["case_id"] == str(dispute.case_id)]
    assert (row["outcome"], at(row["closed_at"]), at(row["follow_up_at"])) == (
        "agreement", at(closed["occurred_at"]), at(closed["follow_up_at"]))
    assert all(c["case_id"] != str(dispute.case_id) for c in queue["cases"])  # closed
    history = (await matching.get(f"/api/v1/households/{home.household_id}/history", headers=as_staff(WEST))).json()
    assert history["cases"] == [{"case_id": str(dispute.case_id), "dispute_type": "noise", "level": "community",
                                 "status": "closed", "outcome": "agreement", "return_visit": None}]
    visited = await matching.post(f"/api/v1/cases/{dispute.case_id}/return-visit", headers=as_staff(WEST),
                                  json={"satisfaction": "satisfied"})
    assert visited.status_code == 200, visited.text
    queue = await work(matching, WEST)
    assert all(v["case_id"] != str(dispute.case_id) for v in queue["return_visits"])
    history = (await matching.get(f"/api/v1/households/{home.household_id}/history", headers=as_staff(WEST))).json()
    assert history["cases"][0]["return_visit"]["satisfaction"] == "satisfied"


async def test_a_household_s_visit_goes_to_its_paired_volunteer_first_then_to_the_others(matching, settings):
    place = community()
    paired = registered(place, "companionship", name="王阿姨")
    others = [registered(place, "companionship") for _ in range(2)]
    await enrol(matching, settings, paired, *others)
    home = household(place, paired=paired)
    await filed(matching, settings, home)
    # an emergency is offered to three at once (matching_emergency_fan_out): this one to the paired volunteer alone
    visit = received(place, "elder_care.home_visit", household_id=home.household_id, urgency="emergency")
    async with event_tap(settings) as tap:
        await announce(settings, visit)
        [first] = await tap.wait_for("assignment.offered")
        await asyncio.sleep(1.0)  # time for a fan-out to show, were there one
        assert tap.of("assignment.offered") == [first]
        assert first["volunteer"]["volunteer_id"] == str(paired.volunteer_id)
        await announce(settings, answer(first, accept=False))
        then = (await tap.wait_for("assignment.offered", 3))[1:]
    assert {o["volunteer"]["volunteer_id"] for o in then} == {str(v.volunteer_id) for v in others}


async def test_a_household_s_history_has_its_services_and_visits(matching, settings):
    place = community()
    helper = registered(place, "companionship", "cooking", name="赵叔")
    await enrol(matching, settings, helper)
    home = household(place, paired=helper)
    await filed(matching, settings, home)
    meals = received(place, "elder_care.meals", household_id=home.household_id)
    async with event_tap(settings) as tap:
        await announce(settings, meals)
        [offer] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(offer, accept=True))
        await announce(settings, done(offer, hours=1.5, people=1))
        [completed] = await tap.wait_for("request.completed")
    assert completed["household_id"] == str(home.household_id)
    response = await matching.get(f"/api/v1/households/{home.household_id}/history", headers=as_staff(place))
    history = response.json()
    assert (history["household_id"], history["community_code"], history["cases"]) == (
        str(home.household_id), place, [])
    [service] = history["services"]
    assert (service["request_id"], service["category"], service["category_name"], service["status"]) == (
        str(meals.request_id), "elder_care.meals", "助餐", "completed")
    assert (float(service["hours"]), service["people_served"], service["handled_by_staff"], service["campaign_id"]) == (
        1.5, 1, False, None)
    assert at(service["completed_at"]) == at(completed["occurred_at"])
    refused = await matching.get(f"/api/v1/households/{home.household_id}/history", headers=as_staff(EAST))
    assert refused.status_code == 403
    assert (await matching.get(f"/api/v1/households/{uuid.uuid4()}/history")).status_code == 404


async def test_a_campaign_shows_its_progress_visit_by_visit(matching, settings):
    place = community()
    volunteers = [registered(place, "companionship", name=f"志愿者{n}") for n in range(2)]
    await enrol(matching, settings, *volunteers)
    homes = [household(place, paired=volunteers[0]), household(place, paired=volunteers[1]), household(place)]
    await filed(matching, settings, *homes)
    campaign_id, start = uuid.uuid4(), CLOCK.now() + timedelta(days=1)
    visits = [received(place, "elder_care.home_visit", household_id=h.household_id, campaign_id=campaign_id)
              for h in homes]
    started = CampaignStarted(
        correlation_id="campaign", campaign_id=campaign_id, title="春节前走访", community_codes=(place,),
        tags=("living_alone",), window_start=start, window_end=start + timedelta(days=9), occurred_at=CLOCK.now(),
        visits=tuple(CampaignVisit(household_id=h.household_id, request_id=v.request_id) for h, v in zip(homes, visits)),
        started_by=StaffRef(subject=f"staff-{place}", role="community_staff", area=place))
    await announce(settings, started)
    path = f"/api/v1/campaigns/{campaign_id}"

    async def known():
        return (await matching.get(path)).status_code == 200
    await eventually(known)
    assert {k: v for k, v in (await matching.get(path)).json().items() if k in ("targeted", "not_yet")} == {
        "targeted": 3, "not_yet": 3}  # no visit received yet
    async with event_tap(settings) as tap:
        for visit in visits[:2]:
            await announce(settings, visit)
        offers = await tap.wait_for("assignment.offered", 2)
        by_volunteer = {o["volunteer"]["volunteer_id"]: o for o in offers}
        assert set(by_volunteer) == {str(v.volunteer_id) for v in volunteers}  # each to its paired volunteer
        first, second = (by_volunteer[str(v.volunteer_id)] for v in volunteers)
        await announce(settings, answer(first, accept=True))
        await announce(settings, done(first))
        await announce(settings, answer(second, accept=True))
        await tap.wait_for("request.completed")
        await tap.wait_for("request.assigned", 2)
    detail = (await matching.get(path, headers=as_staff(place))).json()
    assert (detail["title"], detail["community_codes"], detail["tags"]) == ("春节前走访", [place], ["living_alone"])
    assert {k: detail[k] for k in ("targeted", "visited", "assigned", "not_yet")} == {
        "targeted": 3, "visited": 1, "assigned": 1, "not_yet": 1}
    states = {v["household_id"]: (v["state"], v["volunteer_name"], v["request_id"]) for v in detail["visits"]}
    assert states == {str(homes[0].household_id): ("visited", "志愿者0", str(visits[0].request_id)),
                      str(homes[1].household_id): ("assigned", "志愿者1", str(visits[1].request_id)),
                      str(homes[2].household_id): ("not_yet", None, str(visits[2].request_id))}
    [listed] = (await matching.get("/api/v1/campaigns", params={"community": place}, headers=as_staff(place))).json()
    assert {k: listed[k] for k in ("campaign_id", "targeted", "visited", "assigned", "not_yet")} == {
        "campaign_id": str(campaign_id), "targeted": 3, "visited": 1, "assigned": 1, "not_yet": 1}
    assert at(listed["started_at"]) == started.occurred_at
    history = (await matching.get(f"/api/v1/households/{homes[0].household_id}/history")).json()
    assert history["services"][0]["campaign_id"] == str(campaign_id)  # a visit of the household
    assert (await matching.get(path, headers=as_staff(EAST))).status_code == 403
    assert all(c["campaign_id"] != str(campaign_id)
               for c in (await matching.get("/api/v1/campaigns", headers=as_staff(EAST))).json())
    assert (await matching.get(f"/api/v1/campaigns/{uuid.uuid4()}")).status_code == 404


async def test_a_visit_staff_handled_themselves_is_visited_and_in_the_household_s_history(matching, settings):
    place = community()  # nobody to visit: the visit is escalated, and staff go themselves
    home = household(place)
    await filed(matching, settings, home)
    campaign_id, start = uuid.uuid4(), CLOCK.now()
    visit = received(place, "elder_care.home_visit", household_id=home.household_id, campaign_id=campaign_id)
    await announce(settings, CampaignStarted(
        correlation_id="campaign", campaign_id=campaign_id, title="节日慰问", community_codes=(place,),
        tags=("living_alone",), window_start=start, window_end=start + timedelta(days=3), occurred_at=CLOCK.now(),
        visits=(CampaignVisit(household_id=home.household_id, request_id=visit.request_id),),
        started_by=StaffRef(subject=f"staff-{place}", role="community_staff", area=place)))
    async with event_tap(settings) as tap:
        await announce(settings, visit)
        [escalated] = await tap.wait_for("request.escalated")
        assert escalated["campaign_id"] == str(campaign_id)
        response = await matching.post(f"/api/v1/requests/{visit.request_id}/handled", headers=as_staff(place),
                                       json={"hours": 1.5, "people_served": 1, "note": "社工上门慰问"})
        assert response.status_code == 200, response.text
        [handled] = await tap.wait_for("request.handled_by_staff")
    detail = (await matching.get(f"/api/v1/campaigns/{campaign_id}", headers=as_staff(place))).json()
    assert {k: detail[k] for k in ("targeted", "visited", "assigned", "not_yet")} == {
        "targeted": 1, "visited": 1, "assigned": 0, "not_yet": 0}
    assert detail["visits"] == [{"household_id": str(home.household_id), "request_id": str(visit.request_id),
                                 "state": "visited", "volunteer_name": None}]
    [service] = (await matching.get(f"/api/v1/households/{home.household_id}/history",
                                    headers=as_staff(place))).json()["services"]
    assert (service["handled_by_staff"], float(service["hours"]), service["people_served"], service["campaign_id"]) == (
        True, 1.5, 1, str(campaign_id))
    assert at(service["completed_at"]) == at(handled["occurred_at"])
    assert all(row["request_id"] != str(visit.request_id) for row in (await work(matching, place))["escalated"])
