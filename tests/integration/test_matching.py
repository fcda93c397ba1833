"""matching against the real RabbitMQ and PostgreSQL: the roster from events, then the whole
offer cycle (accept, decline, exhaustion, emergency fan-out, cancellation), widening to the
street, recurring pairings and a mediation case climbing grid -> community -> street. The
timers are test_matching_timers.py's."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.matching.app import SERVICE
from shared.events import RequestCancelled
from tests.builders.matching import about, answer, case, community, done, received, registered
from tests.clock import SetClock
from tests.identities import as_staff
from tests.support import announce, enrol, event_tap, handled, publish_burst, roster_of, running, until_handled

pytestmark = pytest.mark.integration

RECEIVED, REGISTERED = "matching.request-received", "matching.volunteer-registered"
AREAS = "tests/areas.json"


# The module's clock stands still: no offer expires, no window ends (tests/integration/test_matching_timers.py
# moves it).
CLOCK = SetClock()


@pytest.fixture(scope="module")
async def matching(settings):
    configured = settings.model_copy(update={"matching_areas_file": AREAS, "matching_clock_seconds": 0.2,
                                             "matching_max_open_assignments": 10,
                                             "matching_wait_for_free_seconds": 0})
    async with running(SERVICE, configured, clock=CLOCK) as client:
        yield client


async def test_a_burst_of_requests_is_shared_out_among_able_volunteers(matching, settings):
    place = community()
    cooks = [registered(place, "cooking"), registered(place, "cooking", "cleaning")]
    await enrol(matching, settings, *cooks, registered(place, "legal"))
    requests = [received(place, "elder_care.meals") for _ in range(10)]
    async with event_tap(settings) as public, event_tap(settings, "linli.personal") as tap:  # requests come whole
        await publish_burst(settings, [(r.routing_key, r.model_dump(mode="json"), str(r.event_id))
                                       for r in requests], exchange="linli.personal")
        offered = await tap.wait_for("assignment.offered", 10)
    load = {str(v.volunteer_id): 0 for v in cooks}
    for event in offered:
        load[event["volunteer"]["volunteer_id"]] += 1
    assert sorted(load.values()) == [5, 5]  # shared out, the lawyer never asked to cook
    assert public.of("request.escalated") == [] and public.of("request.assigned") == []  # nobody accepted yet
    assert "address" not in public.of("assignment.offered")[0]  # observers see the offer, not where
    offer = offered[0]
    assert offer["description"] == "需要帮助" and offer["address"] == "幸福路 1 号" and offer["expires_at"]
    assert {o["correlation_id"] for o in offered} == {r.correlation_id for r in requests}
    details = (await matching.get(f"/api/v1/assignments/{offer['assignment_id']}")).json()
    assert details["reason"]["matched_skills"] == ["cooking"]
    assert set(details["reason"]["parts"]) == {"pairing", "skill_fit", "proximity", "fairness", "load", "language"}
    assert details["status"] == "offered" and details["community_code"] == place


async def test_a_request_nobody_can_take_is_escalated_with_the_reason(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "cooking"), registered(place, "cleaning"))
    legal, housekeeping = received(place, "legal.consultation"), received(place, "housekeeping")
    async with event_tap(settings) as tap:
        await announce(settings, legal)
        await announce(settings, housekeeping)  # needs cleaning AND cooking: nobody has both
        escalated = await tap.wait_for("request.escalated", 2)
    reasons = {e["request_id"]: e["reason"] for e in escalated}
    assert reasons[str(legal.request_id)] == (f"no active volunteer in community {place} has every skill "
                                              "that legal.consultation needs")
    assert reasons[str(housekeeping.request_id)] == (f"nobody in community {place} can take housekeeping: "
                                                     "1 lacks a needed skill")
    [event] = about(escalated, legal)
    assert event["source"] == "hotline-12345" and event["external_id"] == legal.external_id
    assert (event["reason_code"], event["reason_params"]) == (
        "nobody_able", {"task": "legal.consultation", "level": None, "places": [place], "failures": {}})
    [occurrence] = (await matching.get(f"/api/v1/requests/{legal.request_id}")).json()["occurrences"]
    assert (occurrence["reason"], occurrence["reason_code"], occurrence["reason_params"]) == (
        event["reason"], event["reason_code"], event["reason_params"])  # kept as data, for staff to read it in theirs


async def test_caps_and_availability_keep_a_volunteer_from_being_offered(matching, settings):
    place = community()
    tired = registered(place, "patrol", max_weekly_hours=1)
    sunday_only = registered(place, "patrol", availability=[{"weekday": 6, "start": "08:00", "end": "20:00"}])
    await enrol(matching, settings, tired, sunday_only)
    monday = datetime(2026, 11, 30, 2, tzinfo=UTC)  # 10:00 in Shanghai, a Monday
    request = received(place, "safety.patrol", window={"start": monday, "end": monday + timedelta(hours=2)})
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [escalated] = await tap.wait_for("request.escalated")
    assert escalated["reason"] == (f"nobody in community {place} can take safety.patrol: "
                                   "1 at the weekly hour cap, 1 not available in the window")


async def test_a_request_heard_twice_is_offered_once(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "patrol"))
    request = received(place, "safety.patrol")
    before = await handled(matching, "matching", handler=RECEIVED)
    async with event_tap(settings) as tap:
        await announce(settings, request)
        await announce(settings, request)  # redelivered: same message id
        await announce(settings, request, message_id=str(uuid.uuid4()))  # re-published by a relay
        await until_handled(matching, "matching", before, 3, handler=RECEIVED)
        [offered] = await tap.wait_for("assignment.offered")
    assert offered["request_id"] == str(request.request_id)
    [volunteer] = await roster_of(matching, place, 1)
    assert volunteer["open_assignments"] == 1


async def test_a_later_profile_update_wins_and_an_older_one_is_ignored(matching, settings):
    place = community()
    first = registered(place, "cooking", name="旧名")
    update = first.model_copy(update={"event_id": uuid.uuid4(), "name": "新名", "skills": ("cooking", "legal"),
                                      "occurred_at": first.occurred_at.replace(year=first.occurred_at.year + 1)})
    before = await handled(matching, "matching", handler=REGISTERED)
    await announce(settings, update)
    await announce(settings, first)  # arrives late
    await until_handled(matching, "matching", before, 2, handler=REGISTERED)
    [row] = await roster_of(matching, place, 1)
    assert "name" not in row and row["skills"] == ["cooking", "legal"]  # ops see the record, not the person
    [seen] = (await matching.get("/api/v1/volunteers", params={"community": place}, headers=as_staff(place))).json()
    assert seen["name"] == "新名"  # the community's staff know their volunteers


async def test_accepted_then_completed_frees_the_volunteer_and_counts_the_hours(matching, settings):
    place = community()
    cook = registered(place, "cooking")
    await enrol(matching, settings, cook)
    request = received(place, "elder_care.meals")
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [offer] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(offer, accept=True))
        [assigned] = await tap.wait_for("request.assigned")
        await announce(settings, done(offer, hours=1.5, people=2))
        [completed] = await tap.wait_for("request.completed")
    assert [v["external_id"] for v in assigned["volunteers"]] == [cook.external_id]
    assert tap.of("assignment.accepted")[0]["assignment_id"] == offer["assignment_id"]
    assert completed["hours"] == 1.5 and completed["people_served"] == 2 and completed["next_occurrence"] is None
    profile = (await matching.get(f"/api/v1/volunteers/{cook.volunteer_id}")).json()
    assert profile["open_assignments"] == 0
    assert float(profile["weeks"][0]["hours"]) == 1.5
    assert profile["assignments"][0]["status"] == "completed"


async def test_a_decline_goes_to_the_next_volunteer_and_exhaustion_escalates(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "digital"), registered(place, "digital"))
    request = received(place, "digital.assistance")
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [first] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(first, accept=False, reason="生病了"))
        offers = await tap.wait_for("assignment.offered", 2)
        second = offers[1]
        assert second["volunteer"]["volunteer_id"] != first["volunteer"]["volunteer_id"]
        await announce(settings, answer(second, accept=False))
        [escalated] = await tap.wait_for("request.escalated")
    assert tap.of("assignment.declined")[0]["reason"] == "生病了"
    assert escalated["reason"] == (f"nobody in community {place} can take digital.assistance: "
                                   "2 already offered this task (declined, expired or pending)")
    assert escalated["accepted"] == 0 and escalated["needed"] == 1


async def test_a_request_for_several_volunteers_gets_that_many_distinct_ones(matching, settings):
    place = community()
    await enrol(matching, settings, *(registered(place, "cleanup") for _ in range(3)))
    request = received(place, "environment.cleanup", volunteers_needed=2)
    async with event_tap(settings) as tap:
        await announce(settings, request)
        offers = await tap.wait_for("assignment.offered", 2)
        for offer in offers:
            await announce(settings, answer(offer, accept=True))
        [assigned] = await tap.wait_for("request.assigned")
    assert len({o["volunteer"]["volunteer_id"] for o in offers}) == 2 == len(assigned["volunteers"])
    assert len(tap.of("assignment.offered")) == 2


async def test_an_emergency_is_offered_to_several_and_the_first_to_accept_wins(matching, settings):
    place = community()
    await enrol(matching, settings, *(registered(place, "medical") for _ in range(4)))
    request = received(place, "health.checkup", urgency="emergency")
    async with event_tap(settings) as tap:
        await announce(settings, request)
        offers = await tap.wait_for("assignment.offered", 3)
        winner, late = offers[0], offers[1]
        await announce(settings, answer(winner, accept=True))
        [assigned] = await tap.wait_for("request.assigned")
        withdrawn = await tap.wait_for("assignment.withdrawn", 2)
        await announce(settings, answer(late, accept=True))
        [refused] = await tap.wait_for("response.rejected")
    assert len(offers) == 3  # the fan-out, not all four
    assert assigned["volunteers"][0]["assignment_id"] == winner["assignment_id"]
    assert {w["assignment_id"] for w in withdrawn} == {o["assignment_id"] for o in offers[1:]}
    assert refused["reason"] == "the offer was already withdrawn"


async def test_an_answer_from_someone_else_or_about_nothing_is_refused(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "policy"))
    async with event_tap(settings) as tap:
        await announce(settings, received(place, "policy.explanation"))
        [offer] = await tap.wait_for("assignment.offered")
        impostor = {**offer, "volunteer": {**offer["volunteer"], "external_id": "someone-else"}}
        await announce(settings, answer(impostor, accept=True))
        await announce(settings, answer({**offer, "assignment_id": str(uuid.uuid4())}, accept=True))
        nothing = str(uuid.uuid4())
        await announce(settings, done({**offer, "assignment_id": nothing}))
        refused = await tap.wait_for("response.rejected", 2)
        [not_done] = await tap.wait_for("completion.rejected")
    reasons = sorted(r["reason"] for r in refused)
    assert reasons[0].startswith(f"assignment {offer['assignment_id']} was not offered to volunteer-app/someone-else")
    assert reasons[1].startswith("no assignment ")
    assert not_done["reason"] == f"no assignment {nothing}"


async def test_nobody_in_the_community_widens_the_search_to_its_street(matching, settings):
    neighbour = registered("east-2", "counseling")
    await enrol(matching, settings, neighbour, registered("west-1", "counseling"))
    request = received("east-1", "psych.counseling")
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [offer] = await tap.wait_for("assignment.offered")
    assert offer["volunteer"]["volunteer_id"] == str(neighbour.volunteer_id)  # same street, not the west one
    details = (await matching.get(f"/api/v1/assignments/{offer['assignment_id']}")).json()
    assert details["reason"]["searched"] == ["east-1", "east-2", "east-3"]
    assert details["reason"]["volunteer_community"] == "east-2"


async def test_a_cancelled_request_withdraws_its_offers(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "childcare"))
    request = received(place, "child.care")
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [offer] = await tap.wait_for("assignment.offered")
        await announce(settings, RequestCancelled(correlation_id="cancel", request_id=request.request_id,
                                                  source=request.source, external_id=request.external_id,
                                                  category=request.category, community_code=place))
        [withdrawn] = await tap.wait_for("assignment.withdrawn")
    assert withdrawn["assignment_id"] == offer["assignment_id"] and withdrawn["reason"] == "the request was cancelled"
    [volunteer] = await roster_of(matching, place, 1)
    assert volunteer["open_assignments"] == 0


async def test_a_recurring_pairing_goes_back_to_the_same_volunteer(matching, settings):
    place = community()
    await enrol(matching, settings, *(registered(place, "companionship") for _ in range(3)))
    start = CLOCK.now() + timedelta(days=1)
    request = received(place, "elder_care.home_visit", recurrence={"every": "week", "times": 2},
                       window={"start": start, "end": start + timedelta(hours=2)})
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [first] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(first, accept=True))
        await announce(settings, done(first, hours=2))
        [completed] = await tap.wait_for("request.completed")
        offers = await tap.wait_for("assignment.offered", 2)
    second = offers[1]
    assert completed["next_occurrence"] == 2 and second["occurrence"] == 2
    assert second["volunteer"] == first["volunteer"]  # although they now have the most recent hours
    assert second["window_start"].startswith((start + timedelta(weeks=1)).date().isoformat())
    details = (await matching.get(f"/api/v1/assignments/{second['assignment_id']}")).json()
    assert details["reason"]["parts"]["pairing"] == 1.0


async def test_a_dispute_climbs_from_grid_to_community_to_street_and_closes_with_a_return_visit(matching, settings):
    grid_mediator = registered("west-2", "mediation", grid_code="g-7")
    community_mediator = registered("west-2", "mediation", "legal", grid_code="g-1")
    street_mediator = registered("west-1", "mediation")
    await enrol(matching, settings, grid_mediator, community_mediator, street_mediator)
    dispute = case("west-2", "g-7")
    async with event_tap(settings) as tap, event_tap(settings, "linli.personal") as whole:
        await announce(settings, dispute)
        [at_grid] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(at_grid, accept=False))
        [to_community] = await tap.wait_for("case.escalated")
        offers = await tap.wait_for("assignment.offered", 2)
        await announce(settings, answer(offers[1], accept=True))
        [assigned] = await tap.wait_for("case.assigned")
        await announce(settings, done(offers[1], hours=2, people=2, outcome="no_agreement"))
        escalations = await tap.wait_for("case.escalated", 2)
        offers = await tap.wait_for("assignment.offered", 3)
        await announce(settings, answer(offers[2], accept=True))
        await announce(settings, done(offers[2], hours=3, people=2, outcome="agreement"))
        [closed] = await tap.wait_for("case.closed")
        [offered_whole, *_] = await whole.wait_for("assignment.offered")
        [assigned_whole, *_] = await whole.wait_for("case.assigned")
    assert at_grid["volunteer"]["volunteer_id"] == str(grid_mediator.volunteer_id) and at_grid["level"] == "grid"
    assert at_grid["case_id"] == str(dispute.case_id) and "楼上" not in offered_whole["description"]
    assert "summary" not in assigned and assigned_whole["summary"] == "楼上装修噪音扰民"  # for the mediator only
    assert (to_community["from_level"], to_community["level"]) == ("grid", "community")
    assert offers[1]["volunteer"]["volunteer_id"] == str(community_mediator.volunteer_id)
    assert (escalations[1]["from_level"], escalations[1]["level"]) == ("community", "street")
    assert escalations[1]["reason"] == "no agreement at community level"
    assert (escalations[1]["reason_code"], escalations[1]["reason_params"]) == ("no_agreement", {"level": "community"})
    assert offers[2]["volunteer"]["volunteer_id"] == str(street_mediator.volunteer_id)
    assert closed["outcome"] == "agreement" and closed["level"] == "street"
    assert datetime.fromisoformat(closed["follow_up_at"]) == CLOCK.now() + timedelta(days=7)
    view = (await matching.get(f"/api/v1/cases/{dispute.case_id}")).json()
    assert [level["level"] for level in view["levels"]] == ["grid", "community", "street"]
    assert view["status"] == "closed" and view["outcome"] == "agreement"


async def test_a_serious_dispute_starts_in_the_community_and_past_the_street_goes_to_its_staff(matching, settings):
    await enrol(matching, settings, registered("east-3", "mediation", grid_code="g-1"))
    dispute = case("east-3", "g-1", severity="serious").model_copy(update={"level": "grid"})
    async with event_tap(settings) as tap:
        await announce(settings, dispute)
        [offer] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(offer, accept=False))
        escalations = await tap.wait_for("case.escalated", 2)
    assert offer["level"] == "community"
    assert [(e["from_level"], e["level"]) for e in escalations] == [("community", "street"), ("street", "street_staff")]
    assert escalations[1]["reason"] == ("nobody in street level (east-3, east-1, east-2) can take the case: "
                                        "1 already offered this task (declined, expired or pending)")
