"""Open311 GeoReport v2 on intake, against the real RabbitMQ and PostgreSQL, read by the georeport
client over a real port. georeport only reads (it cannot POST), so requests are POSTed as an
Open311 client does: a urlencoded form."""
import asyncio
import contextlib
import uuid
from datetime import timedelta

import pytest
import requests
import xmltodict
from georeport import GeoReport

from services.intake.app import SERVICE
from shared.catalogue import SERVICES
from shared.events import RequestAssigned, RequestCompleted, RequestEscalated, Staffed
from tests.clock import SetClock
from tests.conftest import KEYS
from tests.support import announce, event_tap, eventually, handled, on_a_port, publish, running, until_handled

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def serving(app):
    """`app` (already started by `running`) also on a real port, for a client that needs a URL."""
    async with on_a_port(app) as url:
        yield f"{url}/open311/v2"


@pytest.fixture(scope="module")
async def intake(settings):
    async with running(SERVICE, settings) as client, serving(client.app) as root:
        client.root = root
        yield client


def georeport(intake, output_format: str = "json") -> GeoReport:
    return GeoReport(intake.root, output_format=output_format)


async def ask(method, *args, **kwargs):
    """A georeport call: it blocks, and the server answers on this event loop."""
    return await asyncio.to_thread(method, *args, **kwargs)


def as_list(parsed) -> list:
    """xmltodict gives a dict for a list of one."""
    return parsed if isinstance(parsed, list) else [parsed]


def a_form(**changes) -> dict:
    return {"api_key": KEYS["grid-platform"], "service_code": "elder_care.meals", "description": "独居老人需要助餐",
            "first_name": "芳", "last_name": "王", "phone": "13800000001", "email": "wf@example.org",
            "lat": "31.23", "long": "121.47", "address_string": "北路 1 号",
            "attribute[community_code]": "c-north", "attribute[grid_code]": "g-3", "attribute[urgency]": "high",
            "attribute[window_start]": "2030-01-02T09:00:00+08:00",
            "attribute[window_end]": "2030-01-02T11:00:00+08:00", "attribute[volunteers_needed]": "2",
            "attribute[external_id]": f"o-{uuid.uuid4().hex[:8]}", **changes}


async def post(intake, form: dict, fmt: str = "json"):
    return await intake.post(f"/open311/v2/requests.{fmt}", data=form)


async def posted(intake, **changes) -> str:
    response = await post(intake, a_form(**changes))
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


async def test_services_and_a_definition_in_json_and_xml(intake):
    listed = await ask(georeport(intake).get_service_list)
    assert [s["service_code"] for s in listed] == list(SERVICES)
    meals = next(s for s in listed if s["service_code"] == "elder_care.meals")
    assert meals["service_name"] == "助餐" and meals["metadata"] is True and meals["group"] == "elder_care"
    in_xml = await ask(georeport(intake, "xml").get_service_list)
    assert [s["service_code"] for s in in_xml] == list(SERVICES)
    assert in_xml[-1] == {"service_code": "housekeeping", "service_name": "家政照料",
                          "description": "家政照料(所需技能:cleaning, cooking)", "metadata": "true",
                          "type": "realtime", "keywords": "cleaning,cooking", "group": "housekeeping"}
    definition = await ask(georeport(intake).get_service_definition, "health.rehab")
    assert definition["service_code"] == "health.rehab"
    assert [a["code"] for a in definition["attributes"]] == [
        "community_code", "grid_code", "urgency", "window_start", "window_end", "volunteers_needed", "external_id"]
    xml_definition = await ask(georeport(intake, "xml").get_service_definition, "health.rehab")
    urgency = xml_definition["attributes"]["attribute"][2]
    assert urgency["datatype"] == "singlevaluelist" and [v["key"] for v in urgency["values"]["value"]] == [
        "normal", "high", "emergency"]


async def test_a_posted_request_is_the_same_submission_as_over_the_broker(intake, settings):
    form = a_form()
    async with event_tap(settings, "linli.personal") as tap:  # whole: what the services read
        first = await post(intake, form)
        again = await post(intake, form, "xml")
        await publish(settings, "request.submit", {  # the same key over the broker changes nothing
            "source": "grid-platform", "external_id": form["attribute[external_id]"],
            "category": "housekeeping", "description": "x", "community_code": "c-north"})
        [received] = [r for r in await tap.wait_for("request.received")
                      if r["external_id"] == form["attribute[external_id]"]]
    assert first.status_code == 201 and again.status_code == 200
    [created] = first.json()
    assert created["account_id"] is None and created["service_notice"]
    assert f"<service_request_id>{created['service_request_id']}</service_request_id>" in again.text
    stored = (await intake.get(f"/api/v1/requests/{created['service_request_id']}")).json()
    assert (stored["source"], stored["external_id"], stored["status"]) == (
        "grid-platform", form["attribute[external_id]"], "received")
    assert received["request_id"] == created["service_request_id"] and received["category"] == "elder_care.meals"
    assert received["beneficiary"] == {"name": "王芳", "phone": "13800000001", "tags": [], "language": None}
    assert received["location"] == {"lat": 31.23, "lon": 121.47} and received["address"] == "北路 1 号"
    assert (received["urgency"], received["volunteers_needed"], received["grid_code"]) == ("high", 2, "g-3")
    assert received["window"] == {"start": "2030-01-02T09:00:00+08:00", "end": "2030-01-02T11:00:00+08:00"}
    async with intake.app.state.runtime.pool.acquire() as conn:
        announced = await conn.fetchval("SELECT count(*) FROM outbox WHERE routing_key = 'request.received' "
                                        "AND convert_from(body, 'UTF8')::jsonb ->> 'external_id' = $1",
                                        form["attribute[external_id]"])
    assert announced == 1


async def test_without_an_external_id_every_post_is_a_new_request(intake):
    form = a_form()
    del form["attribute[external_id]"]
    ids = {(await post(intake, form)).json()[0]["service_request_id"] for _ in range(2)}
    assert len(ids) == 2
    for request_id in ids:
        assert (await intake.get(f"/api/v1/requests/{request_id}")).json()["external_id"].startswith("open311-")


async def test_requests_are_listed_with_the_specs_filters(intake):
    meals, cleaning = await posted(intake), await posted(intake, service_code="elder_care.cleaning")
    client = georeport(intake)

    async def ids(**filters) -> list[str]:
        return [r["service_request_id"] for r in await ask(client.get_service_requests, **filters)]
    everything = await ids()
    assert everything.index(cleaning) < everything.index(meals)  # newest first
    assert meals in await ids(service_code="elder_care.meals")
    assert cleaning not in await ids(service_code="elder_care.meals,health.checkup")
    assert await ids(service_request_id=f"{meals},{cleaning}", service_code="health.checkup") == [cleaning, meals]
    assert meals in await ids(status="open") and meals not in await ids(status="closed")
    assert meals in await ids(start_date="2020-01-01T00:00:00Z", end_date="2099-01-01T00:00:00Z")
    assert meals not in await ids(start_date="2099-01-01T00:00:00+08:00")
    assert meals not in await ids(end_date="2020-01-01T00:00:00Z")
    in_xml = as_list(await ask(georeport(intake, "xml").get_service_requests, service_request_id=meals))
    assert [(r["service_request_id"], r["status"], r["service_name"]) for r in in_xml] == [(meals, "open", "助餐")]


async def test_without_dates_the_list_is_of_the_last_90_days_on_intakes_clock(settings):
    clock = SetClock()
    async with running(SERVICE, settings, clock=clock) as intake:
        async def listed() -> list[str]:
            return [r["service_request_id"] for r in (await intake.get("/open311/v2/requests.json")).json()]
        old = await posted(intake)
        clock.advance(timedelta(days=90))
        recent = await posted(intake)
        both = await listed()
        clock.advance(timedelta(seconds=1))
        later = await listed()
    assert old in both and recent in both
    assert old not in later and recent in later


async def test_one_request_is_open_and_its_notes_follow_escalation(intake, settings):
    request_id = await posted(intake)
    request = await ask(georeport(intake).get_service_request, request_id)
    assert request["status"] == "open" and request["status_notes"].startswith("received:")
    assert request["agency_responsible"] == "社区 c-north" and (request["lat"], request["long"]) == (None, None)
    assert request["requested_datetime"].endswith("+00:00") and request["address"] == "社区 c-north"
    assert request["description"] is None and "王" not in str(request) and "13800000001" not in str(request)
    [own] = (await intake.get(f"/open311/v2/requests/{request_id}.json",
                              params={"api_key": KEYS["grid-platform"]})).json()  # its source sees it whole
    assert (own["lat"], own["long"], own["address"]) == (31.23, 121.47, "北路 1 号")
    assert own["description"] == "独居老人需要助餐"
    [other] = (await intake.get(f"/open311/v2/requests/{request_id}.json",
                                headers={"X-Api-Key": KEYS["hotline-12345"]})).json()  # another source does not
    assert other == request | {"status_notes": other["status_notes"]} and other["lat"] is None
    wrong = await intake.get(f"/open311/v2/requests/{request_id}.json", params={"api_key": "guess"})
    assert wrong.status_code == 403 and wrong.json() == [{"code": 403, "description": "unknown api_key"}]
    await announce(settings, RequestEscalated(
        correlation_id="c", request_id=request_id, source="grid-platform", external_id="x", category="elder_care.meals",
        community_code="c-north", reason="no active volunteer in c-north with skill cooking", urgency="high"))

    async def escalated():
        body = await ask(georeport(intake, "xml").get_service_request, request_id)
        return body if body["status_notes"].startswith("escalated") else None
    body = await eventually(escalated)
    assert body["status"] == "open" and "no active volunteer in c-north with skill cooking" in body["status_notes"]


async def test_an_assigned_request_names_its_volunteers_team(intake, settings):
    volunteer = {"source": "volunteer-app", "external_id": f"v-{uuid.uuid4().hex[:6]}", "name": "王芳",
                 "phone": "13800000002", "community_code": "c-north", "team": "康乃馨", "skills": ["cooking"]}
    await publish(settings, "volunteer.register", volunteer)
    request_id = await posted(intake)
    await announce(settings, RequestAssigned(
        correlation_id="c", request_id=request_id, source="grid-platform", external_id="x", category="elder_care.meals",
        community_code="c-north", volunteers=(Staffed(assignment_id=uuid.uuid4(), volunteer_id=uuid.uuid4(),
                                                      source="volunteer-app", external_id=volunteer["external_id"]),)))

    async def by_team():
        body = (await intake.get(f"/open311/v2/requests/{request_id}.json")).json()[0]
        return body if body["agency_responsible"] == "康乃馨" else None
    body = await eventually(by_team)
    assert body["status"] == "open" and body["status_notes"].startswith("assigned:")


async def test_a_completed_or_cancelled_request_is_closed(intake, settings):
    done, withdrawn_key = await posted(intake), f"o-{uuid.uuid4().hex[:8]}"
    withdrawn = await posted(intake, **{"attribute[external_id]": withdrawn_key})
    volunteer = Staffed(assignment_id=uuid.uuid4(), volunteer_id=uuid.uuid4(), source="volunteer-app", external_id="v")
    await announce(settings, RequestCompleted(
        correlation_id="c", request_id=done, source="grid-platform", external_id="x", category="elder_care.meals",
        community_code="c-north", hours=1.5, people_served=1, volunteers=(volunteer,)))
    await publish(settings, "request.cancel", {"source": "grid-platform", "external_id": withdrawn_key,
                                               "reason": "老人已住院"})

    async def closed():
        listed = await ask(georeport(intake).get_service_requests, service_request_id=f"{done},{withdrawn}")
        notes = {r["service_request_id"]: r["status_notes"] for r in listed if r["status"] == "closed"}
        return notes if len(notes) == 2 else None
    notes = await eventually(closed)
    assert notes == {done: "completed: 服务已完成", withdrawn: "cancelled: 已撤销,原因: 老人已住院"}


async def test_a_request_whose_cancellation_came_first_is_created_closed(intake, settings):
    key, cancels = f"o-{uuid.uuid4().hex[:8]}", {"handler": "intake.request-cancel"}
    before = await handled(intake, "intake", **cancels)
    await publish(settings, "request.cancel", {"source": "grid-platform", "external_id": key, "reason": "已自行解决"})
    await until_handled(intake, "intake", before, 1, **cancels)
    response = await post(intake, a_form(**{"attribute[external_id]": key}))
    [created] = response.json()
    listed = await ask(georeport(intake).get_service_request, created["service_request_id"])
    assert response.status_code == 201 and created["service_notice"] == "已受理并按此前收到的撤销请求撤销,不派志愿者。"
    assert listed["status"] == "closed" and listed["status_notes"] == "cancelled: 已撤销,原因: 已自行解决"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_errors_are_the_specs(intake, fmt):
    def error(response: requests.Response) -> tuple[int, int, str]:
        if fmt == "json":
            [only] = response.json()
            return response.status_code, only["code"], only["description"]
        only = xmltodict.parse(response.content)["errors"]["error"]
        return response.status_code, int(only["code"]), only["description"]

    async def failure(call, *args, **kwargs) -> requests.Response:
        with pytest.raises(requests.HTTPError) as raised:
            await ask(call, *args, **kwargs)
        return raised.value.response
    client = georeport(intake, fmt)
    assert error(await failure(client.get_service_request, str(uuid.uuid4())))[:2] == (404, 404)
    assert error(await failure(client.get_service_request, "not-an-id"))[:2] == (404, 404)
    assert error(await failure(client.get_service_definition, "mediation"))[:2] == (404, 404)
    assert error(await failure(client.get_service_requests, start_date="yesterday"))[:2] == (400, 400)
    forbidden = await ask(requests.post, f"{intake.root}/requests.{fmt}", data=a_form(api_key="guess"))
    assert error(forbidden) == (403, 403, "missing or unknown api_key")
    form = a_form(service_code="dentistry")
    unknown = await ask(requests.post, f"{intake.root}/requests.{fmt}", data=form)
    status, code, description = error(unknown)
    assert (status, code) == (400, 400) and "unknown service category 'dentistry'" in description
    rejections = (await intake.get("/api/v1/rejections", params={"source": "grid-platform"})).json()
    assert any(r["external_id"] == form["attribute[external_id]"] and r["reason"] == description for r in rejections)
