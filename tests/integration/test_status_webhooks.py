"""Publishers follow their own requests without polling: every status change reaches the
source's webhook, signed and retried until it is taken."""
import json
import uuid
from datetime import timedelta

import pytest

from services.intake.app import SERVICE
from services.intake.sources import key_hash
from shared.events import RequestAssigned, RequestCompleted, RequestEscalated, Staffed
from tests.clock import SetClock
from tests.support import announce, eventually, handled, publish, running, until_handled
from tests.webhook_receiver import SECRET, receiving, signed_by_secret

pytestmark = pytest.mark.integration


def sources_file(tmp_path, url: str) -> str:
    path = tmp_path / "sources.json"
    path.write_text(json.dumps([
        {"source": "hotline-12345", "name": "12345", "api_key_sha256": [key_hash("k1")], "webhook_url": url,
         "webhook_secret": SECRET},
        {"source": "grid-platform", "name": "网格", "api_key_sha256": [key_hash("k2")]},
    ]))
    return str(path)


async def tried(intake, times: int) -> bool:
    """intake has recorded `times` tries of the update it retries (the test's database has no other)."""
    async with intake.app.state.runtime.pool.acquire() as conn:
        return await conn.fetchval("SELECT max(attempts) FROM status_update") == times


async def retried_after(intake, receiver, clock: SetClock, delay: timedelta, calls: int) -> None:
    """The failed update is tried again `delay` after its last failed try, not a moment sooner."""
    await eventually(lambda: tried(intake, calls - 1))  # the failure recorded, on the clock as it stands
    clock.advance(delay - timedelta(milliseconds=1))
    await intake.app.state.deps.status_webhooks.deliver_due()
    assert len(receiver.calls) == calls - 1
    clock.advance(timedelta(milliseconds=1))
    await eventually(lambda: len(receiver.calls) == calls)


async def test_a_source_hears_each_status_change_of_its_requests_signed_and_retried(fresh_settings, tmp_path):
    settings, clock = fresh_settings, SetClock()  # its own vhost: no other test's events wait in intake's queues
    async with receiving() as receiver:
        receiver.failures = 2  # the publisher's endpoint is down at first: "received" is retried twice
        config = settings.model_copy(update={"intake_sources_file": sources_file(tmp_path, receiver.url)})
        base = timedelta(seconds=config.intake_webhook_retry_base_seconds)  # then twice as long
        async with running(SERVICE, config, clock=clock) as intake:
            request = {"source": "hotline-12345", "external_id": f"h-{uuid.uuid4().hex[:8]}",
                       "category": "legal.consultation", "description": "法律咨询", "community_code": "c-9"}
            withdrawn = {**request, "external_id": f"h-{uuid.uuid4().hex[:8]}"}
            about = {"correlation_id": "c", "source": "hotline-12345", "external_id": request["external_id"],
                     "category": "legal.consultation", "community_code": "c-9"}
            created = (await intake.post("/api/v1/requests", json=request, headers={"X-Api-Key": "k1"})).json()
            await retried_after(intake, receiver, clock, base, calls=2)
            await retried_after(intake, receiver, clock, 2 * base, calls=3)
            await announce(settings, RequestEscalated(**about, request_id=created["request_id"],
                                                      reason="no lawyer on duty", urgency="normal"))
            await publish(settings, "request.submit", {**request, "external_id": "bad", "category": "nope"})
            await publish(settings, "request.submit", {"source": "grid-platform", "external_id": "g",
                                                       "category": "nope", "description": "d", "community_code": "c"})
            cancelled_id = (await intake.post("/api/v1/requests", json=withdrawn,
                                              headers={"X-Api-Key": "k1"})).json()["request_id"]
            await publish(settings, "request.cancel", {"source": "hotline-12345", "reason": "已自行解决",
                                                       "external_id": withdrawn["external_id"]})

            def delivered():
                return [json.loads(body) for body, _ in receiver.calls[receiver.failures:]]
            await eventually(lambda: len(delivered()) >= 5)
            volunteers = (Staffed(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id="v-1",
                                  assignment_id=uuid.uuid4()),)
            # matching assigns the cancelled request before it hears of the cancellation: no status change.
            assigned = {"handler": "intake.request-assigned"}
            before = await handled(intake, "intake", **assigned)
            await announce(settings, RequestAssigned(**{**about, "external_id": withdrawn["external_id"]},
                                                     request_id=cancelled_id, volunteers=volunteers))
            await until_handled(intake, "intake", before, 1, **assigned)
            # The first request is done, after its escalation so that their order is known.
            await announce(settings, RequestCompleted(**about, request_id=created["request_id"], hours=2.0,
                                                      people_served=1, volunteers=volunteers))
            await eventually(lambda: len(delivered()) >= 6)
    updates = delivered()
    assert all(signed_by_secret(body, header) for body, header in receiver.calls[receiver.failures:])
    mine = [u for u in updates if u.get("request_id") == created["request_id"]]
    assert [u["status"] for u in mine] == ["received", "escalated", "completed"]  # in order, the first retried
    assert mine[1]["reason"] == "no lawyer on duty" and mine[0]["external_id"] == request["external_id"]
    assert (mine[2]["hours"], mine[2]["people_served"], mine[2]["next_occurrence"]) == (2.0, 1, None)
    cancelled = [u for u in updates if u.get("external_id") == withdrawn["external_id"]]
    assert [(u["status"], u.get("reason")) for u in cancelled] == [("received", None), ("cancelled", "已自行解决")]
    [rejected] = [u for u in updates if u["status"] == "rejected"]
    assert rejected["external_id"] == "bad" and "unknown service category 'nope'" in rejected["reason"]
    assert {u["source"] for u in updates} == {"hotline-12345"}  # grid-platform has no webhook
    assert len(receiver.calls) == receiver.failures + 6  # the failures were retried, nothing sent twice

