"""The staff console's relay against real service apps (matching and intake on real ports, on the
real servers): the person's token reaches the service, which answers as it would them; the
method, query and JSON body are passed on, the status and body passed back; other services and
unplain paths are refused; a service that is down is a 503 that says which."""
import uuid
from urllib.parse import unquote

import pytest

from services.intake.app import SERVICE as INTAKE
from services.matching.app import SERVICE as MATCHING
from services.reporting.app import SERVICE as REPORTING
from tests.builders.matching import registered
from tests.conftest import isolated_settings
from tests.e2e.processes import free_port
from tests.identities import OPS, as_staff, as_volunteer, token
from tests.support import enrol, on_a_port, running

pytestmark = pytest.mark.integration

AREAS = "tests/areas.json"


@pytest.fixture(scope="module")
async def relay(servers):
    """reporting, relaying to matching and intake on their ports, and to a reporting that is not there."""
    with isolated_settings(servers) as own:
        own = own.model_copy(update={"matching_areas_file": AREAS, "intake_accept_unknown_sources": True})
        async with running(MATCHING, own) as matching, running(INTAKE, own) as intake, \
                on_a_port(matching.app) as matching_url, on_a_port(intake.app) as intake_url:
            volunteer = registered("east-1", "cooking", name="陈志愿")
            await enrol(matching, own, volunteer)
            down = f"http://127.0.0.1:{free_port()}"
            relaying = own.model_copy(update={"linli_matching_url": matching_url, "linli_intake_url": intake_url,
                                              "linli_reporting_url": down})
            async with running(REPORTING, relaying, headers={}) as reporting:
                reporting.matching = matching
                reporting.volunteer = volunteer
                yield reporting


async def signed_in(reporting, session_token: str) -> dict:
    """The session cookie the console's login sets for this token."""
    response = await reporting.post("/console/login", content=f"token={session_token}",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 303 and response.headers["location"] == "/console", response.text
    reporting.cookies.clear()  # each call says whose session it is
    return {"Cookie": f"linli_session={response.cookies['linli_session']}"}


async def test_the_sessions_token_reaches_the_service_which_answers_as_it_would_the_person(relay):
    east = await signed_in(relay, token("community_staff", "staff-east-1", area="east-1"))
    west = await signed_in(relay, token("community_staff", "staff-west-1", area="west-1"))
    assert (await relay.get("/console", headers=east)).status_code == 200
    seen = await relay.get("/console/api/matching/volunteers", headers=east)
    assert seen.status_code == 200
    assert seen.json() == (await relay.matching.get("/api/v1/volunteers", headers=as_staff("east-1"))).json()
    assert str(relay.volunteer.volunteer_id) in {row["volunteer_id"] for row in seen.json()}
    assert str(relay.volunteer.volunteer_id) not in {
        row["volunteer_id"] for row in (await relay.get("/console/api/matching/volunteers", headers=west)).json()}
    refused = await relay.get(f"/console/api/matching/volunteers/{relay.volunteer.volunteer_id}", headers=west)
    assert refused.status_code == 403 and "outside your area" in refused.json()["error"]  # the service's own refusal
    # A bearer header serves as well as the cookie (a script or a test).
    assert (await relay.get("/console/api/matching/volunteers", headers=as_staff("east-1"))).json() == seen.json()


async def test_method_query_and_body_go_through_and_the_status_and_body_come_back(relay):
    staff = await signed_in(relay, token("street_staff", "st-east", area="S-east"))
    unknown = uuid.uuid4()
    missing = await relay.get(f"/console/api/matching/requests/{unknown}", headers=staff)
    assert missing.status_code == 404 and str(unknown) in missing.text
    found = await relay.get("/console/api/intake/requests", params={"source": "hotline-12345", "external_id": "nope-1"},
                            headers=staff)
    assert found.status_code == 404 and "hotline-12345/nope-1" in found.text  # the query reached intake
    without = await relay.get("/console/api/intake/requests", headers=staff)
    assert without.status_code == 422
    submitted = await relay.post("/console/api/intake/requests", json={"source": "hotline-12345"}, headers=staff)
    assert submitted.status_code == 400 and "external_id" in submitted.json()["error"]  # the body reached intake
    wrong_method = await relay.delete("/console/api/matching/volunteers", headers=staff)
    assert wrong_method.status_code == 405
    assert "set-cookie" not in submitted.headers


@pytest.mark.parametrize("path", [
    "/console/api/notify/inbox/staff:east-1",
    "/console/api/operations/status",
    "/console/api/matching/%2e%2e/%2e%2e/metrics",
    "/console/api/matching/work/%2e%2e/%2e%2e/%2e%2e/metrics",
    "/console/api/matching/volunteers%2F..%2F..%2Fmetrics",
    "/console/api/intake/http:%2F%2Fevil.example%2Fx",
])
async def test_only_the_three_services_plain_api_paths_are_relayed(relay, path):
    staff = await signed_in(relay, token("community_staff", "staff-east-1", area="east-1"))
    response = await relay.get(path, headers=staff)
    assert response.status_code == 404, (unquote(path), response.text)
    assert "the console relays only" in response.json()["error"] or "not a path" in response.json()["error"]


async def test_a_service_that_is_down_is_a_503_that_names_it(relay):
    staff = await signed_in(relay, token("community_staff", "staff-east-1", area="east-1"))
    response = await relay.get("/console/api/reporting/reports/labels", headers=staff)
    assert response.status_code == 503
    assert response.json() == {"error": "reporting cannot be reached (ConnectError); try again"}


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    (as_volunteer("v-1"), 403),
    ({"Authorization": f"Bearer {token('report_viewer', 'viewer-1')}"}, 403),
    ({"Cookie": "linli_session=not-a-token"}, 401),
])
async def test_the_relay_serves_only_staff_and_ops_sessions(relay, headers, status):
    response = await relay.get("/console/api/matching/volunteers", headers=headers)
    assert response.status_code == status and response.json()["error"]


async def test_ops_may_look_through_it(relay):
    assert (await relay.get("/console/api/matching/volunteers", headers=OPS)).status_code == 200
    me = (await relay.get("/console/me", headers=OPS)).json()
    assert me["role"] == "ops" and me["may_act"] is False
