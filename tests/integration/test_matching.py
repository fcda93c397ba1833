"""matching against the real RabbitMQ and PostgreSQL: the roster from events, then decisions."""
import uuid

import pytest

from services.matching.app import SERVICE
from shared.events import RequestReceived, VolunteerRegistered
from tests.support import announce, event_tap, eventually, handled, publish_burst, running, until_handled

pytestmark = pytest.mark.integration

RECEIVED, REGISTERED = "linli.events.request.received", "linli.events.volunteer.registered"


@pytest.fixture(scope="module")
async def matching(settings):
    async with running(SERVICE, settings) as client:
        yield client


def registered(community: str, *skills: str, name: str = "志愿者") -> VolunteerRegistered:
    return VolunteerRegistered(correlation_id="c", volunteer_id=uuid.uuid4(), source="volunteer-app",
                               external_id=f"v-{uuid.uuid4().hex[:6]}", name=name, phone="13800000000",
                               community_code=community, skills=skills)


def received(community: str, category: str) -> RequestReceived:
    return RequestReceived(correlation_id=f"corr-{uuid.uuid4().hex[:6]}", request_id=uuid.uuid4(),
                           source="hotline-12345", external_id=f"r-{uuid.uuid4().hex[:6]}", category=category,
                           description="需要帮助", community_code=community, address="幸福路 1 号")


async def roster_of(matching, community: str, size: int):
    async def complete():
        rows = (await matching.get("/api/v1/volunteers", params={"community": community})).json()
        return rows if len(rows) == size else None
    return await eventually(complete)


async def test_requests_go_to_the_least_loaded_able_volunteer_in_turn(matching, settings):
    community = f"c-{uuid.uuid4().hex[:6]}"
    cooks = [registered(community, "cooking"), registered(community, "cooking", "cleaning")]
    for volunteer in [*cooks, registered(community, "legal")]:
        await announce(settings, volunteer)
    await roster_of(matching, community, 3)
    requests = [received(community, "elder_care.meals") for _ in range(10)]
    async with event_tap(settings) as tap:
        await publish_burst(settings, [(r.routing_key, r.model_dump(mode="json"), str(r.event_id))
                                       for r in requests], exchange="linli.events")
        assigned = await tap.wait_for("request.assigned", 10)
        offered = await tap.wait_for("assignment.offered", 10)
    load = {str(v.volunteer_id): 0 for v in cooks}
    for event in assigned:
        load[event["volunteer"]["volunteer_id"]] += 1
    assert sorted(load.values()) == [5, 5]  # shared out, the lawyer never asked to cook
    assert tap.of("request.escalated") == []
    offer = offered[0]
    assert offer["description"] == "需要帮助" and offer["address"] == "幸福路 1 号"
    assert {o["correlation_id"] for o in offered} == {r.correlation_id for r in requests}
    details = (await matching.get(f"/api/v1/assignments/{offer['assignment_id']}")).json()
    assert details["reason"]["matched_skills"] == ["cooking"]
    assert details["community_code"] == community


async def test_a_request_nobody_can_take_is_escalated_with_the_reason(matching, settings):
    community = f"c-{uuid.uuid4().hex[:6]}"
    await announce(settings, registered(community, "cooking"))
    await roster_of(matching, community, 1)
    request = received(community, "legal.consultation")
    async with event_tap(settings) as tap:
        await announce(settings, request)
        [escalated] = await tap.wait_for("request.escalated")
    assert escalated["request_id"] == str(request.request_id)
    assert escalated["reason"] == (f"no active volunteer in community {community} has a skill that "
                                   "legal.consultation needs (legal)")
    assert escalated["source"] == "hotline-12345" and escalated["external_id"] == request.external_id


async def test_a_request_heard_twice_is_matched_once(matching, settings):
    community = f"c-{uuid.uuid4().hex[:6]}"
    await announce(settings, registered(community, "patrol"))
    await roster_of(matching, community, 1)
    request = received(community, "safety.patrol")
    before = await handled(matching, "matching", handler=RECEIVED)
    async with event_tap(settings) as tap:
        await announce(settings, request)
        await announce(settings, request)  # redelivered: same message id
        await announce(settings, request, message_id=str(uuid.uuid4()))  # re-published by a relay
        await until_handled(matching, "matching", before, 3, handler=RECEIVED)
        [assigned] = await tap.wait_for("request.assigned")
    assert assigned["request_id"] == str(request.request_id)
    [volunteer] = await roster_of(matching, community, 1)
    assert volunteer["open_assignments"] == 1


async def test_a_later_profile_update_wins_and_an_older_one_is_ignored(matching, settings):
    community = f"c-{uuid.uuid4().hex[:6]}"
    first = registered(community, "cooking", name="旧名")
    update = first.model_copy(update={"event_id": uuid.uuid4(), "name": "新名", "skills": ("cooking", "legal"),
                                      "occurred_at": first.occurred_at.replace(year=first.occurred_at.year + 1)})
    before = await handled(matching, "matching", handler=REGISTERED)
    await announce(settings, update)
    await announce(settings, first)  # arrives late
    await until_handled(matching, "matching", before, 2, handler=REGISTERED)
    [row] = await roster_of(matching, community, 1)
    assert row["name"] == "新名" and row["skills"] == ["cooking", "legal"]
