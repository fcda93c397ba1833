"""The definitions of reporting's figures, on hand-made events."""
import uuid
from datetime import UTC, date, datetime

import pytest

from services.reporting.domain import UNKNOWN_COMMUNITY, community_of, counter_of, day_of, totals
from shared.events import (NotificationSent, RequestAssigned, RequestCompleted, RequestEscalated, RequestReceived,
                           RequestRejected, Staffed, VolunteerRef)
from shared.settings import Settings

ABOUT = {"correlation_id": "c", "request_id": uuid.uuid4(), "source": "hotline-12345", "external_id": "e-1",
         "category": "elder_care.meals", "community_code": "c-1"}
VOLUNTEER = VolunteerRef(volunteer_id=uuid.uuid4(), source="app", external_id="v-1")
STAFFED = (Staffed(**VOLUNTEER.model_dump(), assignment_id=uuid.uuid4()),)


def test_each_request_event_moves_its_own_count():
    assert counter_of(RequestReceived(**ABOUT, description="助餐")) == "received"
    assert counter_of(RequestAssigned(**ABOUT, volunteers=STAFFED)) == "assigned"
    assert counter_of(RequestEscalated(**ABOUT, reason="nobody", urgency="high")) == "escalated"
    assert counter_of(RequestCompleted(**ABOUT, hours=1.5, people_served=1, volunteers=STAFFED)) == "completed"
    assert counter_of(RequestRejected(correlation_id="c", reason="r", submission="request.submit")) == "rejected"


def test_an_event_reporting_does_not_count_has_no_counter():
    with pytest.raises(KeyError):
        counter_of(NotificationSent(correlation_id="c", notification_id=uuid.uuid4(), recipient="r",
                                    channel="inbox", about_event_id=uuid.uuid4(), about="request.escalated"))


def test_a_day_is_the_citys_day_on_both_sides_of_its_midnight():
    city = Settings.model_fields["linli_timezone"].default
    assert city == "Asia/Shanghai"
    assert day_of(datetime(2026, 1, 1, 15, 59, 59, tzinfo=UTC), city) == date(2026, 1, 1)
    assert day_of(datetime(2026, 1, 1, 16, 0, tzinfo=UTC), city) == date(2026, 1, 2)
    assert day_of(datetime(2026, 1, 1, 17, 0, tzinfo=UTC), city) == date(2026, 1, 2)
    assert day_of(datetime(2026, 1, 1, 17, 0, tzinfo=UTC), "UTC") == date(2026, 1, 1)


def test_an_unreadable_rejection_counts_under_the_unknown_community():
    unreadable = RequestRejected(correlation_id="c", reason="body is not JSON", submission="request.submit")
    assert community_of(unreadable) == UNKNOWN_COMMUNITY == "unknown"
    readable = RequestRejected(correlation_id="c", reason="r", submission="request.submit", community_code="c-9")
    assert community_of(readable) == "c-9"
    assert community_of(RequestEscalated(**ABOUT, reason="nobody", urgency="normal")) == "c-1"


def test_totals_add_up_every_row():
    rows = [{"community_code": "c-1", "day": date(2026, 1, 1), "received": 3, "assigned": 2, "escalated": 1,
             "completed": 2, "rejected": 0},
            {"community_code": "c-2", "day": date(2026, 1, 2), "received": 1, "assigned": 0, "escalated": 0,
             "completed": 1, "rejected": 4}]
    assert totals(rows) == {"received": 4, "assigned": 2, "escalated": 1, "completed": 3, "rejected": 4}
    assert totals([]) == {"received": 0, "assigned": 0, "escalated": 0, "completed": 0, "rejected": 0}
