"""matching against the real RabbitMQ and PostgreSQL, issue 13: a request's and a case's events
published as intake publishes them (on `linli.events`, and whole on `linli.personal`), handled
in every order across matching's queues, end in the same state; and no volunteer is booked into
overlapping windows, not even by two acceptances at once in two communities."""
import asyncio
import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.matching import handlers
from services.matching.app import SERVICE
from shared.events import PersonErased, RequestCancelled, RequestRef, VolunteerRef
from tests.builders.matching import about, answer, case, community, done, received, registered
from tests.clock import SetClock
from tests.identities import as_staff
from tests.support import (announce, announced_and_handled, enrol, event_tap, eventually, handled, running,
                           until_handled)

pytestmark = pytest.mark.integration

RESPONDED = "matching.assignment-responded"
CLOCK = SetClock()  # stands still: no offer expires, no window ends
MONDAY = datetime(2030, 3, 4, 2, tzinfo=UTC)  # 10:00 in the city


@pytest.fixture(scope="module")
async def matching(settings):
    configured = settings.model_copy(update={"matching_areas_file": "tests/areas.json", "matching_clock_seconds": 0.2,
                                             "matching_max_open_assignments": 10,
                                             "matching_wait_for_free_seconds": 0})
    async with running(SERVICE, configured, clock=CLOCK) as client:
        yield client


def cancellation(request) -> RequestCancelled:
    return RequestCancelled(correlation_id="cancel", request_id=request.request_id, source=request.source,
                            external_id=request.external_id, category=request.category,
                            community_code=request.community_code, reason="不需要了")


async def handled_in_order(matching, settings, events) -> None:
    """Each event announced once the one before is handled: the order they are handled in."""
    for event in events:
        await announced_and_handled(matching, "matching", settings, event)


async def request_state(matching, request) -> tuple:
    view = (await matching.get(f"/api/v1/requests/{request.request_id}")).json()
    return view["status"], [(o["status"], sorted(a["status"] for a in o["assignments"])) for o in view["occurrences"]]


async def places_held(matching, volunteer) -> int:
    return (await matching.get(f"/api/v1/volunteers/{volunteer.volunteer_id}")).json()["open_assignments"]


@pytest.mark.parametrize("cancelled_first", [True, False])
async def test_a_cancellation_handled_before_its_request_leaves_it_cancelled_and_never_offered(
        matching, settings, cancelled_first):
    place = community()
    volunteer = registered(place, "childcare")
    await enrol(matching, settings, volunteer)
    request = received(place, "child.care")
    async with event_tap(settings) as tap:
        first, then = (cancellation(request), request) if cancelled_first else (request, cancellation(request))
        await announced_and_handled(matching, "matching", settings, first)
        if not cancelled_first:
            await tap.wait_for("assignment.offered")  # the decision after the request made its offer
        await announced_and_handled(matching, "matching", settings, then)
        await announce(settings, request)  # redelivered by a relay: still nothing
    status, occurrences = await request_state(matching, request)
    assert status == "cancelled" and await places_held(matching, volunteer) == 0
    if cancelled_first:
        assert occurrences == [] and [o for o in tap.of("assignment.offered")
                                      if o["request_id"] == str(request.request_id)] == []
    else:
        assert occurrences == [("cancelled", ["withdrawn"])]


async def offered(matching, settings, tap, subject) -> dict:
    """The offer matching makes for the request or case once it is handled."""
    about = str(getattr(subject, "request_id", None) or getattr(subject, "case_id"))
    await announced_and_handled(matching, "matching", settings, subject)

    def made():
        return next((o for o in tap.of("assignment.offered") if about in (o.get("request_id"), o.get("case_id"))),
                    None)
    return await eventually(made)


def reported(offer: dict, **fields):
    """A report of service whose refusal, if any, this test alone hears (its own correlation id)."""
    return done(offer, **fields).model_copy(update={"correlation_id": f"done-{uuid.uuid4().hex[:8]}"})


def refusals(tap, report) -> list[str]:
    return [e["reason"] for e in tap.of("completion.rejected") if e["correlation_id"] == report.correlation_id]


# Every order of an answer and two reports of service (the second a repeat under a new id) on
# their two queues, shuffled by a seeded generator.
ORDERS = list(itertools.permutations(["accept", "report", "report again"]))
random.Random(13).shuffle(ORDERS)


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
async def test_an_answer_and_reports_handled_in_any_order_end_with_the_service_recorded_once(
        matching, settings, order):
    place = community()
    volunteer = registered(place, "cooking")
    await enrol(matching, settings, volunteer)
    request = received(place, "elder_care.meals")
    async with event_tap(settings) as tap:
        offer = await offered(matching, settings, tap, request)
        steps = {"accept": answer(offer, accept=True), "report": reported(offer, hours=1.5, people=2),
                 "report again": reported(offer, hours=1.5, people=2)}
        await handled_in_order(matching, settings, [steps[step] for step in order])
        [completed] = await eventually(lambda: about(tap.of("request.completed"), request))
        await eventually(lambda: refusals(tap, steps["report"]) + refusals(tap, steps["report again"]))
    assert await request_state(matching, request) == ("done", [("completed", ["completed"])])
    assert await places_held(matching, volunteer) == 0 and completed["hours"] == 1.5
    assert refusals(tap, steps["report"]) + refusals(tap, steps["report again"]) == ["the offer was already completed"]
    assert len(about(tap.of("assignment.accepted"), request)) == 1


@pytest.mark.parametrize("order", [("decline", "report"), ("report", "decline")], ids="-".join)
async def test_a_report_for_an_offer_declined_is_refused_whichever_came_first(matching, settings, order):
    place = community()
    await enrol(matching, settings, registered(place, "cooking"))
    async with event_tap(settings) as tap:
        offer = await offered(matching, settings, tap, received(place, "elder_care.meals"))
        steps = {"decline": answer(offer, accept=False), "report": reported(offer)}
        await handled_in_order(matching, settings, [steps[step] for step in order])
        assert await eventually(lambda: refusals(tap, steps["report"])) == ["the offer was already declined"]
    assert [a["status"] for a in (await matching.get(f"/api/v1/requests/{offer['request_id']}")).json()[
        "occurrences"][0]["assignments"]] == ["declined"]


@pytest.mark.parametrize("order", [("accept", "report"), ("report", "accept")], ids="-".join)
async def test_a_mediation_session_reported_before_its_acceptance_closes_the_case(matching, settings, order):
    place = community()
    await enrol(matching, settings, registered(place, "mediation"))
    dispute = case(place, None)
    async with event_tap(settings) as tap:
        offer = await offered(matching, settings, tap, dispute)
        steps = {"accept": answer(offer, accept=True), "report": reported(offer, hours=2, outcome="agreement")}
        await handled_in_order(matching, settings, [steps[step] for step in order])
        [closed] = await eventually(lambda: [e for e in tap.of("case.closed") if e["case_id"] == str(dispute.case_id)])
    view = (await matching.get(f"/api/v1/cases/{dispute.case_id}")).json()
    assert closed["outcome"] == "agreement" and view["status"] == "closed"
    assert [a["status"] for level in view["levels"] for a in level["assignments"]] == ["completed"]


async def test_an_erasure_handled_before_the_request_and_registration_it_erases_still_erases_them(
        matching, settings):
    place = community()
    volunteer, request = registered(place, "legal", name="李四"), received(place, "legal.consultation")
    erasure = PersonErased(correlation_id="erase", erasure_id=uuid.uuid4(), requested_by="ops",
                           requests=[RequestRef(request_id=request.request_id, source=request.source,
                                                external_id=request.external_id)],
                           volunteers=[VolunteerRef(volunteer_id=volunteer.volunteer_id, source=volunteer.source,
                                                    external_id=volunteer.external_id)])
    await handled_in_order(matching, settings, [erasure, volunteer, request])
    [row] = (await matching.get("/api/v1/volunteers", params={"community": place}, headers=as_staff(place))).json()
    assert (row["name"], row["active"], row["lat"]) == ("", False, None)  # off the roster, as the erasure left it
    stored = await matching.app.state.deps.runtime.pool.fetchval(
        "SELECT received FROM service_request WHERE request_id = $1", request.request_id)
    assert stored["request_id"] == str(request.request_id) and stored["category"] == "legal.consultation"
    assert (stored["description"], stored["address"]) == (None, None)


# -- bookings -----------------------------------------------------------------------------------

def windowed(place: str, start: datetime, hours: float = 2):
    return received(place, "elder_care.meals", window={"start": start, "end": start + timedelta(hours=hours)})


async def test_a_volunteer_booked_in_a_window_is_not_offered_an_overlapping_one(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "cooking"))
    async with event_tap(settings) as tap:
        first = await offered(matching, settings, tap, windowed(place, MONDAY))
        await announced_and_handled(matching, "matching", settings, answer(first, accept=True))
        overlapping = windowed(place, MONDAY + timedelta(hours=1))
        await announce(settings, overlapping)
        escalated = await tap.wait_for("request.escalated")
    [reason] = [e["reason"] for e in escalated if e["request_id"] == str(overlapping.request_id)]
    assert reason == f"nobody in community {place} can take elder_care.meals: 1 booked in an overlapping window"


async def test_of_two_acceptances_at_once_for_overlapping_windows_in_two_communities_one_wins(fresh_settings):
    """The volunteer of east-1 is offered a request of east-2 too (east-2 has nobody: the search
    widens to the street); both answers are handled at once, in two units of work."""
    settings = fresh_settings.model_copy(update={"matching_areas_file": "tests/areas.json"})
    volunteer = registered("east-1", "cooking")
    async with running(SERVICE, settings, clock=SetClock()) as matching, event_tap(settings) as tap:
        await enrol(matching, settings, volunteer)
        for place in ("east-1", "east-2"):
            await announce(settings, windowed(place, MONDAY))
        offers = await tap.wait_for("assignment.offered", 2)
        deps = matching.app.state.deps

        async def accept(offer):
            async with deps.unit_of_work() as uow:
                await handlers.on_assignment_responded(deps, uow, answer(offer, accept=True))
        await asyncio.gather(*(accept(offer) for offer in offers))
        [refused] = await tap.wait_for("response.rejected")
        await tap.wait_for("assignment.accepted")
        statuses = sorted([(await matching.get(f"/api/v1/assignments/{o['assignment_id']}")).json()["status"]
                           for o in offers])
    assert statuses == ["accepted", "offered"] and len(tap.of("assignment.accepted")) == 1
    assert refused["reason"].startswith("the volunteer already accepted an assignment from 2030-03-04T02:00:00")


async def test_two_answers_published_back_to_back_book_one_of_two_overlapping_windows(matching, settings):
    place = community()
    await enrol(matching, settings, registered(place, "cooking"))
    async with event_tap(settings) as tap:
        offers = [await offered(matching, settings, tap, windowed(place, MONDAY + timedelta(hours=h)))
                  for h in (0, 1)]
        before = await handled(matching, "matching", handler=RESPONDED)
        for offer in offers:  # one right after the other: the queue works on both at once
            await announce(settings, answer(offer, accept=True))
        await until_handled(matching, "matching", before, 2, handler=RESPONDED)
    statuses = sorted([(await matching.get(f"/api/v1/assignments/{o['assignment_id']}")).json()["status"]
                       for o in offers])
    assert statuses == ["accepted", "offered"]
