"""Every kind of submission over the real broker into intake, and every kind of bad input:
the consumer keeps going, and a good message published after the bad ones is still processed."""
import uuid
from datetime import timedelta

import pytest

from services.intake.app import SERVICE
from shared.events import RequestAssigned, Staffed
from tests.clock import SetClock
from tests.conftest import KEYS
from tests.support import announce, event_tap, eventually, handled, publish, publish_burst, running, until_handled

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def intake(settings):
    async with running(SERVICE, settings) as client:
        yield client


def key() -> str:
    return uuid.uuid4().hex[:10]


def case(**changes) -> dict:
    return {"source": "grid-platform", "external_id": f"case-{key()}", "community_code": "c-north",
            "grid_code": "g-3", "dispute_type": "parking", "summary": "车位纠纷",
            "parties": [{"name": "李先生", "phone": "13800000011", "role": "applicant"},
                        {"name": "王女士", "role": "respondent"}], **changes}


def request(source: str, phone: str, **changes) -> dict:
    return {"source": source, "external_id": f"r-{key()}", "category": "elder_care.home_visit",
            "description": "空巢老人需要探访", "community_code": "c-west",
            "beneficiary": {"name": "陈爷爷", "phone": phone, "tags": ["empty_nest"]}, **changes}


async def test_a_case_is_received_once_at_its_level(intake, settings):
    minor, serious = case(), case(severity="serious")
    cases = {"handler": "intake.case-submit"}
    before = await handled(intake, "intake", **cases)
    async with event_tap(settings) as tap, event_tap(settings, "linli.personal") as whole:
        await publish(settings, "case.submit", minor)
        await publish(settings, "case.submit", minor)  # the same case again, new message id
        await publish(settings, "case.submit", serious)
        await until_handled(intake, "intake", before, 3, **cases)
        received = await tap.wait_for("case.received", 2)
        [first, *_] = await whole.wait_for("case.received", 2)
    levels = {event["external_id"]: event["level"] for event in received}
    assert levels == {minor["external_id"]: "grid", serious["external_id"]: "community"}
    assert len(tap.of("case.received")) == 2
    # observers see the case, not its parties nor its summary: those go to the services only
    assert not {"parties", "summary"} & {key for event in received for key in event}
    assert [p["role"] for p in first["parties"]] == ["applicant", "respondent"] and first["summary"]


async def test_responses_and_completions_are_announced_for_matching(intake, settings):
    assignment_id = str(uuid.uuid4())
    response = {"assignment_id": assignment_id, "volunteer_external_id": "v-7", "source": "volunteer-app",
                "accept": True}
    completion = {"assignment_id": assignment_id, "hours": 2.5, "people_served": 3, "note": "打扫完毕"}
    async with event_tap(settings) as tap:
        await publish(settings, "assignment.respond", response)
        await publish(settings, "service.complete", completion)
        [responded] = await tap.wait_for("assignment.responded")
        [reported] = await tap.wait_for("completion.reported")
    assert responded["assignment_id"] == assignment_id and responded["accept"] is True
    assert reported["hours"] == 2.5 and reported["people_served"] == 3


async def test_the_same_need_from_a_second_source_is_linked_not_dispatched(intake, settings):
    phone = f"139{uuid.uuid4().int % 10 ** 8:08d}"
    first, second = request("hotline-12345", phone), request("grid-platform", phone)
    other_service = request("grid-platform", phone, category="health.checkup")
    async with event_tap(settings) as tap:
        await publish(settings, "request.submit", first)
        await tap.wait_for("request.received")
        await publish(settings, "request.submit", second)
        await publish(settings, "request.submit", other_service)
        [duplicate] = await tap.wait_for("request.duplicate")
        await tap.wait_for("request.received", 2)
    received = {e["external_id"]: e["request_id"] for e in tap.of("request.received")}
    assert set(received) == {first["external_id"], other_service["external_id"]}
    assert duplicate["external_id"] == second["external_id"]
    assert duplicate["duplicate_of"] == received[first["external_id"]]
    status = (await intake.get(f"/api/v1/requests/{duplicate['request_id']}")).json()
    assert status["status"] == "duplicate" and status["status_detail"]["duplicate_of"] == duplicate["duplicate_of"]


async def test_the_same_need_is_linked_only_within_the_window_on_intakes_clock(settings):
    clock, phone = SetClock(), f"136{uuid.uuid4().int % 10 ** 8:08d}"
    async with running(SERVICE, settings, clock=clock) as intake:
        async def submitted(source: str) -> dict:
            response = await intake.post("/api/v1/requests", json=request(source, phone),
                                         headers={"X-Api-Key": KEYS[source]})
            return (await intake.get(f"/api/v1/requests/{response.json()['request_id']}")).json()
        first = await submitted("hotline-12345")
        clock.advance(timedelta(hours=settings.intake_duplicate_window_hours))
        linked = await submitted("grid-platform")
        clock.advance(timedelta(seconds=1))
        new = await submitted("volunteer-app")
    assert linked["status"] == "duplicate" and linked["status_detail"]["duplicate_of"] == first["request_id"]
    assert new["status"] == "received"


BAD = [
    ("request.submit", b"\xff\xfe\xfa", "not UTF-8"),
    ("request.submit", b"{\"source\": ", "not JSON"),
    ("request.submit", b'{"source": "hotline-12345", "items": [1, 2]}', "Extra inputs are not permitted"),
    ("request.submit", {"source": "hotline-12345", "external_id": "x", "category": "astrology",
                        "description": "d", "community_code": "c"}, "unknown service category 'astrology'"),
    ("volunteer.register", {"source": "volunteer-app", "external_id": "v", "name": "n", "phone": "13800000000",
                            "community_code": "c", "skills": ["juggling"]}, "unknown skills ['juggling']"),
    ("request.submit", {"source": "hotline-12345", "external_id": "x", "category": "housekeeping",
                        "description": "长" * 4001, "community_code": "c"}, "at most 4000 characters"),
    ("service.complete", {"assignment_id": str(uuid.uuid4()), "hours": -2, "people_served": 1},
     "hours: Input should be greater than 0"),
    ("request.submit", {"source": "hotline-12345", "external_id": "x", "category": "housekeeping",
                        "description": "d", "community_code": "东城/社区 1"}, "community_code: String should match"),
    ("case.submit", b"{" + b" " * 1_000_000 + b"}", "larger than the limit"),
    ("assignment.respond", {"assignment_id": str(uuid.uuid4()), "volunteer_external_id": "v", "source": "stranger",
                            "accept": True}, "unknown source 'stranger'"),
]


def rejections(tap) -> list[dict]:
    return [e for kind in ("request", "volunteer", "case", "response", "completion") for e in tap.of(f"{kind}.rejected")]


async def test_every_kind_of_bad_input_is_rejected_with_its_reason_and_the_stream_goes_on(intake, settings):
    good = case()
    async with event_tap(settings) as tap:
        await publish_burst(settings, [(kind, body, None) for kind, body, _ in BAD] + [("case.submit", good, None)])
        await tap.wait_for("case.received")

        async def all_rejected():
            return len(rejections(tap)) >= len(BAD)
        await eventually(all_rejected)
    reasons = " | ".join(e["reason"] for e in rejections(tap))
    for _, _, reason in BAD:
        assert reason in reasons
    listed = (await intake.get("/api/v1/rejections", params={"limit": 50})).json()
    assert {row["submission"] for row in listed} >= {"request.submit", "volunteer.register", "service.complete",
                                                      "case.submit", "assignment.respond"}
    assert all(len(row["body_excerpt"]) <= 2000 for row in listed)
    assert tap.of("case.received")[0]["external_id"] == good["external_id"]


async def test_a_publisher_cancels_its_own_request_once(intake, settings):
    wanted = request("hotline-12345", "13800000077")
    cancel = {"source": "hotline-12345", "external_id": wanted["external_id"], "reason": "家属已自行照顾"}
    cancels = {"handler": "intake.request-cancel"}
    before = await handled(intake, "intake", **cancels)
    async with event_tap(settings) as tap:
        await publish(settings, "request.submit", wanted)
        [received] = await tap.wait_for("request.received")
        first = await publish(settings, "request.cancel", cancel)
        [cancelled] = await tap.wait_for("request.cancelled")
        await publish(settings, "request.cancel", cancel, message_id=first)  # redelivered: nothing happens
        await publish(settings, "request.cancel", cancel)  # a second cancel: refused, it is already cancelled
        await until_handled(intake, "intake", before, 3, **cancels)
        [refused] = await tap.wait_for("cancellation.rejected")
    assert cancelled["request_id"] == received["request_id"] and cancelled["reason"] == "家属已自行照顾"
    assert len(tap.of("request.cancelled")) == 1
    assert refused["reason"] == f"request hotline-12345/{wanted['external_id']} is already cancelled"
    status = (await intake.get(f"/api/v1/requests/{received['request_id']}")).json()
    assert status["status"] == "cancelled" and status["status_detail"] == {"reason": "家属已自行照顾"}


async def test_of_cancels_sent_at_once_one_wins(intake, settings):
    wanted = request("hotline-12345", "13800000079")
    cancel = {"source": "hotline-12345", "external_id": wanted["external_id"]}
    async with event_tap(settings) as tap:
        await publish(settings, "request.submit", wanted)
        await tap.wait_for("request.received")
        await publish_burst(settings, [("request.cancel", {**cancel, "reason": f"第 {n} 次"}, None) for n in range(8)])
        await tap.wait_for("cancellation.rejected", 7)
        await tap.wait_for("request.cancelled")
    assert len(tap.of("request.cancelled")) == 1


async def test_a_cancelled_request_stays_cancelled_when_matching_reports_on_it_late(intake, settings):
    """matching may assign the request before it hears of the cancellation."""
    wanted = request("hotline-12345", "13800000078")
    follows = {"handler": "intake.request-assigned"}
    async with event_tap(settings) as tap:
        await publish(settings, "request.submit", wanted)
        [received] = await tap.wait_for("request.received")
        await publish(settings, "request.cancel", {"source": "hotline-12345", "external_id": wanted["external_id"]})
        await tap.wait_for("request.cancelled")
    before = await handled(intake, "intake", **follows)
    volunteer = {"volunteer_id": uuid.uuid4(), "source": "volunteer-app", "external_id": "v-1"}
    await announce(settings, RequestAssigned(
        correlation_id="c", request_id=received["request_id"], source="hotline-12345",
        external_id=wanted["external_id"], category=wanted["category"], community_code=wanted["community_code"],
        volunteers=(Staffed(**volunteer, assignment_id=uuid.uuid4()),)))
    await until_handled(intake, "intake", before, 1, **follows)
    status = (await intake.get(f"/api/v1/requests/{received['request_id']}")).json()
    assert status["status"] == "cancelled" and status["status_detail"] == {"reason": None}


async def test_a_request_is_cancelled_over_http_by_its_own_publisher_only(intake, settings):
    phone = f"137{uuid.uuid4().int % 10 ** 8:08d}"
    first, linked = request("hotline-12345", phone), request("grid-platform", phone)
    async with event_tap(settings) as tap:
        await publish(settings, "request.submit", first)
        await tap.wait_for("request.received")
        await publish(settings, "request.submit", linked)
        [duplicate] = await tap.wait_for("request.duplicate")

    async def cancel(body: dict, source: str):
        return await intake.post("/api/v1/cancellations", json=body, headers={"X-Api-Key": KEYS[source]})
    hotline_cancel = {"source": "hotline-12345", "external_id": first["external_id"], "reason": "已上门解决"}
    not_mine = await cancel(hotline_cancel, "grid-platform")
    assert not_mine.status_code == 400 and "is not the one of the API key" in not_mine.json()["error"]
    unlinked = await cancel({"source": "grid-platform", "external_id": linked["external_id"]}, "grid-platform")
    assert unlinked.status_code == 400
    assert unlinked.json()["error"] == (f"request grid-platform/{linked['external_id']} was linked to request "
                                        f"{duplicate['duplicate_of']} (the same need from another source) "
                                        "and never dispatched")
    cancelled = await cancel(hotline_cancel, "hotline-12345")
    assert cancelled.status_code == 200
    assert cancelled.json() == {"request_id": duplicate["duplicate_of"], "status": "cancelled"}
    again = await cancel(hotline_cancel, "hotline-12345")
    assert again.status_code == 400 and again.json()["error"].endswith("is already cancelled")
    status = (await intake.get(f"/api/v1/requests/{duplicate['duplicate_of']}")).json()
    assert status["status"] == "cancelled" and status["status_detail"] == {"reason": "已上门解决"}
