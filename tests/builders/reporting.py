"""A hand-made week of one street's station, as events, with the figures it must give
(tests/areas.json: streets S-east and S-west, 4,000 residents). Used by reporting's integration
and browser tests."""
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from services.reporting.domain.sketches import ESTIMATES, RELATIVE_ERROR
from shared.events import (CaseClosed, CaseEscalated, CaseReceived, CompletionReported, RequestAssigned,
                           RequestCancelled, RequestCompleted, RequestEscalated, RequestMissed, RequestReceived,
                           RequestRejected, Staffed, VolunteerRegistered)
from shared.submissions import Beneficiary, Window

CITY = ZoneInfo("Asia/Shanghai")
DAYS = ("2026-03-02", "2026-03-03", "2026-03-04")  # a Monday, Tuesday and Wednesday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` on the city's clock on DAYS[day - 1]."""
    return datetime.fromisoformat(DAYS[day - 1]).replace(hour=hour, minute=minute, tzinfo=CITY)


def _volunteer(external_id, community, team, when, active=True, volunteer_id=None):
    return VolunteerRegistered(correlation_id="c", occurred_at=when, volunteer_id=volunteer_id or uuid.uuid4(),
                               source="volunteer-app", external_id=external_id, name=f"志愿者{external_id}",
                               phone="13800000000", community_code=community, team=team, skills=["cooking"],
                               active=active)


class Request:
    """One request's events, made with its ids."""

    def __init__(self, community, category, received, beneficiary=None, window_end=None):
        self.about = {"correlation_id": "c", "request_id": uuid.uuid4(), "source": "hotline-12345",
                      "external_id": uuid.uuid4().hex, "category": category, "community_code": community}
        window = Window(start=received, end=window_end) if window_end else None
        self.window = {"window_start": received, "window_end": window_end} if window_end else {}
        self.received = RequestReceived(**self.about, occurred_at=received, description="服务", window=window,
                                        beneficiary=beneficiary)

    def assigned(self, when, occurrence=1):
        return RequestAssigned(**self.about, **self.window, occurred_at=when, occurrence=occurrence, volunteers=())

    def completed(self, when, volunteers, hours, people, occurrence=1, next_occurrence=None):
        staffed = tuple(Staffed(volunteer_id=v.volunteer_id, source=v.source, external_id=v.external_id,
                                assignment_id=uuid.uuid4()) for v in volunteers)
        return RequestCompleted(**self.about, **self.window, occurred_at=when, occurrence=occurrence, hours=hours,
                                people_served=people, volunteers=staffed, next_occurrence=next_occurrence)

    def escalated(self, when):
        return RequestEscalated(**self.about, occurred_at=when, reason="nobody can take it", urgency="normal")


def reported(completed: RequestCompleted, index: int, hours: float, when) -> CompletionReported:
    return CompletionReported(correlation_id="c", occurred_at=when, hours=hours, people_served=1,
                              assignment_id=completed.volunteers[index].assignment_id)


def _case(community, level, when):
    about = {"correlation_id": "c", "case_id": uuid.uuid4(), "source": "grid-platform", "external_id": uuid.uuid4().hex,
             "community_code": community}
    received = CaseReceived(**about, occurred_at=when, level=level, dispute_type="noise", summary="噪音",
                            parties=[{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}])
    return about, received


def station_week() -> list:
    """Every kind of event reporting counts; see EXPECTED for what they add up to."""
    v1 = _volunteer("v1", "east-1", "康乃馨", at(1, 8))
    v2_id = uuid.uuid4()
    v2 = _volunteer("v2", "east-1", "康乃馨", at(1, 8), volunteer_id=v2_id)
    v2_moved = _volunteer("v2", "east-1", "映山红", at(2, 8), volunteer_id=v2_id)  # the latest profile counts
    v3 = _volunteer("v3", "west-1", "君子兰", at(1, 8))
    v3_paused = _volunteer("v3", "west-1", "君子兰", at(3, 8), active=False, volunteer_id=v3.volunteer_id)
    v4 = _volunteer("v4", "east-2", "康乃馨", at(1, 8))
    mother = Beneficiary(name="李奶奶", phone="13900000001")

    meals = Request("east-1", "elder_care.meals", at(1, 10), mother, window_end=at(1, 18))
    meals_done = meals.completed(at(1, 12), [v1], 2.0, 1)                       # in its window
    visit = Request("east-1", "elder_care.home_visit", at(1, 11), mother, window_end=at(1, 20))
    visit_done = visit.completed(at(2, 9), [v1, v2], 3.0, 2)                     # late; the same household
    visit_west = Request("west-1", "elder_care.home_visit", at(2, 10), Beneficiary(name="张阿姨"))
    checkup = Request("east-2", "health.checkup", at(2, 11))
    checkup_cancelled = Request("east-2", "health.checkup", at(2, 12))
    pairing = Request("east-1", "elder_care.companionship", at(1, 9))           # weekly, nobody named
    grid_case, grid_case_received = _case("east-1", "grid", at(1, 15))
    serious_case, serious_case_received = _case("west-1", "community", at(2, 15))
    return [
        v1, v2, v2_moved, v3, v3_paused, v4,
        meals.received, meals.assigned(at(1, 10, 30)), meals_done, reported(meals_done, 0, 2.0, at(1, 12)),
        visit.received, visit.assigned(at(1, 12)), visit_done, reported(visit_done, 0, 1.0, at(2, 9)),
        visit_west.received, visit_west.assigned(at(2, 11, 30)), visit_west.completed(at(2, 14), [v3], 1.5, 1),
        checkup.received, checkup.escalated(at(2, 11, 5)),
        checkup_cancelled.received, checkup_cancelled.escalated(at(2, 12, 5)),
        RequestCancelled(**checkup_cancelled.about, occurred_at=at(2, 13)),
        pairing.received, pairing.assigned(at(1, 11)),
        pairing.completed(at(2, 9), [v4], 1.0, 1, next_occurrence=2),
        pairing.completed(at(3, 9), [v4], 1.0, 1, occurrence=2, next_occurrence=3),
        RequestMissed(**pairing.about, occurred_at=at(3, 20), occurrence=3, volunteers=()),
        RequestRejected(correlation_id="c", occurred_at=at(1, 16), reason="unknown category", submission="request.submit",
                        community_code="west-1"),
        RequestRejected(correlation_id="c", occurred_at=at(3, 16), reason="not JSON", submission="request.submit"),
        grid_case_received,
        CaseEscalated(**grid_case, occurred_at=at(2, 10), level="community", from_level="grid", reason="declined"),
        CaseClosed(**grid_case, occurred_at=at(2, 16), level="community", outcome="agreement", hours=2.0,
                   follow_up_at=at(3, 16)),
        serious_case_received,
        CaseEscalated(**serious_case, occurred_at=at(3, 10), level="street", from_level="community", reason="no agreement"),
        CaseEscalated(**serious_case, occurred_at=at(3, 15), level="street_staff", from_level="street",
                      reason="no agreement"),
    ]


# What station_week() adds up to (README, "Reporting"), for the whole period.
EXPECTED = {
    "received": 6, "assigned": 4, "escalated": 2, "completed": 5, "rejected": 2, "missed": 1, "cancelled": 1,
    "sessions": 6,                 # 5 occurrences done and 1 mediation closed
    "person_times": 6, "service_hours": 8.5, "participations": 6,
    "active_volunteers": 4, "volunteer_hours": 8.0,  # v2 reported nothing: half of the visit's 3 hours
    "case_files": 3,               # 李奶奶 (twice), 张阿姨, the pairing's unnamed resident
    "households_visited": 2,       # 李奶奶, 张阿姨
    "disputes_received": 2, "disputes_agreed": 1, "disputes_escalated": 3,
    "median_minutes_to_assign": 75.0, "p90_minutes_to_assign": 111.0,       # 30, 60, 90, 120 minutes
    "median_minutes_to_complete": 780.0, "p90_minutes_to_complete": 1404.0,  # 2, 4, 22 and 24 hours
    "within_window_share": 0.5,    # of the two with a window, the meal was in time and the visit late
    "registered_volunteers": 3,    # v3 paused
    "residents": 4000, "volunteer_share_of_residents": 0.0008,
    # the staff console's figures (tests/builders/staff.py has a week of staff work)
    "staff_handled": 0, "staff_handled_hours": 0, "households_registered": 0, "return_visits": 0,
    "return_visits_satisfied": 0, "return_visits_basically_satisfied": 0, "return_visits_dissatisfied": 0,
    "satisfaction_share": None, "staff_actions": 0,
}


def off_bounds(figures: dict, expected: dict = EXPECTED) -> dict:
    """The figures that differ from `expected`: an exact one at all, an estimate from the sketches
    (domain.sketches.ESTIMATES) by more than its bound: a distinct count by more than 1 (a small
    count is exact but for two people in one register), a percentile by more than its relative
    error, 1 s and the rounding to 0.1 minute."""
    def off(name, value, wanted) -> bool:
        if name not in ESTIMATES or value is None or wanted is None:
            return value != wanted
        if name.endswith(("_assign", "_complete")):
            return abs(value - wanted) > RELATIVE_ERROR * wanted + 1 / 60 + 0.05
        return abs(value - wanted) > 1
    return {name: (figures.get(name), wanted) for name, wanted in expected.items()
            if off(name, figures.get(name), wanted)}
