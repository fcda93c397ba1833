"""reporting against the real RabbitMQ and PostgreSQL: events in, figures out."""
import uuid
from datetime import UTC, datetime

import pytest

from services.reporting.app import SERVICE
from shared.events import (RequestAssigned, RequestCompleted, RequestEscalated, RequestReceived, RequestRejected,
                           Staffed, VolunteerRef)
from tests.support import announce, handled, metric, running, until_handled

pytestmark = pytest.mark.integration

EVE = datetime(2026, 2, 28, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on 28 February in the city
DAY_1 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)       # 10:00 on 1 March in the city
DAY_2 = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)      # 01:00 on 2 March in the city, still 1 March in UTC
PERIOD = {"from": "2026-02-28", "to": "2026-03-02"}  # nothing else in this run's database is dated here


@pytest.fixture(scope="module")
async def reporting(settings):
    async with running(SERVICE, settings) as client:
        yield client


def about(community: str, at: datetime) -> dict:
    return {"correlation_id": "c", "occurred_at": at, "request_id": uuid.uuid4(), "source": "hotline-12345",
            "external_id": uuid.uuid4().hex, "category": "elder_care.meals", "community_code": community}


def received(community, at):
    return RequestReceived(**about(community, at), description="助餐")


def staffed() -> tuple[Staffed, ...]:
    volunteer = VolunteerRef(volunteer_id=uuid.uuid4(), source="app", external_id="v")
    return (Staffed(**volunteer.model_dump(), assignment_id=uuid.uuid4()),)


def assigned(community, at):
    return RequestAssigned(**about(community, at), volunteers=staffed())


def completed(community, at, occurrence=1):
    return RequestCompleted(**about(community, at), occurrence=occurrence, hours=1.5, people_served=1,
                            volunteers=staffed())


def escalated(community, at):
    return RequestEscalated(**about(community, at), reason="nobody", urgency="normal")


def rejected(community, at):
    return RequestRejected(correlation_id="c", occurred_at=at, reason="bad", submission="request.submit",
                           community_code=community)


def row(community: str, day: str, **counts) -> dict:
    return {"community_code": community, "day": day, "received": 0, "assigned": 0, "escalated": 0, "completed": 0,
            "rejected": 0, **counts}


async def summary(reporting, **params) -> dict:
    response = await reporting.get("/api/v1/reports/summary", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def counted(reporting) -> dict[str, float]:
    """Events counted so far, by routing key, as the service's own counter has it."""
    return {key: await metric(reporting, "linli_reporting_events_counted_total", routing_key=key)
            for key in ("request.received", "request.assigned", "request.escalated", "request.completed",
                        "request.rejected")}


async def test_events_become_counts_per_community_and_city_day_and_copies_change_nothing(reporting, settings):
    north, south = f"n-{uuid.uuid4().hex[:6]}", f"s-{uuid.uuid4().hex[:6]}"  # sorted: north, south, unknown
    events = [received(north, EVE), received(north, DAY_1), received(north, DAY_1), assigned(north, DAY_1),
              escalated(north, DAY_2), received(north, DAY_2), completed(north, DAY_2),
              completed(north, DAY_2, occurrence=2),  # a recurring request: each occurrence done counts
              received(south, DAY_1), rejected(south, DAY_1), assigned(south, DAY_2), escalated(south, DAY_2),
              rejected(None, DAY_2)]
    expected_rows = [
        row(north, "2026-02-28", received=1),
        row(north, "2026-03-01", received=2, assigned=1),
        row(south, "2026-03-01", received=1, rejected=1),
        row(north, "2026-03-02", received=1, escalated=1, completed=2),
        row(south, "2026-03-02", assigned=1, escalated=1),
        row("unknown", "2026-03-02", rejected=1),
    ]
    expected = {**PERIOD, "community": None, "by_community_day": expected_rows,
                "totals": {"received": 5, "assigned": 2, "escalated": 2, "completed": 2, "rejected": 2}}
    counted_before = await counted(reporting)
    handled_before = await handled(reporting, "reporting")

    for event in events:
        await announce(settings, event)
    await until_handled(reporting, "reporting", handled_before, len(events))
    assert await summary(reporting, **PERIOD) == expected

    for event in events:
        await announce(settings, event)  # redelivered: the same message id
        await announce(settings, event, message_id=str(uuid.uuid4()))  # re-published under a new message id
    await until_handled(reporting, "reporting", handled_before, 3 * len(events))
    assert await summary(reporting, **PERIOD) == expected
    counted_now = await counted(reporting)
    assert {key: counted_now[key] - counted_before[key] for key in counted_now} == {
        "request.received": 5, "request.assigned": 2, "request.escalated": 2, "request.completed": 2,
        "request.rejected": 2}

    only_south = await summary(reporting, community=south, **PERIOD)
    assert only_south == {**PERIOD, "community": south, "by_community_day": [expected_rows[2], expected_rows[4]],
                          "totals": {"received": 1, "assigned": 1, "escalated": 1, "completed": 0, "rejected": 1}}
    day_2 = await summary(reporting, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert day_2["by_community_day"] == expected_rows[3:]
    assert day_2["totals"] == {"received": 1, "assigned": 1, "escalated": 2, "completed": 2, "rejected": 1}
    north_from_day_1 = await summary(reporting, community=north, **{"from": "2026-03-01"})
    assert north_from_day_1["by_community_day"] == [expected_rows[1], expected_rows[3]]
    assert north_from_day_1["to"] is None
    north_to_eve = await summary(reporting, community=north, to="2026-02-28")
    assert north_to_eve["by_community_day"] == [expected_rows[0]]
    assert north_to_eve["totals"] == {"received": 1, "assigned": 0, "escalated": 0, "completed": 0, "rejected": 0}


async def test_a_bad_date_is_refused_with_its_reason(reporting):
    response = await reporting.get("/api/v1/reports/summary", params={"from": "2026-13-01"})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", "from"] and "valid date" in problem["msg"]
    response = await reporting.get("/api/v1/reports/summary", params={"to": "yesterday"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "to"]


async def test_a_period_that_ends_before_it_begins_is_refused(reporting):
    response = await reporting.get("/api/v1/reports/summary", params={"from": "2026-03-02", "to": "2026-03-01"})
    assert response.status_code == 422
    assert response.json() == {"detail": "from (2026-03-02) is after to (2026-03-01)"}
