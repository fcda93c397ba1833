"""Order does not matter: a request and its cancellations published through `linli.intake` in
every order (each handled before the next is published, then all at once) end the same way;
a cancellation whose request never comes is refused with its reason after the wait."""
import itertools
import random
import uuid
from datetime import timedelta

import pytest

from services.intake.app import SERVICE
from services.intake.submissions import refuse_expired_cancellations
from tests.clock import SetClock
from tests.conftest import KEYS
from tests.support import event_tap, eventually, handled, publish, publish_burst, running, until_handled

pytestmark = pytest.mark.integration

SOURCE = "hotline-12345"


def request(external_id: str, source: str = SOURCE, phone: str | None = None) -> dict:
    return {"source": source, "external_id": external_id, "category": "housekeeping",
            "description": "需要打扫", "community_code": "c-south",
            "beneficiary": {"name": "周阿姨", "phone": phone or f"133{uuid.uuid4().int % 10 ** 8:08d}"}}


def cancel(external_id: str, reason: str, source: str = SOURCE) -> dict:
    return {"source": source, "external_id": external_id, "reason": reason}


REASONS = ("家属已照顾", "重复撤回")


def steps(external_id: str) -> list[tuple[str, dict]]:
    """The request (step 0) and its two cancellations (steps 1 and 2)."""
    return [("request.submit", request(external_id)),
            *(("request.cancel", cancel(external_id, reason)) for reason in REASONS)]


async def published_one_at_a_time(intake, settings, messages: list[tuple[str, dict]]) -> None:
    """Each message handled before the next is published: the order is the one given."""
    for routing_key, body in messages:
        labels = {"handler": f"intake.{routing_key.replace('.', '-')}"}
        before = await handled(intake, "intake", **labels)
        await publish(settings, routing_key, body)
        await until_handled(intake, "intake", before, 1, **labels)


def about(tap, routing_key: str, external_id: str) -> list[dict]:
    return [e for e in tap.of(routing_key) if e["external_id"] == external_id]


async def test_a_request_and_its_cancellations_end_the_same_in_every_order(fresh_settings):
    settings, rng = fresh_settings, random.Random(13)
    orders = {f"o-{uuid.uuid4().hex[:8]}": order for order in itertools.permutations(range(3))}
    burst = {f"b-{uuid.uuid4().hex[:8]}": None for _ in range(6)}
    async with running(SERVICE, settings) as intake, event_tap(settings) as tap:
        for external_id, order in orders.items():
            messages = steps(external_id)
            await published_one_at_a_time(intake, settings, [messages[i] for i in order])
        shuffled = [(key, body, None) for external_id in burst for key, body in steps(external_id)]
        rng.shuffle(shuffled)
        await publish_burst(settings, shuffled)  # two queues at once: any order

        def all_decided():
            keys = {*orders, *burst}
            return all(about(tap, "request.cancelled", k) and about(tap, "cancellation.rejected", k) for k in keys)
        await eventually(all_decided)
        statuses = {external_id: (await intake.get("/api/v1/requests", params={
            "source": SOURCE, "external_id": external_id})).json()["status"] for external_id in {*orders, *burst}}
    assert set(statuses.values()) == {"cancelled"}
    for external_id in {*orders, *burst}:
        assert len(about(tap, "request.cancelled", external_id)) == len(
            about(tap, "cancellation.rejected", external_id)) == 1
    for external_id, order in orders.items():
        [cancelled], [refused] = about(tap, "request.cancelled", external_id), about(
            tap, "cancellation.rejected", external_id)
        assert cancelled["reason"] == REASONS[[i for i in order if i][0] - 1]  # the first cancellation's
        # dispatched only when the request came before its cancellations
        assert len(about(tap, "request.received", external_id)) == (order[0] == 0)
        key = f"{SOURCE}/{external_id}"
        assert refused["reason"] == (f"a cancellation of request {key} already waits for it to arrive"
                                     if order[-1] == 0 else f"request {key} is already cancelled")


async def test_a_cancellation_whose_request_never_comes_is_refused_after_the_wait(fresh_settings):
    settings, clock = fresh_settings, SetClock()
    wait = timedelta(minutes=settings.intake_cancellation_wait_minutes)
    never, late = f"n-{uuid.uuid4().hex[:8]}", f"l-{uuid.uuid4().hex[:8]}"
    async with running(SERVICE, settings, clock=clock) as intake, event_tap(settings) as tap:
        await published_one_at_a_time(intake, settings, [("request.cancel", cancel(never, "不需要了")),
                                                         ("request.cancel", cancel(late, "不需要了"))])
        clock.advance(wait - timedelta(milliseconds=1))
        assert await refuse_expired_cancellations(intake.app.state.deps) == 0  # still waiting
        clock.advance(timedelta(milliseconds=1))
        [expired_one, expired_other] = await tap.wait_for("cancellation.rejected", 2)
        await published_one_at_a_time(intake, settings, [("request.submit", request(late))])
        [received] = await tap.wait_for("request.received")
        rejections = (await intake.get("/api/v1/rejections", params={"source": SOURCE})).json()
    minutes = f"{settings.intake_cancellation_wait_minutes:g}"
    assert {e["external_id"]: e["reason"] for e in (expired_one, expired_other)} == {
        key: f"no request {SOURCE}/{key} to cancel arrived within {minutes} minutes of its cancellation"
        for key in (never, late)}
    assert received["external_id"] == late and not tap.of("request.cancelled")  # too late: dispatched
    assert {r["external_id"] for r in rejections if r["submission"] == "request.cancel"} == {never, late}


async def test_a_waiting_cancellation_of_a_request_that_is_linked_is_refused_as_if_it_came_after(settings):
    phone = f"132{uuid.uuid4().int % 10 ** 8:08d}"
    first, linked = request(f"h-{uuid.uuid4().hex[:8]}", SOURCE, phone), \
        request(f"g-{uuid.uuid4().hex[:8]}", "grid-platform", phone)
    async with running(SERVICE, settings) as intake:
        async def post(path: str, body: dict):
            return await intake.post(path, json=body, headers={"X-Api-Key": KEYS[body["source"]]})
        waiting = await post("/api/v1/cancellations", cancel(linked["external_id"], "撤回", "grid-platform"))
        again = await post("/api/v1/cancellations", cancel(linked["external_id"], "再次撤回", "grid-platform"))
        received = (await post("/api/v1/requests", first)).json()
        duplicate = (await post("/api/v1/requests", linked)).json()
        status = (await intake.get(f"/api/v1/requests/{duplicate['request_id']}")).json()
        refused = (await intake.get("/api/v1/rejections", params={"source": "grid-platform"})).json()
    assert (waiting.status_code, waiting.json()) == (202, {"request_id": None, "status": "waiting"})
    assert again.status_code == 400 and again.json()["error"] == (
        f"a cancellation of request grid-platform/{linked['external_id']} already waits for it to arrive")
    assert status["status"] == "duplicate" and status["status_detail"]["duplicate_of"] == received["request_id"]
    reasons = {r["reason"] for r in refused if r["external_id"] == linked["external_id"]}
    assert f"request grid-platform/{linked['external_id']} was linked to request {received['request_id']} " \
           "(the same need from another source) and never dispatched" in reasons


async def test_a_request_whose_cancellation_came_first_over_http_starts_cancelled(settings):
    wanted = request(f"h-{uuid.uuid4().hex[:8]}")
    async with running(SERVICE, settings) as intake, event_tap(settings) as tap:
        headers = {"X-Api-Key": KEYS[SOURCE]}
        await intake.post("/api/v1/cancellations", json=cancel(wanted["external_id"], "已入院"), headers=headers)
        created = await intake.post("/api/v1/requests", json=wanted, headers=headers)
        [cancelled] = await tap.wait_for("request.cancelled")
        status = (await intake.get(f"/api/v1/requests/{created.json()['request_id']}")).json()
        cancel_again = await intake.post("/api/v1/cancellations", json=cancel(wanted["external_id"], "x"),
                                         headers=headers)
    assert created.status_code == 202 and cancelled["request_id"] == created.json()["request_id"]
    assert status["status"] == "cancelled" and status["status_detail"] == {"reason": "已入院"}
    assert not [e for e in tap.of("request.received") if e["external_id"] == wanted["external_id"]]
    assert cancel_again.status_code == 400 and cancel_again.json()["error"].endswith("is already cancelled")
