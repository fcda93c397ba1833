"""The staff's actions through matching's real HTTP API, against the real RabbitMQ and
PostgreSQL: each action's event appears on linli.events (and the volunteer's offer, for an
assignment), a state that does not allow it is refused with a reason staff read (Chinese, or
English with ?lang=en), and staff act only in their own area; ops may not act."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.matching.app import SERVICE
from tests.builders.matching import answer, case, community, received, registered
from tests.clock import SetClock
from tests.identities import as_, as_staff, as_volunteer
from tests.support import announce, enrol, event_tap, eventually, running

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CLOCK = SetClock()  # stands still: no offer expires, no window ends
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOBODY_CAN = "legal.consultation"  # the tests' volunteers cook: a legal consultation is escalated


@pytest.fixture(scope="module")
async def matching(settings):
    configured = settings.model_copy(update={"matching_areas_file": "tests/areas.json", "matching_clock_seconds": 0.2})
    async with running(SERVICE, configured, clock=CLOCK) as client:
        yield client


async def escalated(settings, tap, place: str, **fields):
    """A request nobody in `place` can take, once matching has escalated it."""
    request = received(place, NOBODY_CAN, **fields)
    await announce(settings, request)
    await eventually(lambda: [e for e in tap.of("request.escalated") if e["request_id"] == str(request.request_id)])
    return request


def heard(tap, key: str, **match) -> list[dict]:
    return [e for e in tap.of(key) if all(e.get(k) == v for k, v in match.items())]


async def until_heard(tap, key: str, **match) -> list[dict]:
    return await eventually(lambda: heard(tap, key, **match))


async def test_staff_assign_a_named_volunteer_who_gets_the_offer(matching, settings):
    place = community()
    staff = as_staff(place)
    cook = registered(place, "cooking")
    await enrol(matching, settings, cook)
    async with event_tap(settings) as tap:
        request = await escalated(settings, tap, place)
        rid = str(request.request_id)
        picker = (await matching.get(f"/api/v1/requests/{rid}/candidates", headers=staff)).json()
        assert [(c["volunteer_id"], c["fit"], c["why"]) for c in picker] == [
            (str(cook.volunteer_id), False, {"reason": "缺少所需技能", "code": "lacks_skill"})]
        response = await matching.post(f"/api/v1/requests/{rid}/assign", headers=staff,
                                       json={"volunteer_id": str(cook.volunteer_id)})
        assert response.status_code == 200, response.text
        done = response.json()
        assert done["done"] == "request.staff_assigned" and done["occurrence"] == 1
        [staffed] = await until_heard(tap, "request.staff_assigned", request_id=rid)
        [offered] = await until_heard(tap, "assignment.offered", request_id=rid)
    assert staffed["agreed"] is False and staffed["staff"] == {"subject": f"staff-{place}", "role": "community_staff",
                                                               "area": place}
    assert offered["assignment_id"] == done["assignment_id"] and offered["assigned_by"]["subject"] == f"staff-{place}"
    mine = await matching.get(f"/api/v1/assignments/{done['assignment_id']}", headers=as_volunteer(cook.external_id))
    assert mine.json()["status"] == "offered"  # the volunteer's offer
    again = await matching.post(f"/api/v1/requests/{rid}/assign", headers=staff,
                                json={"volunteer_id": str(cook.volunteer_id)})
    assert again.status_code == 409 and again.json()["error"] == "该志愿者已在第1次服务中"
    english = await matching.post(f"/api/v1/requests/{rid}/assign?lang=en", headers=staff,
                                  json={"volunteer_id": str(cook.volunteer_id)})
    assert english.json()["error"] == "the volunteer already holds a place on occurrence 1"


async def test_an_assignment_agreed_by_phone_is_accepted_but_never_over_an_overlapping_booking(matching, settings):
    place = community()
    staff, cook = as_staff(place), registered(place, "cooking")
    await enrol(matching, settings, cook)
    start = CLOCK.now().replace(microsecond=0) + timedelta(days=2)
    async with event_tap(settings) as tap:
        first = await escalated(settings, tap, place, window={"start": start, "end": start + timedelta(hours=2)})
        second = await escalated(settings, tap, place, window={"start": start + timedelta(hours=1),
                                                               "end": start + timedelta(hours=3)})
        agreed = {"volunteer_id": str(cook.volunteer_id), "agreed": True}
        response = await matching.post(f"/api/v1/requests/{first.request_id}/assign", headers=staff, json=agreed)
        assert response.status_code == 200, response.text
        [accepted] = await until_heard(tap, "assignment.accepted", request_id=str(first.request_id))
        [assigned] = await until_heard(tap, "request.assigned", request_id=str(first.request_id))
        clash = await matching.post(f"/api/v1/requests/{second.request_id}/assign?lang=en", headers=staff, json=agreed)
    assert accepted["assigned_by"]["subject"] == f"staff-{place}"
    assert [v["volunteer_id"] for v in assigned["volunteers"]] == [str(cook.volunteer_id)]
    assert clash.status_code == 409
    local = [(start + timedelta(hours=h)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") for h in (0, 2, 1, 3)]
    assert clash.json()["error"] == (f"the volunteer is booked from {local[0]} to {local[1]}, which overlaps this "
                                     f"window ({local[2]} to {local[3]})")
    assert heard(tap, "request.staff_assigned", request_id=str(second.request_id)) == []


async def test_reopen_asks_again_once_a_volunteer_who_can_has_registered(matching, settings):
    place = community()
    async with event_tap(settings) as tap:
        request = await escalated(settings, tap, place)
        lawyer = registered(place, "legal")
        await enrol(matching, settings, lawyer)
        response = await matching.post(f"/api/v1/requests/{request.request_id}/reopen", headers=as_staff(place))
        assert response.status_code == 200, response.text
        assert response.json() == {"done": "request.reopened", "request_id": str(request.request_id),
                                   "occurrence": 1}
        [reopened] = await until_heard(tap, "request.reopened", request_id=str(request.request_id))
        [offered] = await until_heard(tap, "assignment.offered", request_id=str(request.request_id))
    assert reopened["staff"]["subject"] == f"staff-{place}" and offered["volunteer"]["volunteer_id"] == str(
        lawyer.volunteer_id)
    twice = await matching.post(f"/api/v1/requests/{request.request_id}/reopen", headers=as_staff(place))
    assert twice.status_code == 409 and "重新派单" in twice.json()["error"]


async def test_a_volunteer_who_declined_is_asked_again_once_the_occurrence_is_reopened(matching, settings):
    place = community()
    lawyer = registered(place, "legal")
    await enrol(matching, settings, lawyer)
    request = received(place, NOBODY_CAN)
    rid = str(request.request_id)
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [first] = await until_heard(tap, "assignment.offered", request_id=rid)
        await announce(settings, answer(first, accept=False))
        await until_heard(tap, "request.escalated", request_id=rid)
        response = await matching.post(f"/api/v1/requests/{rid}/reopen", json={"occurrence": 1},
                                       headers=as_staff(place))
        assert response.status_code == 200, response.text
        offers = await eventually(lambda: (lambda found: found if len(found) == 2 else None)(
            heard(tap, "assignment.offered", request_id=rid)))
    again = offers[1]
    assert again["volunteer"]["volunteer_id"] == str(lawyer.volunteer_id) and again["assignment_id"] != first[
        "assignment_id"]


async def test_handled_by_staff_closes_the_occurrence_with_hours_and_people_served(matching, settings):
    place = community()
    async with event_tap(settings) as tap:
        request = await escalated(settings, tap, place)
        url = f"/api/v1/requests/{request.request_id}/handled"
        bad = await matching.post(url, headers=as_staff(place), json={"hours": 0, "people_served": 1})
        assert bad.status_code == 422 and "hours" in bad.json()["error"]
        response = await matching.post(url, headers=as_staff(place),
                                       json={"hours": 1.5, "people_served": 2, "note": "社工上门"})
        assert response.status_code == 200, response.text
        [handled] = await until_heard(tap, "request.handled_by_staff", request_id=str(request.request_id))
    assert (handled["hours"], handled["people_served"], handled["next_occurrence"]) == (1.5, 2, None)
    assert "note" not in handled  # the note is personal: not on linli.events
    again = await matching.post(url, headers=as_staff(place), json={"hours": 1, "people_served": 1})
    assert again.status_code == 409 and again.json()["error"] == "该需求已结束,不能再操作"


async def test_cancel_as_not_needed_withdraws_the_offers_and_publishes_the_cancellation(matching, settings):
    place = community()
    cook = registered(place, "cooking")
    await enrol(matching, settings, cook)
    async with event_tap(settings) as tap:
        request = received(place, "elder_care.meals")
        await announce(settings, request)
        rid = str(request.request_id)
        await until_heard(tap, "assignment.offered", request_id=rid)
        url = f"/api/v1/requests/{rid}/cancel"
        assert (await matching.post(url, headers=as_staff(place), json={"reason": " "})).status_code == 422
        huge = await matching.post(url, headers=as_staff(place), json={"reason": "很" * 20_000})
        assert huge.status_code == 422 and "larger than the limit" in huge.json()["error"]
        response = await matching.post(url, headers=as_staff(place), json={"reason": "家属已接走老人"})
        assert response.json() == {"done": "request.cancelled", "request_id": rid}
        [withdrawn] = await until_heard(tap, "assignment.withdrawn", request_id=rid)
        [cancelled] = await until_heard(tap, "request.cancelled", request_id=rid)
    assert withdrawn["reason"] == "the request was cancelled"
    assert cancelled["cancelled_by"]["subject"] == f"staff-{place}" and cancelled["reason_code"] == "not_needed"
    assert cancelled["reason_params"] == {"note": "家属已接走老人"} and cancelled["reason"] == "not needed: 家属已接走老人"
    again = await matching.post(url, headers=as_staff(place), json={"reason": "重复操作"})
    assert again.status_code == 409 and again.json()["error"] == "该需求已取消,不能再操作"


async def test_link_as_duplicate_within_the_callers_area(matching, settings):
    place, elsewhere = community(), community()
    async with event_tap(settings) as tap:
        first = await escalated(settings, tap, place)
        same = await escalated(settings, tap, place)
        other = await escalated(settings, tap, elsewhere)
        url = f"/api/v1/requests/{same.request_id}/duplicate"
        outside = await matching.post(url, headers=as_staff(place), json={"duplicate_of": str(other.request_id)})
        itself = await matching.post(url, headers=as_staff(place), json={"duplicate_of": str(same.request_id)})
        unknown = await matching.post(url, headers=as_staff(place), json={"duplicate_of": str(uuid.uuid4())})
        response = await matching.post(url, headers=as_staff(place), json={"duplicate_of": str(first.request_id)})
        assert response.status_code == 200, response.text
        [duplicate] = await until_heard(tap, "request.duplicate", request_id=str(same.request_id))
    assert outside.status_code == 403 and itself.status_code == 409 and unknown.status_code == 404
    assert duplicate["duplicate_of"] == str(first.request_id) and duplicate["linked_by"]["area"] == place
    again = await matching.post(url, headers=as_staff(place), json={"duplicate_of": str(first.request_id)})
    assert again.status_code == 409 and again.json()["error"] == "该需求已标记重复,不能再操作"


async def test_staff_move_a_case_up_and_its_mediator_is_withdrawn(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "mediation"))
    dispute = case(place, None)
    async with event_tap(settings) as tap:
        await announce(settings, dispute)
        await until_heard(tap, "assignment.offered", case_id=str(dispute.case_id))
        url = f"/api/v1/cases/{dispute.case_id}/escalate"
        response = await matching.post(url, headers=as_staff(place), json={"note": "涉及多户"})
        assert response.json() == {"done": "case.escalated", "case_id": str(dispute.case_id)}
        [moved] = await until_heard(tap, "case.escalated", case_id=str(dispute.case_id))
        [withdrawn] = await until_heard(tap, "assignment.withdrawn", case_id=str(dispute.case_id))
    assert (moved["from_level"], moved["level"]) == ("community", "street")
    assert moved["reason_code"] == "moved_up_by_staff" and moved["reason_params"] == {"note": "涉及多户"}
    assert moved["staff"]["subject"] == f"staff-{place}" and withdrawn["reason"] == "the case was moved up by staff"


async def test_staff_close_a_case_then_record_its_return_visit_once(matching, settings):
    place = community()
    dispute = case(place, None)
    async with event_tap(settings) as tap:
        await announce(settings, dispute)
        cid = str(dispute.case_id)
        await until_heard(tap, "case.escalated", case_id=cid)  # nobody mediates here: it climbs to the street's staff
        early = await matching.post(f"/api/v1/cases/{cid}/return-visit", headers=as_staff(place),
                                    json={"satisfaction": "satisfied"})
        closed = await matching.post(f"/api/v1/cases/{cid}/close", headers=as_staff(place),
                                     json={"outcome": "agreement", "hours": 2, "note": "双方签字"})
        assert closed.status_code == 200, closed.text
        [event] = await until_heard(tap, "case.closed", case_id=cid)
        visit = await matching.post(f"/api/v1/cases/{cid}/return-visit", headers=as_staff(place),
                                    json={"satisfaction": "basically_satisfied", "note": "已电话回访"})
        assert visit.json() == {"done": "case.return_visited", "case_id": cid}
        [visited] = await until_heard(tap, "case.return_visited", case_id=cid)
    assert early.status_code == 409 and early.json()["error"] == "该案件尚未结案,结案后才能回访"
    assert event["staff"]["subject"] == f"staff-{place}" and (event["outcome"], event["hours"]) == ("agreement", 2)
    follow_up = timedelta(days=settings.matching_follow_up_days)
    assert datetime.fromisoformat(event["follow_up_at"]) == CLOCK.now() + follow_up
    assert visited["satisfaction"] == "basically_satisfied" and "note" not in visited
    twice = await matching.post(f"/api/v1/cases/{cid}/return-visit", headers=as_staff(place),
                                json={"satisfaction": "satisfied"})
    assert twice.status_code == 409 and twice.json()["error"] == "该案件已回访"
    reclose = await matching.post(f"/api/v1/cases/{cid}/close?lang=en", headers=as_staff(place),
                                  json={"outcome": "agreement", "hours": 1})
    assert reclose.status_code == 409 and reclose.json()["error"] == "the case is closed"


async def test_only_the_areas_staff_act_and_ops_and_volunteers_may_not(matching, settings):
    place = community()
    async with event_tap(settings) as tap:
        request = await escalated(settings, tap, place)
    url = f"/api/v1/requests/{request.request_id}/reopen"
    for headers in (as_staff(community()), as_("ops", "ops-tests"), as_volunteer("v-1"),
                    as_("street_staff", "street-x", area="s-nowhere")):
        response = await matching.post(url, headers=headers)
        assert response.status_code == 403 and response.json()["error"], headers
    assert (await matching.post(f"/api/v1/requests/{uuid.uuid4()}/reopen", headers=as_staff(place))).status_code == 404
    assert heard(tap, "request.reopened", request_id=str(request.request_id)) == []

