"""Personal data stays off linli.events (issue 12, point 5), and raw bodies are stored masked."""
import json
import re
import uuid

import pytest

from shared.events import (EVENT_TYPES, AssignmentAccepted, AssignmentOffered, CaseAssigned, CaseReceived,
                           PersonErased, RequestReceived, VolunteerRegistered, public_body, public_dump)
from shared.privacy import mask_raw_body
from shared.submissions import PersonErasure

NAME, PHONE, EMAIL, ADDRESS = "王秀英", "13912345678", "wang.xiuying@example.com", "幸福路 8 号 3 单元 501"
REF = {"volunteer_id": uuid.uuid4(), "source": "volunteer-app", "external_id": "v-1"}
ASSIGNMENT = {"correlation_id": "c", "assignment_id": uuid.uuid4(), "volunteer": REF, "request_id": uuid.uuid4(),
              "source": "hotline-12345", "external_id": "r-1", "category": "elder_care.meals", "community_code": "c-1"}
EVENTS = [
    RequestReceived(correlation_id="c", request_id=uuid.uuid4(), source="hotline-12345", external_id="r-1",
                    category="elder_care.meals", community_code="c-1", description=f"{NAME} 需要送餐, 电话 {PHONE}",
                    address=ADDRESS, location={"lat": 26.07, "lon": 119.3},
                    beneficiary={"name": NAME, "phone": PHONE, "tags": ["empty_nest"]}),
    VolunteerRegistered(correlation_id="c", volunteer_id=REF["volunteer_id"], source="volunteer-app",
                        external_id="v-1", name=NAME, phone=PHONE, email=EMAIL, community_code="c-1",
                        skills=["cooking"], location={"lat": 26.07, "lon": 119.3}),
    CaseReceived(correlation_id="c", case_id=uuid.uuid4(), level="grid", source="grid-platform", external_id="k-1",
                 community_code="c-1", dispute_type="noise", summary=f"{NAME} 与邻居噪音纠纷",
                 parties=[{"name": NAME, "phone": PHONE, "role": "applicant"}, {"name": "李四", "role": "respondent"}]),
    AssignmentOffered(**ASSIGNMENT, urgency="normal", description=f"给{NAME}送餐", address=ADDRESS,
                      expires_at="2026-01-01T10:00:00+08:00"),
    AssignmentAccepted(**ASSIGNMENT, address=ADDRESS),
    CaseAssigned(correlation_id="c", case_id=uuid.uuid4(), source="grid-platform", external_id="k-1",
                 community_code="c-1", level="grid", assignment_id=uuid.uuid4(), volunteer=REF,
                 dispute_type="noise", summary=f"{NAME} 与邻居噪音纠纷, {PHONE}"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event.routing_key)
def test_the_public_form_of_an_event_names_no_one_and_still_validates_as_its_type(event):
    whole = event.model_dump_json().encode()
    public = public_body(event.routing_key, whole)
    for secret in (NAME, PHONE, EMAIL, ADDRESS, "26.07"):
        assert secret not in public.decode() and secret not in json.dumps(public_dump(event), ensure_ascii=False)
    seen = type(event).model_validate_json(public)
    assert seen.event_id == event.event_id and seen.correlation_id == event.correlation_id
    assert all(getattr(seen, field) in (None, ()) for field in event.personal)
    assert type(event).model_validate_json(whole) == event  # linli.personal: whole


def test_an_event_without_personal_fields_goes_out_as_it_is():
    erased = PersonErased(correlation_id="c", erasure_id=uuid.uuid4(), requested_by="ops:li")
    assert public_body(erased.routing_key, erased.model_dump_json().encode()) is None


def test_no_other_event_type_carries_a_field_that_names_a_person():
    """A new event type with a name, phone, email, address, location, summary or free description
    must declare it personal."""
    naming = re.compile(r"^(name|phone|email|address|location|summary|description|parties|beneficiary|note)$")
    for routing_key, event_type in EVENT_TYPES.items():
        assert {f for f in event_type.model_fields if naming.match(f)} <= event_type.personal, routing_key


def test_a_raw_body_is_masked_before_it_is_stored():
    body = json.dumps({"beneficiary": {"name": NAME, "phone": PHONE}, "description": f"{NAME}, {EMAIL}, "
                       "座机 0591-87654321", "address": ADDRESS, "parties": [{"name": "Li Na"}]}, ensure_ascii=False)
    masked = mask_raw_body(body[:-20])  # cut short, as an excerpt may be
    for secret in (NAME, PHONE, EMAIL, "87654321", "Li Na", ADDRESS):
        assert secret not in masked
    assert "王**" in masked and "139****5678" in masked


def test_an_erasure_names_exactly_one_person():
    PersonErasure(requested_by="ops:li", phone=PHONE)
    PersonErasure(requested_by="ops:li", volunteer={"source": "volunteer-app", "external_id": "v-1"})
    for wrong in ({}, {"phone": PHONE, "request": {"source": "s", "external_id": "e"}}):
        with pytest.raises(ValueError, match="exactly one"):
            PersonErasure(requested_by="ops:li", **wrong)
