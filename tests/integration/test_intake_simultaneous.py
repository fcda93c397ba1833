"""The same need from two sources taken at the same instant by two intake apps (each with its
own pool, on the real database): one is received, the other linked, every time."""
import asyncio
import uuid

import pytest

from services.intake.app import SERVICE
from tests.conftest import KEYS
from tests.support import running

pytestmark = pytest.mark.integration

ROUNDS = 20


def need(source: str, phone: str) -> dict:
    return {"source": source, "external_id": f"s-{uuid.uuid4().hex[:10]}", "category": "elder_care.meals",
            "description": "独居老人需要助餐", "community_code": "c-east",
            "beneficiary": {"name": "赵奶奶", "phone": phone}}


async def test_the_same_need_taken_at_once_by_two_intakes_is_received_once_and_linked_once(settings):
    async with running(SERVICE, settings) as one, running(SERVICE, settings) as other:
        for _ in range(ROUNDS):
            phone = f"137{uuid.uuid4().int % 10 ** 8:08d}"
            posted = await asyncio.gather(
                one.post("/api/v1/requests", json=need("hotline-12345", phone),
                         headers={"X-Api-Key": KEYS["hotline-12345"]}),
                other.post("/api/v1/requests", json=need("grid-platform", phone),
                           headers={"X-Api-Key": KEYS["grid-platform"]}))
            ids = [response.json()["request_id"] for response in posted]
            rows = [(await one.get(f"/api/v1/requests/{request_id}")).json() for request_id in ids]
            assert sorted(row["status"] for row in rows) == ["duplicate", "received"], rows
            [linked] = [row for row in rows if row["status"] == "duplicate"]
            [first] = [row for row in rows if row["status"] == "received"]
            assert linked["status_detail"]["duplicate_of"] == first["request_id"]


async def test_a_request_and_its_cancellation_taken_at_once_by_two_intakes_end_cancelled(settings):
    """Neither misses the other: the cancellation either finds the request or waits for it."""
    headers = {"X-Api-Key": KEYS["hotline-12345"]}
    async with running(SERVICE, settings) as one, running(SERVICE, settings) as other:
        for _ in range(ROUNDS):
            wanted = need("hotline-12345", f"131{uuid.uuid4().int % 10 ** 8:08d}")
            created, cancelled = await asyncio.gather(
                one.post("/api/v1/requests", json=wanted, headers=headers),
                other.post("/api/v1/cancellations", json={"source": "hotline-12345", "reason": "不需要了",
                                                         "external_id": wanted["external_id"]}, headers=headers))
            assert cancelled.status_code in (200, 202), cancelled.text
            status = (await one.get(f"/api/v1/requests/{created.json()['request_id']}")).json()
            assert status["status"] == "cancelled", status
