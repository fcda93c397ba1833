"""The definitions of reporting's figures of the staff's work (issue 15), on hand-made events, no servers."""
from collections import Counter

import pytest

from services.reporting.domain.figures import FIGURES, coverage, finish
from services.reporting.domain.increments import (MEDIATION, RETURN_VISIT_COUNTS, STAFF_ACTION_KINDS,
                                                  request_increments, return_visit_increments, staff_action)
from services.reporting.domain.notes import public_params, without_notes
from shared.events import (CampaignStarted, CaseClosed, CaseEscalated, HouseholdRegistered, RequestCancelled,
                           RequestCompleted, RequestDuplicate, RequestHandledByStaff, ReturnVisitRecorded, public_dump)
from shared.reasons import Reason
from tests.builders.reporting import at
from tests.builders.staff import EXPECTED, STAFF_ACTIONS, StaffWeek, staff_assigned


@pytest.fixture(scope="module")
def week() -> list:
    week = StaffWeek()
    return week.events + week.staff_taking_over()


def of_type(events, *types):
    return [event for event in events if isinstance(event, types)]


def test_each_staff_action_counts_under_its_kind_and_only_when_staff_did_it(week):
    kinds = Counter(action for action in map(staff_action, week) if action is not None)
    assert {kind: n for (kind, _), n in kinds.items()} == {kind: n for (kind, _), n in STAFF_ACTIONS.items()}
    assert set(kind for kind, _ in kinds) <= STAFF_ACTION_KINDS.keys()
    by_themselves = [event.model_copy(update={field: None}) for event, field in (
        (of_type(week, RequestCancelled)[0], "cancelled_by"),  # the publisher withdrew it
        (of_type(week, RequestDuplicate)[0], "linked_by"),     # intake found the duplicate
        (of_type(week, CaseEscalated)[0], "staff"),            # matching moved it up by its rules
        (of_type(week, CaseClosed)[0], "staff"))]              # a mediator closed it
    assert [staff_action(event) for event in by_themselves] == [None] * 4
    assert not any(staff_action(event) for event in of_type(week, HouseholdRegistered, CampaignStarted))


@pytest.mark.parametrize("agreed, kind", [(False, "assigned"), (True, "agreed")])
def test_naming_a_volunteer_is_an_offer_or_an_agreed_assignment(agreed, kind):
    week = StaffWeek()
    assert staff_action(staff_assigned(week.checkup, at(2, 9), agreed)) == (kind, "health.checkup")


def test_a_case_action_counts_under_mediation(week):
    assert {staff_action(event)[1] for event in of_type(week, ReturnVisitRecorded, CaseEscalated)} == {MEDIATION}


def test_a_service_staff_handled_counts_its_people_and_hours_but_no_volunteer(week):
    [handled] = of_type(week, RequestHandledByStaff)
    assert request_increments(handled) == {"staff_handled": 1, "staff_handled_hours": 1.5, "person_times": 2,
                                           "service_hours": 1.5}
    row = finish({"completed": 1, "staff_handled": 1, "disputes_closed": 3, "completed_with_window": 0,
                  "completed_within_window": 0}, {})
    assert row["sessions"] == 5


def test_a_return_visit_counts_at_its_level_with_its_satisfaction(week):
    visits = of_type(week, ReturnVisitRecorded)
    total = Counter()
    for visit in visits:
        level, increments = return_visit_increments(visit)
        assert level == "community"
        total.update(increments)
    assert dict(total) == {name: EXPECTED[name] for name in RETURN_VISIT_COUNTS}
    assert finish(dict(total), {})["satisfaction_share"] == EXPECTED["satisfaction_share"] == 0.6667


@pytest.mark.parametrize("counts, satisfaction_share", [
    ({"return_visits": 4, "return_visits_satisfied": 2, "return_visits_basically_satisfied": 1}, 0.75),
    ({"return_visits": 2, "return_visits_satisfied": 0, "return_visits_basically_satisfied": 0}, 0.0),
    ({"return_visits": 0, "return_visits_satisfied": 0, "return_visits_basically_satisfied": 0}, None),  # none yet
    ({}, None),  # a row without return visits (a team's)
])
def test_satisfaction_is_the_share_of_return_visits_satisfied_or_basically_satisfied(counts, satisfaction_share):
    assert finish(counts, {})["satisfaction_share"] == satisfaction_share


@pytest.mark.parametrize("visited, targeted, share", [(0, 2, 0.0), (1, 2, 0.5), (2, 2, 1.0), (1, 3, 0.3333),
                                                      (0, 0, None)])
def test_a_campaigns_coverage_is_its_households_visited_over_those_targeted(visited, targeted, share):
    assert coverage(visited, targeted) == share


def test_a_reasons_parameters_are_kept_without_staffs_own_words():
    assert public_params({"note": "家属已安排", "task": "case"}) == {"task": "case"}
    assert public_params(None) == {}


@pytest.mark.parametrize("body, kept", [
    (Reason(code="not_needed", params={"note": "家属已安排"}).fields(),
     {"reason": "not needed", "reason_code": "not_needed", "reason_params": {}}),
    (Reason(code="moved_up_by_staff", params={"note": "当事人情绪激动"}).fields(),
     {"reason": "moved up by staff", "reason_code": "moved_up_by_staff", "reason_params": {}}),
    ({"reason": "someone's words: 张三", "reason_code": "unworded", "reason_params": {"note": "张三"}},
     {"reason": "unworded", "reason_code": "unworded", "reason_params": {}}),
    ({"reason": "nobody can take it", "reason_code": None, "reason_params": {}},
     {"reason": "nobody can take it", "reason_code": None, "reason_params": {}}),
])
def test_the_archive_keeps_a_reason_without_staffs_note(body, kept):
    assert without_notes({"request_id": "r", **body}) == {"request_id": "r", **kept}


def test_no_event_of_the_staff_week_is_archived_with_a_note(week):
    for event in week:
        kept = str(without_notes(public_dump(event)))
        assert not any(words in kept for words in ("家属已安排", "老人说", "送去米和油")), event.routing_key


def test_every_new_figure_has_a_chinese_label():
    for name in ("staff_handled", "staff_handled_hours", "households_registered", "return_visits",
                 "return_visits_satisfied", "return_visits_basically_satisfied", "return_visits_dissatisfied",
                 "satisfaction_share", "staff_actions"):
        assert any("\u4e00" <= char <= "\u9fff" for char in FIGURES[name]), name


def test_the_staff_week_adds_up_to_its_expected_counts(week):
    total = Counter()
    for event in of_type(week, RequestHandledByStaff, RequestCompleted):
        total.update(request_increments(event))
    assert {name: total[name] for name in ("completed", "staff_handled", "staff_handled_hours", "person_times",
                                           "service_hours", "participations")} \
        == {name: EXPECTED[name] for name in ("completed", "staff_handled", "staff_handled_hours", "person_times",
                                              "service_hours", "participations")}
    assert sum(STAFF_ACTIONS.values()) == EXPECTED["staff_actions"]
