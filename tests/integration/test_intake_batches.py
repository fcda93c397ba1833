"""Two batches of intake's request submissions at once (tests/batches.py), each batch's second
request the same need (beneficiary's phone, category, community) as the other's first, from
another source. Taken message after message, each batch held one need's turn and waited for the
other's; a batch takes its requests' and needs' turns first, in one order, and both commit, one
of each pair received and the other linked to it."""
import json
import uuid

import pytest

from services.intake.app import SERVICE
from shared.consumer import Envelope
from tests.batches import crossed
from tests.integration.test_intake_simultaneous import need
from tests.support import running

pytestmark = pytest.mark.integration


def submitted(body: dict) -> Envelope:
    return Envelope(queue="intake.request-submit", routing_key="request.submit", message_id=str(uuid.uuid4()),
                    correlation_id="c", body=json.dumps(body, ensure_ascii=False).encode(), user_id=body["source"])


async def test_two_batches_of_the_same_needs_in_opposite_orders_both_commit(settings):
    phones = [f"137{uuid.uuid4().int % 10 ** 8:08d}" for _ in range(2)]
    first = [need("hotline-12345", phone) for phone in phones]
    second = [need("grid-platform", phone) for phone in phones[::-1]]
    async with running(SERVICE, settings) as intake:
        outcomes = await crossed(SERVICE, intake.app.state.deps, [submitted(b) for b in first],
                                 [submitted(b) for b in second])
        assert outcomes == [["done", "done"], ["done", "done"]]
        statuses, pool = {}, intake.app.state.deps.runtime.pool
        for body in first + second:
            statuses.setdefault(body["beneficiary"]["phone"], []).append(await pool.fetchval(
                "SELECT status FROM service_request WHERE source = $1 AND external_id = $2",
                body["source"], body["external_id"]))
    assert all(sorted(found) == ["duplicate", "received"] for found in statuses.values()), statuses
