"""intake's validation rules, with no servers."""
import json

import pytest

from services.intake.domain import MAX_BODY_BYTES, Rejection, body_excerpt, parse_submission
from shared.submissions import ServiceRequestSubmission, Urgency, VolunteerRegistration

GOOD = {"source": "hotline-12345", "external_id": "h-1", "category": "housekeeping",
        "description": "需要打扫和做饭", "community_code": "310104-001"}


def parse(data) -> ServiceRequestSubmission | Rejection:
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return parse_submission(ServiceRequestSubmission, body)


def test_a_good_request_is_accepted_with_its_defaults():
    request = parse(GOOD)
    assert isinstance(request, ServiceRequestSubmission)
    assert request.urgency is Urgency.NORMAL and request.volunteers_needed == 1


@pytest.mark.parametrize("body, reason", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{not json", "not JSON"),
    (b'"a string"', "must be a JSON object, not str"),
    (b"x" * (MAX_BODY_BYTES + 1), "larger than the limit"),
    ({**GOOD, "category": "dentistry"}, "unknown service category 'dentistry'"),
    ({**GOOD, "description": "长" * 4001}, "description: String should have at most 4000 characters"),
    ({**GOOD, "volunteers_needed": 21}, "volunteers_needed: Input should be less than or equal to 20"),
    ({**GOOD, "urgency": "whenever"}, "urgency: Input should be 'normal', 'high' or 'emergency'"),
    ({**GOOD, "community_code": "社区 one"}, "community_code: String should match pattern"),
    ({**GOOD, "urgncy": "emergency"}, "urgncy: Extra inputs are not permitted"),
    ({**GOOD, "window": {"start": "2026-01-02T10:00:00+08:00", "end": "2026-01-02T09:00:00+08:00"}},
     "window.end must be after window.start"),
    ({**GOOD, "beneficiary": {"tags": ["rich"]}}, "unknown beneficiary tags ['rich']"),
])
def test_bad_input_is_rejected_with_a_readable_reason(body, reason):
    rejection = parse(body)
    assert isinstance(rejection, Rejection)
    assert reason in rejection.reason


def test_a_rejection_keeps_what_can_be_read_of_the_identity():
    rejection = parse({"source": "grid-7", "external_id": "g-9", "community_code": 12})
    assert (rejection.source, rejection.external_id, rejection.community_code) == ("grid-7", "g-9", None)
    assert "category: Field required" in rejection.reason


def test_the_reason_lists_a_few_problems_and_counts_the_rest():
    rejection = parse({"colour": "red"})  # five required fields missing and one unknown
    assert rejection.reason.count("Field required") == 5
    assert rejection.reason.endswith("; and 1 more")
    assert "colour" not in rejection.reason


def test_body_excerpt_is_storable_text():
    assert body_excerpt(b"ok\x00\x01\xff\n") == "ok\\x00\\x01\\xff\n"
    assert len(body_excerpt(b"a" * 10_000)) == 2000


def test_volunteer_skills_come_from_the_catalogue_and_repeat_once():
    base = {"source": "app", "external_id": "v", "name": "李华", "phone": "13800000000", "community_code": "c1"}
    volunteer = parse_submission(VolunteerRegistration, json.dumps({**base, "skills": ["legal", "legal"]}).encode())
    assert volunteer.skills == ("legal",)
    unknown = parse_submission(VolunteerRegistration, json.dumps({**base, "skills": ["magic"]}).encode())
    assert "unknown skills ['magic']" in unknown.reason
    none = parse_submission(VolunteerRegistration, json.dumps({**base, "skills": []}).encode())
    assert "skills: Tuple should have at least 1 item" in none.reason
