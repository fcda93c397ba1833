"""Two intake processes compete for one burst over the real broker, in which two sources
publish the same need back to back: every need is received once and linked once."""
import uuid

import httpx
import pytest

from tests.e2e.processes import system
from tests.identities import OPS
from tests.support import event_tap, eventually, metric, publish_burst

pytestmark = pytest.mark.e2e

NEEDS = 20


def need(source: str, phone: str) -> dict:
    return {"source": source, "external_id": f"n-{uuid.uuid4().hex[:10]}", "category": "elder_care.home_visit",
            "description": "空巢老人需要探访", "community_code": "c-west",
            "beneficiary": {"name": "孙爷爷", "phone": phone}}


async def test_two_intake_processes_link_the_same_need_published_at_once_by_two_sources(fresh_settings, tmp_path):
    settings = fresh_settings
    pairs = [(need("hotline-12345", phone), need("grid-platform", phone))
             for phone in (f"135{uuid.uuid4().int % 10 ** 8:08d}" for _ in range(NEEDS))]
    with system(settings, tmp_path, names=("intake", "intake:2")) as services:
        async with event_tap(settings) as tap:
            await publish_burst(settings, [("request.submit", body, None) for pair in pairs for body in pair])

            def all_decided():
                return len(tap.of("request.received")) + len(tap.of("request.duplicate")) >= 2 * NEEDS
            await eventually(all_decided, 60)
        shares = []
        for service in services.values():
            async with httpx.AsyncClient(base_url=service.url, headers=OPS) as client:
                shares.append(await metric(client, "linli_handled_messages_total",
                                           handler="intake.request-submit", outcome="done"))
    received = {e["external_id"]: e["request_id"] for e in tap.of("request.received")}
    linked = {e["external_id"]: e["duplicate_of"] for e in tap.of("request.duplicate")}
    for pair in pairs:
        [first] = [r["external_id"] for r in pair if r["external_id"] in received]
        [second] = [r["external_id"] for r in pair if r["external_id"] in linked]
        assert linked[second] == received[first]
    assert len(tap.of("request.received")) == len(tap.of("request.duplicate")) == NEEDS
    assert all(share > 0 for share in shares)  # both processes took part
