"""The pure parts of linli's metrics, with no servers: which stages a decision's events show a
request reach, how late the clock's oldest due timer runs, and the pace of costly gauges."""
import uuid
from datetime import UTC, datetime, timedelta

import shared.metrics
from services.matching.domain.stages import Stage, stages_reached
from services.matching.timers import lateness
from shared.events import AssignmentAccepted, AssignmentOffered, AssignmentWithdrawn, RequestCompleted, VolunteerRef
from shared.metrics import Pace

NOW = datetime(2026, 3, 2, 2, tzinfo=UTC)
FIRST, SECOND = uuid.UUID(int=1), uuid.UUID(int=2)


def about(request_id: uuid.UUID | None, at: datetime) -> dict:
    return {"correlation_id": "c", "occurred_at": at, "assignment_id": uuid.uuid4(),
            "volunteer": VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id="v-1"),
            "request_id": request_id, "case_id": None if request_id else uuid.uuid4(), "source": "hotline-12345",
            "external_id": "h-1", "category": "elder_care.meals", "community_code": "c-north"}


def offered(request_id: uuid.UUID | None, at: datetime) -> AssignmentOffered:
    return AssignmentOffered(**about(request_id, at), urgency="normal", expires_at=at + timedelta(hours=1))


def completed(request_id: uuid.UUID, at: datetime) -> RequestCompleted:
    return RequestCompleted(correlation_id="c", occurred_at=at, request_id=request_id, source="hotline-12345",
                            external_id="h-1", category="elder_care.meals", community_code="c-north", hours=1.0,
                            people_served=1, volunteers=())


def test_the_stages_are_named_by_the_span_from_the_one_before():
    assert [stage.label for stage in Stage] == ["received_to_offered", "offered_to_accepted", "accepted_to_completed"]


def test_a_decision_s_events_show_each_request_s_stages_once_at_their_earliest_in_stage_order():
    later = NOW + timedelta(seconds=5)
    events = [completed(SECOND, later), offered(FIRST, later), offered(FIRST, NOW),
              AssignmentAccepted(**about(SECOND, NOW)), AssignmentWithdrawn(**about(FIRST, NOW), reason="r")]
    assert stages_reached(events) == [(FIRST, Stage.OFFERED, NOW), (SECOND, Stage.ACCEPTED, NOW),
                                      (SECOND, Stage.COMPLETED, later)]


def test_a_case_s_offers_are_no_request_s_stages():
    assert stages_reached([offered(None, NOW)]) == []


def test_the_clock_s_lag_is_how_long_the_oldest_due_timer_waited():
    assert lateness(NOW, [NOW - timedelta(seconds=3), NOW - timedelta(minutes=2), NOW]) == 120.0
    assert lateness(NOW, []) == 0.0
    assert lateness(NOW, [NOW + timedelta(seconds=1)]) == 0.0  # found due by an earlier look's clock


def test_a_costly_gauge_is_read_at_most_once_per_pace(monkeypatch):
    moments = iter([100.0, 100.5, 101.0, 101.5, 102.0])
    monkeypatch.setattr(shared.metrics.time, "monotonic", lambda: next(moments))
    pace = Pace(1.0)
    assert [pace.due() for _ in range(5)] == [True, False, True, False, True]
