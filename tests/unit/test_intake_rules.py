"""intake's rules for cases, phones and cross-source duplicates, with no servers."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain import OtherRequest, Rejection, first_of_same_need, parse_submission, phone_key
from shared.mediation import starting_level
from shared.submissions import AssignmentResponse, MediationCaseSubmission, ServiceCompletion

CASE = {"source": "grid-platform", "external_id": "case-1", "community_code": "c-north", "grid_code": "g-3",
        "dispute_type": "noise", "summary": "楼上深夜噪音",
        "parties": [{"name": "李先生", "role": "applicant"}, {"name": "王女士", "role": "respondent"}]}
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def parse(model, data):
    return parse_submission(model, json.dumps(data, ensure_ascii=False).encode())


@pytest.mark.parametrize("changes, level", [
    ({}, "grid"),
    ({"grid_code": None}, "community"),
    ({"severity": "serious"}, "community"),
])
def test_a_case_starts_at_the_lowest_level_that_fits(changes, level):
    case = parse(MediationCaseSubmission, {**CASE, **changes})
    assert starting_level(case.grid_code, case.severity) == level


@pytest.mark.parametrize("changes, reason", [
    ({"parties": [{"name": "李先生", "role": "applicant"}]}, "parties: Tuple should have at least 2 items"),
    ({"dispute_type": "inheritance"}, "dispute_type: Input should be"),
    ({"parties": [{"name": "李", "role": "judge"}, {"name": "王", "role": "respondent"}]}, "parties.0.role"),
    ({"summary": "吵" * 4001}, "summary: String should have at most 4000 characters"),
])
def test_a_bad_case_is_refused_with_its_reason(changes, reason):
    rejection = parse(MediationCaseSubmission, {**CASE, **changes})
    assert isinstance(rejection, Rejection) and reason in rejection.reason


def test_responses_and_completions_keep_to_the_contracts_limits():
    response = {"assignment_id": str(uuid.uuid4()), "volunteer_external_id": "v-1", "source": "volunteer-app",
                "accept": False, "reason": "生病了"}
    assert parse(AssignmentResponse, response).accept is False
    assert "assignment_id: Input should be a valid UUID" in parse(AssignmentResponse,
                                                                  {**response, "assignment_id": "7"}).reason
    completion = {"assignment_id": str(uuid.uuid4()), "hours": 1.5, "people_served": 2}
    assert parse(ServiceCompletion, completion).hours == 1.5
    assert "hours: Input should be greater than 0" in parse(ServiceCompletion, {**completion, "hours": 0}).reason
    assert "people_served" in parse(ServiceCompletion, {**completion, "people_served": 0}).reason


def test_phones_compare_by_their_digits():
    assert phone_key("+86 138-0000-0001") == phone_key("13800000001") == "13800000001"
    assert phone_key("0591-87654321") == "059187654321"
    assert phone_key(None) is None


def earlier(source: str, minutes_before: int) -> OtherRequest:
    return OtherRequest(uuid.uuid4(), source, T0 - timedelta(minutes=minutes_before))


def test_the_same_need_from_another_source_links_to_the_first_request_in_the_window():
    first, second = earlier("hotline-12345", 300), earlier("grid-platform", 60)
    assert first_of_same_need("volunteer-app", T0, [second, first], timedelta(hours=24)) == first.request_id


def test_the_same_source_or_an_old_request_is_not_a_cross_source_duplicate():
    own, old = earlier("volunteer-app", 10), earlier("hotline-12345", 25 * 60)
    assert first_of_same_need("volunteer-app", T0, [own, old], timedelta(hours=24)) is None
    assert first_of_same_need("volunteer-app", T0, [old], timedelta(hours=26)) == old.request_id


def test_a_request_taken_a_moment_later_elsewhere_but_decided_first_is_the_first():
    """Two intake processes take the same need at once: the one decided second links to the
    other, whichever of the two clocks said the earlier time."""
    later = OtherRequest(uuid.uuid4(), "hotline-12345", T0 + timedelta(milliseconds=3))
    assert first_of_same_need("grid-platform", T0, [later], timedelta(hours=24)) == later.request_id
    assert first_of_same_need("grid-platform", T0, [earlier("hotline-12345", -25 * 60)], timedelta(hours=24)) is None
