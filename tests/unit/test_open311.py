"""Open311 GeoReport v2, with no servers: the form as a submission, intake's status as the spec's,
the filters, the XML, and the error shapes."""
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from services.intake import open311
from services.intake.domain import Rejection, parse_submission
from services.intake.open311 import (ATTRIBUTES, Open311Error, as_request, full_name, request_filters, request_ids,
                                     service, status_filter, to_submission)
from services.intake.open311_xml import to_xml
from services.intake.sources import Source, Sources, key_hash
from shared.catalogue import SERVICES
from shared.submissions import ServiceRequestSubmission, Urgency

SHANGHAI = ZoneInfo("Asia/Shanghai")
FORM = {"api_key": "k", "service_code": "elder_care.meals", "description": " 独居老人需要助餐 ",
        "first_name": "芳", "last_name": "王", "phone": "13800000001", "email": "ignored@example.org",
        "device_id": "d-1", "lat": "31.23", "long": "121.47", "address_string": "北路 1 号",
        "attribute[community_code]": "c-north", "attribute[grid_code]": "g-3", "attribute[urgency]": "high",
        "attribute[window_start]": "2030-01-02T09:00:00+08:00", "attribute[window_end]": "2030-01-02T11:00:00+08:00",
        "attribute[volunteers_needed]": "2", "attribute[external_id]": "o-17"}


def submitted(form) -> ServiceRequestSubmission | Rejection:
    """The mapped form as intake's one path reads it."""
    return parse_submission(ServiceRequestSubmission, json.dumps(to_submission(form, "grid-platform")).encode())


def test_a_form_maps_onto_every_field_of_the_contract():
    assert to_submission(FORM, "grid-platform") == {
        "source": "grid-platform", "external_id": "o-17", "category": "elder_care.meals",
        "description": "独居老人需要助餐", "address": "北路 1 号", "community_code": "c-north", "grid_code": "g-3",
        "urgency": "high", "volunteers_needed": "2", "location": {"lat": "31.23", "lon": "121.47"},
        "window": {"start": "2030-01-02T09:00:00+08:00", "end": "2030-01-02T11:00:00+08:00"},
        "beneficiary": {"name": "王芳", "phone": "13800000001"}}
    request = submitted(FORM)
    assert isinstance(request, ServiceRequestSubmission), request
    assert request.urgency is Urgency.HIGH and request.volunteers_needed == 2 and request.location.lon == 121.47
    assert request.window.end - request.window.start == timedelta(hours=2)


def test_every_attribute_the_definition_offers_is_taken():
    form = {"service_code": "housekeeping", "description": "打扫",
            **{f"attribute[{a['code']}]": FORM[f"attribute[{a['code']}]"] for a in ATTRIBUTES}}
    assert not [key for key in to_submission(form, "s") if key.startswith("attribute[")]


def test_blank_fields_are_absent_and_a_missing_external_id_is_made_fresh():
    form = {"service_code": "housekeeping", "description": "打扫", "attribute[community_code]": "c-1",
            "attribute[grid_code]": "", "first_name": " ", "lat": ""}
    first, second = to_submission(form, "s"), to_submission(form, "s")
    assert set(first) == {"source", "external_id", "category", "description", "community_code"}
    assert first["external_id"].startswith("open311-") and first["external_id"] != second["external_id"]


@pytest.mark.parametrize("first, last, name", [("芳", "王", "王芳"), ("John", "Smith", "John Smith"),
                                               ("", "李", "李"), ("Ann", "", "Ann")])
def test_names_are_written_as_their_language_writes_them(first, last, name):
    assert full_name(first, last) == name


@pytest.mark.parametrize("change, reason", [
    ({"attribute[urgncy]": "emergency"}, "attribute[urgncy]: Extra inputs are not permitted"),
    ({"long": ""}, "location.lon: Field required"),
    ({"attribute[window_end]": ""}, "window.end: Field required"),
    ({"service_code": "mediation"}, "unknown service category 'mediation'"),
    ({"attribute[urgency]": "soon"}, "urgency: Input should be 'normal', 'high' or 'emergency'"),
])
def test_what_the_contract_refuses_is_refused_by_name(change, reason):
    rejection = submitted({**FORM, **change})
    assert isinstance(rejection, Rejection) and reason in rejection.reason


def test_the_service_list_is_the_catalogue():
    assert [service(code)["service_code"] for code in SERVICES] == list(SERVICES)
    assert "mediation" not in SERVICES
    assert service("housekeeping") == {
        "service_code": "housekeeping", "service_name": "家政照料", "description": "家政照料(所需技能:cleaning, cooking)",
        "metadata": True, "type": "realtime", "keywords": "cleaning,cooking", "group": "housekeeping"}
    assert service("elder_care.meals")["group"] == "elder_care"


def test_the_definition_lists_the_attributes_in_order():
    assert [(a["code"], a["datatype"], a["required"], a["order"]) for a in ATTRIBUTES] == [
        ("community_code", "string", True, 1), ("grid_code", "string", False, 2),
        ("urgency", "singlevaluelist", False, 3), ("window_start", "datetime", False, 4),
        ("window_end", "datetime", False, 5), ("volunteers_needed", "number", False, 6),
        ("external_id", "string", False, 7)]
    [urgency] = [a for a in ATTRIBUTES if a["code"] == "urgency"]
    assert [v["key"] for v in urgency["values"]] == ["normal", "high", "emergency"]
    assert all(a["variable"] is True and a["description"] and a["datatype_description"] for a in ATTRIBUTES)


def a_row(status="received", detail=None, team=None, **submission):
    at = datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)
    return {"request_id": uuid4(), "category": "elder_care.meals", "community_code": "c-north", "status": status,
            "status_detail": detail, "received_at": at, "updated_at": at + timedelta(minutes=5), "team": team,
            "submission": {"description": "独居老人需要助餐", **submission}}


def test_a_received_request_is_open_and_the_community_is_responsible():
    row = a_row(address="北路 1 号", location={"lat": 31.2, "lon": 121.4})
    public = {
        "service_request_id": str(row["request_id"]), "status": "open",
        "status_notes": "received: 已受理,正在匹配志愿者", "service_name": "助餐", "service_code": "elder_care.meals",
        "description": None, "agency_responsible": "社区 c-north",
        "requested_datetime": "2026-11-22T08:30:15+00:00", "updated_datetime": "2026-11-22T08:35:15+00:00",
        "address": "社区 c-north", "lat": None, "long": None}
    assert as_request(row) == public  # the public: no description, no exact address, no coordinates
    assert as_request(row, full=True) == {**public, "description": "独居老人需要助餐", "address": "北路 1 号",
                                          "lat": 31.2, "long": 121.4}  # its own source
    assert as_request(a_row(), full=True)["lat"] is None


def test_the_public_listing_shows_no_person_and_its_source_sees_numbers_masked():
    row = a_row(description="请联系女儿 139 1234 5678 安排助餐", beneficiary={"name": "王秀英", "phone": "13912345678"},
                status_detail=None)
    public = as_request(row)
    assert "139" not in str(public) and "王秀英" not in str(public) and public["description"] is None
    assert as_request(row, full=True)["description"] == "请联系女儿 139****5678 安排助餐"


@pytest.mark.parametrize("status, detail, team, state, notes, agency", [
    ("assigned", {"volunteer": {"source": "app", "external_id": "v"}}, "康乃馨", "open", "assigned: 已派给志愿者",
     "康乃馨"),
    ("assigned", {"volunteer": {"source": "app", "external_id": "v"}}, None, "open", "assigned: 已派给志愿者",
     "社区 c-north"),
    ("escalated", {"reason": "no volunteer with skill cooking"}, None, "open",
     "escalated: 没有合适的志愿者,已转社区工作人员处理,原因: no volunteer with skill cooking", "社区 c-north"),
    ("completed", None, "康乃馨", "closed", "completed: 服务已完成", "康乃馨"),
    ("duplicate", {"duplicate_of": "abc"}, None, "closed", "duplicate: 与其他渠道已报的同一需求合并处理,见请求: abc",
     "社区 c-north"),
])
def test_status_and_notes_follow_intake(status, detail, team, state, notes, agency):
    request = as_request(a_row(status, detail, team))
    assert (request["status"], request["status_notes"], request["agency_responsible"]) == (state, notes, agency)


def test_filters_default_to_the_last_90_days_and_read_local_times_on_the_citys_clock():
    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert request_filters(None, None, None, None, now, SHANGHAI) == {
        "start": now - timedelta(days=90), "end": now, "categories": None, "limit": 200,
        "statuses": None, "among": True}
    narrowed = request_filters("a, b", "2026-11-01", "2026-11-02T00:00:00Z", "closed", now, SHANGHAI)
    assert narrowed["start"] == datetime(2026, 10, 31, 16, tzinfo=UTC) and narrowed["categories"] == ["a", "b"]
    assert narrowed["end"] == datetime(2026, 11, 2, tzinfo=UTC)
    future = request_filters(None, "2099-01-01T00:00:00Z", None, None, now, SHANGHAI)  # finds nothing, no error
    assert (future["start"], future["end"]) == (datetime(2099, 1, 1, tzinfo=UTC), now)


@pytest.mark.parametrize("text, statuses, among", [("open", ["cancelled", "completed", "duplicate"], False),
                                                   ("closed", ["cancelled", "completed", "duplicate"], True),
                                                   ("open,closed", None, True), ("", None, True)])
def test_open_and_closed_are_intakes_statuses(text, statuses, among):
    assert status_filter(text) == {"statuses": statuses, "among": among}


@pytest.mark.parametrize("args, description", [
    ((None, "yesterday", None, None), "start_date is not an ISO 8601 time: 'yesterday'"),
    ((None, "2026-11-02", "2026-11-01", None), "start_date is after end_date"),
    ((None, None, None, "pending"), "status is open or closed, not 'pending'"),
])
def test_bad_filters_are_a_400_with_the_reason(args, description):
    with pytest.raises(Open311Error) as raised:
        request_filters(*args, datetime.now(UTC), SHANGHAI)
    assert raised.value.code == 400 and description in raised.value.description


def test_only_ids_that_can_be_linlis_are_looked_up():
    known = uuid4()
    assert request_ids(f"{known}, 638344,,abc") == [known]


def test_xml_has_the_specs_element_names_and_escapes_values():
    document = to_xml("service_requests", [{"service_request_id": "1", "description": "<b>&\x01</b>",
                                            "account_id": None, "lat": 31.5}])
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ElementTree.fromstring(document)
    assert root.tag == "service_requests" and [child.tag for child in root] == ["request"]
    assert root.findtext("request/description") == "<b>&\ufffd</b>"
    assert root.find("request/account_id").text is None and root.findtext("request/lat") == "31.5"
    definition = ElementTree.fromstring(to_xml("service_definition", {"service_code": "x", "attributes": ATTRIBUTES}))
    assert definition.findtext("attributes/attribute/code") == "community_code"
    assert definition.findtext("attributes/attribute/variable") == "true"
    assert [v.findtext("key") for v in definition.findall("attributes/attribute/values/value")] == [
        "normal", "high", "emergency"]
    services = ElementTree.fromstring(to_xml("services", [service("housekeeping")]))
    assert services.findtext("service/service_name") == "家政照料" and services.findtext("service/metadata") == "true"


@pytest.fixture
async def http():
    """The Open311 router alone, with sources that know one key; enough for what needs no database."""
    app = FastAPI()
    app.include_router(open311.router)
    app.state.deps = SimpleNamespace(sources=Sources({"grid": Source(source="grid", name="g",
                                                                    api_key_sha256=(key_hash("key"),))}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.mark.parametrize("method, path, data, code, description", [
    ("get", "/open311/v2/services/dentistry.json", None, 404, "unknown service_code 'dentistry'"),
    ("get", "/open311/v2/services.yaml", None, 404, "unknown format 'yaml'"),
    ("get", "/open311/v2/services", None, 404, "no such Open311 resource"),
    ("post", "/open311/v2/services.json", None, 404, "no such Open311 resource"),
    ("post", "/open311/v2/requests.json", {"api_key": "guess"}, 403, "missing or unknown api_key"),
    ("post", "/open311/v2/requests.json", {}, 403, "missing or unknown api_key"),
])
async def test_errors_have_the_specs_json_shape(http, method, path, data, code, description):
    response = await getattr(http, method)(path, **({"data": data} if data is not None else {}))
    assert response.status_code == code
    [error] = response.json()
    assert error["code"] == code and description in error["description"]


def xml_error(response) -> tuple[int, str, str]:
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    root = ElementTree.fromstring(response.content)
    assert root.tag == "errors" and [child.tag for child in root] == ["error"]
    return response.status_code, root.findtext("error/code"), root.findtext("error/description")


async def test_errors_have_the_specs_xml_shape(http):
    assert xml_error(await http.get("/open311/v2/services/dentistry.xml")) == (
        404, "404", "unknown service_code 'dentistry'")
    assert xml_error(await http.post("/open311/v2/requests.xml", data={"api_key": "guess"})) == (
        403, "403", "missing or unknown api_key")
    json_body = await http.post("/open311/v2/requests.xml", content=b'{"api_key": "key"}',
                          headers={"content-type": "application/json"})
    assert xml_error(json_body) == (
        400, "400", "send the request as application/x-www-form-urlencoded, not application/json")
