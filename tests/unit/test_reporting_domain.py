"""The definitions of reporting's figures, on hand-made events."""
import uuid
from datetime import UTC, date, datetime

from services.reporting.domain import COUNTER_OF, UNKNOWN_COMMUNITY, community_of, day_of, totals
from shared.events import RequestEscalated, RequestRejected


def test_each_request_event_moves_its_own_count():
    assert COUNTER_OF == {"request.received": "received", "request.assigned": "assigned",
                          "request.escalated": "escalated", "request.rejected": "rejected"}


def test_a_day_is_the_citys_day():
    assert day_of(datetime(2026, 1, 1, 15, 59, tzinfo=UTC), "Asia/Shanghai") == date(2026, 1, 1)
    assert day_of(datetime(2026, 1, 1, 16, 0, tzinfo=UTC), "Asia/Shanghai") == date(2026, 1, 2)
    assert day_of(datetime(2026, 1, 1, 16, 0, tzinfo=UTC), "UTC") == date(2026, 1, 1)


def test_an_unreadable_rejection_counts_under_the_unknown_community():
    assert community_of(RequestRejected(correlation_id="c", reason="not JSON", submission="request.submit")) \
        == UNKNOWN_COMMUNITY
    assert community_of(RequestRejected(correlation_id="c", reason="r", submission="request.submit",
                                        community_code="c-9")) == "c-9"
    escalated = RequestEscalated(correlation_id="c", request_id=uuid.uuid4(), source="s", external_id="e",
                                 category="housekeeping", community_code="c-1", reason="r", urgency="normal")
    assert community_of(escalated) == "c-1"


def test_totals_add_up_every_row():
    rows = [{"received": 3, "assigned": 2, "escalated": 1, "rejected": 0},
            {"received": 1, "assigned": 0, "escalated": 0, "rejected": 4}]
    assert totals(rows) == {"received": 4, "assigned": 2, "escalated": 1, "rejected": 4}
    assert totals([]) == {"received": 0, "assigned": 0, "escalated": 0, "rejected": 0}
