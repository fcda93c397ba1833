"""reporting against the real RabbitMQ and PostgreSQL: events in, figures out."""
import uuid
from datetime import UTC, datetime

import pytest

from services.reporting.app import SERVICE
from shared.events import Event, RequestAssigned, RequestEscalated, RequestReceived, RequestRejected, VolunteerRef
from tests.support import eventually, publish, running

pytestmark = pytest.mark.integration

DAY_1 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)   # 10:00 in the city
DAY_2 = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 01:00 on 2 March in the city


@pytest.fixture(scope="module")
async def reporting(settings):
    async with running(SERVICE, settings) as client:
        yield client


def about(community: str, at: datetime) -> dict:
    return {"correlation_id": "c", "occurred_at": at, "request_id": uuid.uuid4(), "source": "hotline-12345",
            "external_id": uuid.uuid4().hex, "category": "elder_care.meals", "community_code": community}


def received(community, at):
    return RequestReceived(**about(community, at), description="助餐")


def assigned(community, at):
    volunteer = VolunteerRef(volunteer_id=uuid.uuid4(), source="app", external_id="v")
    return RequestAssigned(**about(community, at), assignment_id=uuid.uuid4(), volunteer=volunteer)


def escalated(community, at):
    return RequestEscalated(**about(community, at), reason="nobody", urgency="normal")


def rejected(community, at):
    return RequestRejected(correlation_id="c", occurred_at=at, reason="bad", submission="request.submit",
                           community_code=community)


async def announce(settings, event: Event, message_id: str | None = None) -> None:
    await publish(settings, event.routing_key, event.model_dump(mode="json"), exchange="linli.events",
                  message_id=message_id or str(event.event_id))


async def summary(reporting, **params) -> dict:
    response = await reporting.get("/api/v1/reports/summary", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_events_become_counts_per_community_and_city_day_and_replays_change_nothing(reporting, settings):
    north, south = f"n-{uuid.uuid4().hex[:6]}", f"s-{uuid.uuid4().hex[:6]}"
    events = [received(north, DAY_1), received(north, DAY_1), assigned(north, DAY_1), escalated(north, DAY_2),
              received(south, DAY_2), rejected(south, DAY_2), rejected(None, DAY_2)]
    for event in events:
        await announce(settings, event)
    await announce(settings, events[0])  # redelivered
    await announce(settings, events[2], message_id=str(uuid.uuid4()))  # re-published by a relay
    marker = received(south, DAY_1)  # sent last: once it is counted, the copies have been handled
    await announce(settings, marker)

    async def marker_counted():
        rows = (await summary(reporting, community=south))["by_community_day"]
        return any(r["day"] == "2026-03-01" and r["received"] == 1 for r in rows)
    await eventually(marker_counted)

    north_rows = (await summary(reporting, community=north))["by_community_day"]
    assert north_rows == [
        {"community_code": north, "day": "2026-03-01", "received": 2, "assigned": 1, "escalated": 0, "rejected": 0},
        {"community_code": north, "day": "2026-03-02", "received": 0, "assigned": 0, "escalated": 1, "rejected": 0},
    ]
    south_totals = (await summary(reporting, community=south))["totals"]
    assert south_totals == {"received": 2, "assigned": 0, "escalated": 0, "rejected": 1}
    only_day_2 = await summary(reporting, community=north, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert only_day_2["totals"] == {"received": 0, "assigned": 0, "escalated": 1, "rejected": 0}
    unknown = await summary(reporting, community="unknown", **{"from": "2026-03-02"})
    assert unknown["totals"]["rejected"] >= 1


async def test_a_bad_date_is_refused_with_its_reason(reporting):
    response = await reporting.get("/api/v1/reports/summary", params={"from": "2026-13-01"})
    assert response.status_code == 422
    assert "from" in response.text and "date" in response.text.lower()
