"""intake against the real RabbitMQ and PostgreSQL: submissions over the broker and HTTP."""
import uuid

import pytest

from services.intake.app import SERVICE
from shared.service import VERSION
from tests.conftest import KEYS
from tests.support import event_tap, eventually, handled, publish, running, until_handled

pytestmark = pytest.mark.integration

HOTLINE = {"X-Api-Key": KEYS["hotline-12345"]}


def a_request(**changes):
    return {"source": "hotline-12345", "external_id": f"r-{uuid.uuid4().hex[:8]}", "category": "elder_care.meals",
            "description": "独居老人需要助餐", "community_code": "c-east", **changes}


@pytest.fixture(scope="module")
async def intake(settings):
    async with running(SERVICE, settings) as client:
        yield client


async def test_request_over_the_broker_is_received_once_even_if_sent_twice(intake, settings):
    request = a_request()
    submit = {"handler": "intake.request-submit"}
    before = await handled(intake, "intake", **submit)
    async with event_tap(settings) as tap:
        message_id = await publish(settings, "request.submit", request)
        await publish(settings, "request.submit", request, message_id=message_id)  # a redelivery
        await publish(settings, "request.submit", request)  # a re-publish, new message id
        await until_handled(intake, "intake", before, 3, **submit)
        [received] = await tap.wait_for("request.received")
    assert received["external_id"] == request["external_id"] and received["source"] == "hotline-12345"
    async with intake.app.state.runtime.pool.acquire() as conn:  # what all three copies committed
        announced = await conn.fetchval("SELECT count(*) FROM outbox WHERE routing_key = 'request.received' "
                                        "AND convert_from(body, 'UTF8')::jsonb ->> 'external_id' = $1",
                                        request["external_id"])
    assert announced == 1


async def test_malformed_submissions_are_rejected_with_reasons_and_the_stream_goes_on(intake, settings):
    bad_bodies = [b"\xff\xfe\x00 not text", b"not json {", b"[1, 2]", b'{"source": "app"}',
                  b"x" * 1_000_000]
    async with event_tap(settings) as tap:
        for body in bad_bodies:
            await publish(settings, "request.submit", body)
        good = a_request()
        await publish(settings, "request.submit", good)
        rejected = await tap.wait_for("request.rejected", len(bad_bodies))
        [received] = await tap.wait_for("request.received")
    assert received["external_id"] == good["external_id"]
    reasons = sorted(r["reason"] for r in rejected)
    assert any("not UTF-8" in r for r in reasons)
    assert any("not JSON" in r for r in reasons)
    assert any("JSON object" in r for r in reasons)
    assert any("larger than the limit" in r for r in reasons)
    shape = next(r for r in rejected if r["source"] == "app")
    assert "external_id: Field required" in shape["reason"]
    listed = (await intake.get("/api/v1/rejections", params={"limit": 20})).json()
    assert {row["reason"] for row in listed} >= set(reasons)


async def test_http_submission_is_the_same_request_as_over_the_broker(intake, settings):
    request = a_request(source="grid-platform")
    grid = {"X-Api-Key": KEYS["grid-platform"]}
    first = await intake.post("/api/v1/requests", json=request, headers=grid)
    assert first.status_code == 202
    again = await intake.post("/api/v1/requests", json=request, headers=grid)
    assert again.status_code == 200 and again.json() == {"request_id": first.json()["request_id"], "duplicate": True}
    await publish(settings, "request.submit", request)  # the same key over the broker changes nothing
    status = (await intake.get(f"/api/v1/requests/{first.json()['request_id']}")).json()
    assert status["status"] == "received" and status["external_id"] == request["external_id"]
    by_key = await intake.get("/api/v1/requests", params={"source": "grid-platform",
                                                         "external_id": request["external_id"]})
    assert by_key.json()["request_id"] == first.json()["request_id"]


async def test_http_rejects_bad_input_with_its_reason(intake):
    response = await intake.post("/api/v1/requests", json=a_request(category="dentistry"), headers=HOTLINE)
    assert response.status_code == 400
    assert "unknown service category 'dentistry'" in response.json()["error"]
    assert (await intake.get(f"/api/v1/requests/{uuid.uuid4()}")).status_code == 404


async def test_volunteer_registration_and_update_keep_one_volunteer_id(intake, settings):
    volunteer = {"source": "volunteer-app", "external_id": "v-1", "name": "王芳", "phone": "13800000001",
                 "community_code": "c-east", "team": "康乃馨", "skills": ["cooking", "cleaning"]}
    async with event_tap(settings) as tap:
        await publish(settings, "volunteer.register", volunteer)
        await publish(settings, "volunteer.register", {**volunteer, "skills": ["cooking"]})
        await publish(settings, "volunteer.register", {**volunteer, "skills": ["astrology"]})
        registered = await tap.wait_for("volunteer.registered", 2)
        [rejected] = await tap.wait_for("volunteer.rejected")
    assert registered[0]["volunteer_id"] == registered[1]["volunteer_id"]
    assert registered[1]["skills"] == ["cooking"]
    assert "unknown skills ['astrology']" in rejected["reason"] and rejected["external_id"] == "v-1"


async def test_status_follows_assignment_and_completion_events(intake, settings):
    created = (await intake.post("/api/v1/requests", json=a_request(), headers=HOTLINE)).json()
    volunteer = {"volunteer_id": str(uuid.uuid4()), "source": "volunteer-app", "external_id": "v-9",
                 "assignment_id": str(uuid.uuid4())}
    about = {"correlation_id": "c", "request_id": created["request_id"], "source": "hotline-12345", "external_id": "x",
             "category": "elder_care.meals", "community_code": "c-east", "occurrence": 1}

    async def status_is(expected):
        async def check():
            body = (await intake.get(f"/api/v1/requests/{created['request_id']}")).json()
            return body if body["status"] == expected else None
        return await eventually(check)

    assigned = {**about, "event_id": str(uuid.uuid4()), "occurred_at": "2030-01-01T00:00:00Z",
                "volunteers": [volunteer]}
    await publish(settings, "request.assigned", assigned, message_id=assigned["event_id"], exchange="linli.events")
    assert (await status_is("assigned"))["status_detail"]["volunteers"] == [volunteer]
    completed = {**about, "event_id": str(uuid.uuid4()), "occurred_at": "2030-01-01T03:00:00Z", "hours": 2.5,
                 "people_served": 1, "volunteers": [volunteer], "next_occurrence": None}
    await publish(settings, "request.completed", completed, message_id=completed["event_id"], exchange="linli.events")
    assert (await status_is("completed"))["status_detail"]["hours"] == 2.5


async def test_a_recurring_request_is_received_again_until_its_last_occurrence(intake, settings):
    created = (await intake.post("/api/v1/requests", json=a_request(recurrence={"every": "week", "times": 2}),
                                 headers=HOTLINE)).json()
    volunteers = [{"volunteer_id": str(uuid.uuid4()), "source": "volunteer-app", "external_id": "v-8",
                   "assignment_id": str(uuid.uuid4())}]
    about = {"correlation_id": "c", "request_id": created["request_id"], "source": "hotline-12345", "external_id": "x",
             "category": "elder_care.meals", "community_code": "c-east", "volunteers": volunteers}

    async def after(routing_key: str, at: str, **fields) -> dict:
        event = {**about, "event_id": str(uuid.uuid4()), "occurred_at": at, **fields}
        await publish(settings, routing_key, event, message_id=event["event_id"], exchange="linli.events")

        async def followed():
            body = (await intake.get(f"/api/v1/requests/{created['request_id']}")).json()
            return body if body["updated_at"].startswith(at[:19]) else None
        return await eventually(followed)

    first = await after("request.completed", "2030-02-01T03:00:00+00:00", occurrence=1, hours=1.0,
                        people_served=1, next_occurrence=2)
    assert first["status"] == "received"
    assert first["status_detail"] == {"occurrence": 1, "hours": 1.0, "people_served": 1, "next_occurrence": 2}
    last = await after("request.missed", "2030-02-08T03:00:00+00:00", occurrence=2,
                       window_end="2030-02-08T02:00:00+00:00", next_occurrence=None)
    assert last["status"] == "missed"
    assert last["status_detail"] == {"occurrence": 2, "window_end": "2030-02-08T02:00:00Z", "next_occurrence": None}


async def test_operations_endpoints_answer(intake):
    assert (await intake.get("/healthz")).json() == {"status": "ok"}
    ready = (await intake.get("/readyz")).json()
    assert ready == {"ready": True, "broker": True, "database": True,
                     "workers": {"outbox relay": "ok", "retention": "ok", "status webhooks": "ok",
                                 "early cancellations": "ok"}, "version": VERSION}
    metrics = (await intake.get("/metrics")).text
    assert "linli_outbox_published_total" in metrics and "linli_intake_submissions_total" in metrics


async def test_readiness_fails_when_the_database_is_gone(settings):
    async with running(SERVICE, settings) as client:
        await client.app.state.runtime.pool.close()
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["ready"] is False and response.json()["database"] is False


async def test_only_known_sources_may_publish_and_http_callers_prove_theirs(intake, settings):
    stranger = a_request(source="unknown-system")
    async with event_tap(settings) as tap:
        await publish(settings, "request.submit", stranger)
        [rejected] = await tap.wait_for("request.rejected")
    assert rejected["reason"].startswith("unknown source 'unknown-system'")
    assert rejected["external_id"] == stranger["external_id"]
    no_key = await intake.post("/api/v1/requests", json=a_request())
    assert no_key.status_code == 401 and "API key" in no_key.json()["error"]
    wrong_key = await intake.post("/api/v1/requests", json=a_request(), headers={"X-Api-Key": "guess"})
    assert wrong_key.status_code == 401
    posing = await intake.post("/api/v1/requests", json=a_request(), headers={"X-Api-Key": KEYS["grid-platform"]})
    assert posing.status_code == 400
    assert posing.json()["error"] == "source 'hotline-12345' is not the one of the API key ('grid-platform')"


async def test_in_development_any_source_may_publish_without_a_key(settings):
    async with running(SERVICE, settings.model_copy(update={"intake_sources_file": None,
                                                            "intake_accept_unknown_sources": True})) as intake:
        response = await intake.post("/api/v1/requests", json=a_request(source="any-system"))
    assert response.status_code == 202


async def test_the_publisher_hears_what_staff_did_by_hand(intake, settings):
    """Matching's events of the staff's actions move the request's status as its publisher sees it;
    a request.cancelled or request.duplicate without staff (intake's own) changes nothing here."""
    staff = {"subject": "staff-1", "role": "community_staff", "area": "c-east"}

    async def after(routing_key: str, **fields) -> dict:
        created = (await intake.post("/api/v1/requests", json=a_request(), headers=HOTLINE)).json()
        event = {"correlation_id": "c", "request_id": created["request_id"], "source": "hotline-12345",
                 "external_id": "x", "category": "elder_care.meals", "community_code": "c-east",
                 "event_id": str(uuid.uuid4()), "occurred_at": "2030-03-01T03:00:00+00:00", **fields}
        before = await handled(intake, "intake")
        await publish(settings, routing_key, event, message_id=event["event_id"], exchange="linli.events")
        await until_handled(intake, "intake", before, 1)
        return (await intake.get(f"/api/v1/requests/{created['request_id']}")).json()

    handled_by_staff = await after("request.handled_by_staff", occurrence=1, hours=1.5, people_served=2,
                                   staff=staff, note="上门送餐")
    assert handled_by_staff["status"] == "completed"
    assert handled_by_staff["status_detail"] == {"occurrence": 1, "hours": 1.5, "people_served": 2,
                                                 "next_occurrence": None, "handled_by_staff": True}
    cancelled = await after("request.cancelled", cancelled_by=staff, reason="not needed: 家属已照顾",
                            reason_code="not_needed", reason_params={"note": "家属已照顾"})
    assert (cancelled["status"], cancelled["status_detail"]["by"]) == ("cancelled", "staff")
    other = str(uuid.uuid4())
    assert (await after("request.duplicate", duplicate_of=other, linked_by=staff))["status_detail"] == {
        "duplicate_of": other}
    assert (await after("request.cancelled", reason="no longer needed"))["status"] == "received"
    assert (await after("request.duplicate", duplicate_of=other))["status"] == "received"
