"""The whole flow over the real broker and database, the services running as processes:
an outside system publishes volunteers, then requests (some duplicated, some malformed), and
every request ends received once and assigned or escalated, every malformed one rejected with
its reason, every offer and escalation notified, and the report's counts add up."""
import uuid

import httpx
import pytest

from tests.conftest import KEYS
from tests.e2e.processes import system
from tests.identities import OPS
from tests.support import event_tap, eventually, publish_burst, until_handled

pytestmark = pytest.mark.e2e

TIMEOUT = 60


def volunteer(community: str, *skills: str) -> dict:
    return {"source": "volunteer-app", "external_id": f"v-{uuid.uuid4().hex[:8]}", "name": "志愿者",
            "phone": "13900000000", "community_code": community, "team": "映山红", "skills": list(skills),
            "max_weekly_hours": 40}


def request(community: str, category: str) -> dict:
    return {"source": "hotline-12345", "external_id": f"h-{uuid.uuid4().hex[:8]}", "category": category,
            "description": "独居老人需要帮助", "community_code": community,
            "beneficiary": {"name": "张奶奶", "phone": "13800000001", "tags": ["living_alone", "elderly"]}}


VOLUNTEERS = [volunteer("c-north", "cooking"), volunteer("c-north", "cooking", "cleaning"),
              volunteer("c-north", "cleaning"), volunteer("c-north", "medical"), volunteer("c-south", "legal")]
ASSIGNABLE = [request("c-north", "elder_care.meals") for _ in range(12)] + \
             [request("c-north", "health.checkup") for _ in range(4)]
UNASSIGNABLE = [request("c-north", "legal.consultation") for _ in range(4)] + \
               [request("c-south", "child.tutoring") for _ in range(4)]
# Who must hear of something: the volunteers with work, each community's staff (of its escalations).
COOKS_AND_DOCTOR = {f"volunteer:volunteer-app:{VOLUNTEERS[i]['external_id']}" for i in (0, 1, 3)}
STAFF = {"staff:c-north", "staff:c-south"}
MALFORMED = [b"\xc3\x28 not utf-8", b"{'single': 'quotes'}", b"[]",
             b'{"source": "grid-7", "external_id": "g-1"}',
             {**request("c-north", "elder_care.meals"), "category": "fortune_telling"},
             {**request("c-north", "elder_care.meals"), "description": "长" * 4001}]


def accepting(offer: dict) -> dict:
    return {"assignment_id": offer["assignment_id"], "source": offer["volunteer"]["source"],
            "volunteer_external_id": offer["volunteer"]["external_id"], "accept": True}


async def accepted_and_done(settings, tap, offers: list[dict], timeout: float = TIMEOUT) -> list[dict]:
    """The volunteers accept every offer from their app, then report each service done: the
    `request.completed` events."""
    await publish_burst(settings, [("assignment.respond", accepting(offer), None) for offer in offers])
    await tap.wait_for("request.assigned", len(offers), timeout)
    await publish_burst(settings, [("service.complete", {"assignment_id": offer["assignment_id"], "hours": 1.5,
                                                         "people_served": 1}, None) for offer in offers])
    return await tap.wait_for("request.completed", len(offers), timeout)


def get(service, path: str, **params):
    response = httpx.get(f"{service.url}{path}", params=params, timeout=5, headers=OPS)
    assert response.status_code == 200, response.text
    return response.json()


async def test_requests_flow_from_intake_to_matching_to_notify_with_reporting_listening(fresh_settings, tmp_path):
    settings = fresh_settings
    valid = ASSIGNABLE + UNASSIGNABLE
    with system(settings, tmp_path, MATCHING_MAX_OPEN_ASSIGNMENTS="10") as services:
        async with event_tap(settings) as tap:
            await publish_burst(settings, [("volunteer.register", v, None) for v in VOLUNTEERS])

            async def roster_complete():
                return len(get(services["matching"], "/api/v1/volunteers")) == len(VOLUNTEERS)
            await eventually(roster_complete, TIMEOUT)

            sent = await publish_burst(settings, [("request.submit", r, None) for r in valid])
            await publish_burst(settings, [("request.submit", body, None) for body in MALFORMED])
            await publish_burst(settings, [("request.submit", valid[i], sent[i]) for i in (0, 5, 17)])  # redelivered
            await publish_burst(settings, [("request.submit", valid[i], None) for i in (1, 20)])  # re-published

            async with httpx.AsyncClient(base_url=services["intake"].url, headers=OPS) as intake:
                submitted = len(valid) + len(MALFORMED) + 5  # every copy too, before counting
                await until_handled(intake, "intake", 0, submitted, TIMEOUT, handler="intake.request-submit")
            received = await tap.wait_for("request.received", len(valid), TIMEOUT)
            rejected = await tap.wait_for("request.rejected", len(MALFORMED), TIMEOUT)

            offers = await tap.wait_for("assignment.offered", len(ASSIGNABLE), TIMEOUT)
            await tap.wait_for("request.escalated", len(UNASSIGNABLE), TIMEOUT)
            # The volunteers answer from their app, and later report the service done.
            completed = await accepted_and_done(settings, tap, offers)

            async def everyone_told():  # how many messages varies: staff hear of a backlog, not of each
                told = tap.of("notification.sent")
                return told if COOKS_AND_DOCTOR | STAFF <= {n["recipient"] for n in told} else None
            notified = await eventually(everyone_told, TIMEOUT)

            async def reported():
                figures = get(services["reporting"], "/api/v1/reports/summary")["figures"]
                totals = {name: figures[name] for name in ("received", "assigned", "escalated", "completed", "rejected")}
                return totals if totals["assigned"] + totals["escalated"] >= len(valid) \
                    and totals["rejected"] >= len(MALFORMED) and totals["completed"] >= len(ASSIGNABLE) else None
            totals = await eventually(reported, TIMEOUT)

    assert sorted(e["external_id"] for e in received) == sorted(r["external_id"] for r in valid)
    assert len(tap.of("request.received")) == len(valid)  # nothing came in twice
    assigned = {e["external_id"] for e in tap.of("request.assigned")}
    escalated = {e["external_id"] for e in tap.of("request.escalated")}
    assert assigned == {r["external_id"] for r in ASSIGNABLE}
    assert escalated == {r["external_id"] for r in UNASSIGNABLE}
    assert len(tap.of("assignment.offered")) == len(ASSIGNABLE)  # nobody declined: one offer each
    assert sum(e["hours"] for e in completed) == 1.5 * len(ASSIGNABLE)
    chain = {e["request_id"]: e["correlation_id"] for e in received}
    assert all(chain[e["request_id"]] == e["correlation_id"] for e in tap.of("request.assigned"))

    reasons = " | ".join(e["reason"] for e in rejected)
    for expected in ("not UTF-8", "not JSON", "must be a JSON object", "category: Field required",
                     "unknown service category 'fortune_telling'", "at most 4000 characters"):
        assert expected in reasons
    assert totals == {"received": len(valid), "assigned": len(ASSIGNABLE), "escalated": len(UNASSIGNABLE),
                      "completed": len(ASSIGNABLE), "rejected": len(MALFORMED)}
    recipients = {n["recipient"] for n in notified}
    volunteers = {f"volunteer:volunteer-app:{v['external_id']}" for v in VOLUNTEERS}
    assert recipients & volunteers == COOKS_AND_DOCTOR  # the cleaner and the lawyer had nothing to do


async def test_status_and_rejections_are_readable_over_http(fresh_settings, tmp_path):
    """A publisher follows its own requests by its own key, and reads why others were refused."""
    settings = fresh_settings
    meals, lawyer = request("c-east", "elder_care.meals"), request("c-east", "legal.consultation")
    with system(settings, tmp_path) as services:
        intake = services["intake"]
        await publish_burst(settings, [("volunteer.register", volunteer("c-east", "cooking"), None)])

        async def roster_ready():
            return get(services["matching"], "/api/v1/volunteers", community="c-east")
        await eventually(roster_ready, TIMEOUT)
        created = httpx.post(f"{intake.url}/api/v1/requests", json=meals, timeout=5,
                             headers={"X-Api-Key": KEYS["hotline-12345"]})
        assert created.status_code == 202
        await publish_burst(settings, [("request.submit", lawyer, None),
                                       ("request.submit", b"\x00\x01", None)])

        async def settled(key):
            async def check():
                response = httpx.get(f"{intake.url}/api/v1/requests", timeout=5, headers=OPS,
                                     params={"source": "hotline-12345", "external_id": key})
                return response.status_code == 200 and response.json()["status"] != "received" and response.json()
            return await eventually(check, TIMEOUT)
        escalated = await settled(lawyer["external_id"])
        assert escalated["status"] == "escalated" and "legal" in escalated["status_detail"]["reason"]

        async def offered():
            view = get(services["matching"], f"/api/v1/requests/{created.json()['request_id']}")
            return view["occurrences"][0]["assignments"]
        [offer] = await eventually(offered, TIMEOUT)
        await publish_burst(settings, [("assignment.respond", {
            "assignment_id": offer["assignment_id"], "source": "volunteer-app", "accept": True,
            "volunteer_external_id": get(services["matching"], "/api/v1/volunteers")[0]["external_id"]}, None)])
        assert (await settled(meals["external_id"]))["status"] == "assigned"

        async def rejection_listed():
            return get(intake, "/api/v1/rejections")
        [rejection] = await eventually(rejection_listed, TIMEOUT)
        assert "not JSON" in rejection["reason"] and rejection["body_excerpt"] == "\\x00\\x01"
        metrics = httpx.get(f"{intake.url}/metrics", timeout=5, headers=OPS).text
        assert 'linli_intake_submissions_total{outcome="received",submission="request.submit"} 2.0' in metrics
