"""The definitions of reporting's figures, on small hand-made events, no servers."""
import hashlib
import hmac
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from services.reporting.domain.figures import FIGURES, beneficiary_key, finish, percentile, residents, share
from services.reporting.domain.increments import (UNKNOWN, cell_of, dispute_increments, request_increments,
                                                  within_window)
from services.reporting.domain.periods import day_of, period_count, period_start, periods, whole_months
from services.reporting.domain.scope import BadQuery, Scope, check_group
from shared.events import (CaseClosed, CaseEscalated, CaseReceived, RequestAssigned, RequestCancelled,
                           RequestCompleted, RequestEscalated, RequestMissed, RequestReceived, RequestRejected, Staffed)
from shared.settings import Settings
from shared.submissions import Beneficiary
from tests.builders.reporting import EXPECTED, at, station_week

CITY = Settings.model_fields["linli_timezone"].default
ABOUT = {"correlation_id": "c", "request_id": uuid.uuid4(), "source": "hotline-12345", "external_id": "e-1",
         "category": "elder_care.meals", "community_code": "c-1"}


def staffed(count: int) -> tuple[Staffed, ...]:
    return tuple(Staffed(volunteer_id=uuid.uuid4(), source="app", external_id=f"v-{n}", assignment_id=uuid.uuid4())
                 for n in range(count))


def completed(hours=1.5, people=1, volunteers=1, occurred_at=None, window_end=None) -> RequestCompleted:
    return RequestCompleted(**ABOUT, hours=hours, people_served=people, volunteers=staffed(volunteers),
                            occurred_at=occurred_at or datetime(2026, 3, 1, 4, tzinfo=UTC), window_end=window_end)


def added_up(events) -> Counter:
    total = Counter()
    for event in events:
        total.update(request_increments(event))
    return total


def test_each_request_step_counts_once_in_its_own_figure():
    events = [RequestReceived(**ABOUT, description="助餐"), RequestAssigned(**ABOUT, volunteers=staffed(1)),
              RequestEscalated(**ABOUT, reason="nobody", urgency="high"), RequestMissed(**ABOUT, volunteers=()),
              RequestCancelled(**ABOUT), RequestRejected(correlation_id="c", reason="r", submission="request.submit")]
    assert added_up(events) == Counter(received=1, assigned=1, escalated=1, missed=1, cancelled=1, rejected=1)


def test_a_completion_adds_a_session_its_people_its_hours_and_each_volunteer_once():
    done = [completed(hours=2.0, people=3, volunteers=2), completed(hours=1.5, people=1, volunteers=1)]
    total = added_up(done)
    assert (total["completed"], total["person_times"], total["service_hours"], total["participations"]) == (2, 4, 3.5, 3)
    assert finish(total, {})["sessions"] == 2
    assert finish(total | {"disputes_closed": 1}, {})["sessions"] == 3  # a mediation session is a session too


def test_served_within_the_window_means_reported_done_by_its_end():
    end = datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert within_window(end, end) is True
    assert within_window(end + timedelta(seconds=1), end) is False
    assert within_window(end, None) is None
    on_time, late, open_ended = (completed(occurred_at=end, window_end=end),
                                 completed(occurred_at=end + timedelta(hours=1), window_end=end), completed())
    total = added_up([on_time, late, open_ended])
    assert (total["completed_with_window"], total["completed_within_window"]) == (2, 1)
    assert finish(total, {})["within_window_share"] == 0.5
    assert finish(added_up([open_ended]), {})["within_window_share"] is None  # no window, no share


def test_disputes_count_at_the_level_each_step_happened():
    about = {"correlation_id": "c", "case_id": uuid.uuid4(), "source": "grid", "external_id": "k",
             "community_code": "c-1"}
    received = CaseReceived(**about, level="grid", dispute_type="noise", summary="噪音",
                            parties=[{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}])
    assert dispute_increments(received) == ("grid", {"disputes_received": 1})
    escalated = CaseEscalated(**about, level="community", from_level="grid", reason="declined")
    assert dispute_increments(escalated) == ("grid", {"disputes_escalated": 1})
    closed = CaseClosed(**about, level="community", outcome="agreement", hours=2.0, follow_up_at=datetime.now(UTC))
    assert dispute_increments(closed) == ("community", {"disputes_closed": 1, "disputes_agreed": 1,
                                                        "mediation_hours": 2.0})
    failed = CaseClosed(**about, level="street", outcome="no_agreement", hours=1.0, follow_up_at=datetime.now(UTC))
    assert dispute_increments(failed)[1]["disputes_agreed"] == 0


def test_a_percentile_interpolates_between_the_nearest_ranks():
    assert percentile([30, 60, 90, 120], 0.5) == 75
    assert percentile([120, 30, 90, 60], 0.9) == pytest.approx(111)
    assert percentile([5], 0.9) == 5
    assert percentile([], 0.5) is None
    minutes = finish({}, {"assign": [1800, 3600, 5400, 7200]})
    assert (minutes["median_minutes_to_assign"], minutes["p90_minutes_to_assign"]) == (75.0, 111.0)
    assert minutes["median_minutes_to_complete"] is None  # not asked: not a figure of this row


def test_a_case_file_is_one_person_by_phone_else_by_name_in_the_community():
    def request(community, **person):
        return RequestReceived(**{**ABOUT, "community_code": community}, description="助餐",
                               beneficiary=Beneficiary(**person) if person else None)
    def key(request, secret=b"k"):
        return beneficiary_key(request, secret)
    by_phone = key(request("c-1", name="李奶奶", phone="13900000001"))
    assert by_phone == key(request("c-2", name="李阿婆", phone="13900000001"))
    assert "13900000001" not in by_phone  # kept as a hash
    assert key(request("c-1", name="张阿姨")) == key(request("c-1", name="张阿姨"))
    assert key(request("c-1", name="张阿姨")) != key(request("c-2", name="张阿姨"))
    assert key(request("c-1")) is None


def test_a_beneficiary_is_keyed_with_an_hmac_no_one_can_recompute_without_the_key():
    request = RequestReceived(**ABOUT, description="助餐", beneficiary=Beneficiary(phone="13900000001"))
    unsalted = hashlib.sha256(b"phone:13900000001").hexdigest()
    assert beneficiary_key(request, b"city-key") not in (unsalted, beneficiary_key(request, b"other-key"))
    assert beneficiary_key(request, b"city-key") == hmac.new(b"city-key", b"phone:13900000001", "sha256").hexdigest()


def test_the_share_of_residents_needs_every_communitys_number():
    counts = {"c-1": 1000, "c-2": 3000}
    assert residents(counts, ["c-1", "c-2"]) == 4000
    assert residents(counts, ["c-1", "c-3"]) is None
    assert residents(counts, []) is None
    assert finish({"registered_volunteers": 640, "residents": 4000}, {})["volunteer_share_of_residents"] == 0.16
    assert share(3, 0) is None and share(None, 5) is None


def test_a_row_has_every_figure_and_none_for_what_does_not_apply():
    row = finish({"active_volunteers": 2, "volunteer_hours": 3.5}, {})
    assert list(row) == list(FIGURES)
    assert (row["active_volunteers"], row["received"], row["sessions"]) == (2, None, None)


def test_a_day_is_the_citys_day_on_both_sides_of_its_midnight():
    assert CITY == "Asia/Shanghai"
    assert day_of(datetime(2026, 1, 1, 15, 59, 59, tzinfo=UTC), CITY) == date(2026, 1, 1)
    assert day_of(datetime(2026, 1, 1, 16, 0, tzinfo=UTC), CITY) == date(2026, 1, 2)
    assert day_of(datetime(2026, 1, 1, 17, 0, tzinfo=UTC), "UTC") == date(2026, 1, 1)
    late = RequestReceived(**ABOUT, description="助餐", occurred_at=datetime(2026, 1, 1, 16, 30, tzinfo=UTC))
    assert cell_of(late, late.category, CITY).day == date(2026, 1, 2)


def test_weeks_begin_on_monday_and_months_on_the_first():
    wednesday = date(2026, 3, 4)
    assert period_start(wednesday, "day") == wednesday
    assert period_start(wednesday, "week") == date(2026, 3, 2)
    assert period_start(date(2026, 3, 1), "week") == date(2026, 2, 23)  # a Sunday is the week's last day
    assert period_start(wednesday, "month") == date(2026, 3, 1)
    with pytest.raises(ValueError, match="unknown period 'fortnight'"):
        period_start(wednesday, "fortnight")


def test_a_trend_lists_every_period_quiet_ones_too():
    assert list(periods(date(2026, 1, 30), date(2026, 2, 2), "day")) == [
        date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 2)]
    assert list(periods(date(2026, 2, 25), date(2026, 3, 10), "week")) == [
        date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    assert list(periods(date(2025, 11, 30), date(2026, 2, 1), "month")) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


def test_a_rejection_without_a_community_or_category_counts_under_unknown():
    unreadable = RequestRejected(correlation_id="c", reason="body is not JSON", submission="request.submit")
    cell = cell_of(unreadable, None, CITY)
    assert (cell.community_code, cell.kind) == (UNKNOWN, UNKNOWN) == ("unknown", "unknown")


def test_a_scope_refuses_a_period_that_ends_before_it_begins_and_an_unknown_group():
    with pytest.raises(BadQuery, match=r"from \(2026-03-02\) is after to \(2026-03-01\)"):
        Scope(first=date(2026, 3, 2), last=date(2026, 3, 1))
    assert Scope(first=date(2026, 3, 1), last=date(2026, 3, 1)).first == date(2026, 3, 1)
    assert check_group("street", Scope()) == "street"
    with pytest.raises(BadQuery, match="unknown group 'fortnight'"):
        check_group("fortnight", Scope())


@pytest.mark.parametrize("first, last, reason", [
    (date(1, 1, 1), None, r"from \(0001-01-01\) is outside the days linli counts \(1970-01-01 to 2999-12-31\)"),
    (None, date(9999, 12, 31), r"to \(9999-12-31\) is outside the days"),
])
def test_a_scope_names_only_days_linli_can_count(first, last, reason):
    with pytest.raises(BadQuery, match=reason):
        Scope(first=first, last=last)


@pytest.mark.parametrize("group, first, last, rows", [
    ("day", date(2024, 1, 1), date(2026, 12, 31), 1096), ("week", date(2026, 3, 1), date(2026, 3, 2), 2),
    ("month", date(2026, 1, 31), date(2027, 2, 1), 14), ("month", date(1970, 1, 1), date(2061, 8, 31), 1100),
])
def test_a_trend_has_a_row_for_every_period_up_to_its_bound(group, first, last, rows):
    assert period_count(first, last, group) == len(list(periods(first, last, group))) == rows
    assert check_group(group, Scope(first, last)) == group


@pytest.mark.parametrize("group, first, last", [
    ("day", date(2020, 1, 1), date(2026, 12, 31)), ("week", date(1970, 1, 1), date(2999, 12, 31)),
    ("month", date(1970, 1, 1), date(2999, 12, 31)),
])
def test_a_trend_longer_than_its_bound_is_refused_with_what_to_ask_instead(group, first, last):
    with pytest.raises(BadQuery, match=f"a trend by {group} has at most 1100 rows; from {first} to {last} has"):
        check_group(group, Scope(first, last))


D = date


@pytest.mark.parametrize("first, last, months, ends", [
    (D(2025, 1, 1), D(2025, 12, 31), (D(2025, 1, 1), D(2025, 12, 1)), []),
    (D(2025, 6, 1), D(2025, 6, 30), (D(2025, 6, 1), D(2025, 6, 1)), []),
    (D(2025, 1, 15), D(2025, 3, 10), (D(2025, 2, 1), D(2025, 2, 1)),
     [(D(2025, 1, 15), D(2025, 1, 31)), (D(2025, 3, 1), D(2025, 3, 10))]),
    (D(2024, 2, 2), D(2024, 3, 31), (D(2024, 3, 1), D(2024, 3, 1)), [(D(2024, 2, 2), D(2024, 2, 29))]),
    (D(2025, 1, 31), D(2025, 2, 27), None, [(D(2025, 1, 31), D(2025, 2, 27))]),
    (D(2025, 3, 2), D(2025, 3, 30), None, [(D(2025, 3, 2), D(2025, 3, 30))]),
    (D(2025, 12, 1), D(2026, 1, 31), (D(2025, 12, 1), D(2026, 1, 1)), []),
    (None, D(2025, 5, 20), (None, D(2025, 4, 1)), [(D(2025, 5, 1), D(2025, 5, 20))]),
    (D(2025, 5, 20), None, (D(2025, 6, 1), None), [(D(2025, 5, 20), D(2025, 5, 31))]),
    (None, None, (None, None), []),
    (D(1970, 1, 1), D(2999, 12, 31), (D(1970, 1, 1), D(2999, 12, 1)), []),
])
def test_a_period_splits_into_its_whole_months_and_the_days_at_its_ends(first, last, months, ends):
    assert whole_months(first, last) == (months, ends)


def test_the_hand_made_week_adds_up_to_its_expected_request_counts():
    """The additive part of tests/builders/reporting.EXPECTED, from the definitions alone."""
    requests = [e for e in station_week() if type(e) in (RequestReceived, RequestAssigned, RequestEscalated,
                                                          RequestMissed, RequestCancelled, RequestRejected,
                                                          RequestCompleted)]
    total = added_up(requests)
    assert {name: total[name] for name in ("received", "assigned", "escalated", "completed", "rejected", "missed",
                                           "cancelled", "person_times", "service_hours", "participations")} \
        == {name: EXPECTED[name] for name in ("received", "assigned", "escalated", "completed", "rejected", "missed",
                                              "cancelled", "person_times", "service_hours", "participations")}
    assert at(1, 0).utcoffset() == timedelta(hours=8)
