"""intake as a process, killed (SIGKILL) while a source's endpoint holds a status update's call:
nothing confirmed it. The next intake sends it again once the mark is stale, with the same
Idempotency-Key, so that the source can drop the repeat."""
import uuid

import httpx
import pytest

from shared.deliveries import STALE_CALLS
from tests.e2e.processes import system
from tests.identities import OPS
from tests.integration.test_status_webhooks import sources_file
from tests.support import eventually
from tests.webhook_receiver import receiving

pytestmark = pytest.mark.e2e


def repeats_counted(url: str) -> float:
    lines = httpx.get(f"{url}/metrics", headers=OPS).text.splitlines()
    return sum(float(line.split()[-1]) for line in lines
               if line.startswith('linli_delivery_repeats_total{channel="status_webhook"}'))


# A call the source never answers times out after this: long enough for the kill to come first,
# short enough that the next process finds the update stale soon.
CALL_SECONDS = 2


async def test_an_update_cut_off_mid_call_is_sent_once_more_with_the_same_idempotency_key(fresh_settings, tmp_path):
    async with receiving() as receiver:
        settings = fresh_settings.model_copy(update={"intake_sources_file": sources_file(tmp_path, receiver.url)})
        request = {"source": "hotline-12345", "external_id": f"h-{uuid.uuid4().hex[:8]}",
                   "category": "legal.consultation", "description": "法律咨询", "community_code": "c-9"}
        (tmp_path / "first").mkdir(), (tmp_path / "second").mkdir()
        receiver.stalled = True
        with system(settings, tmp_path / "first", names=("intake",), DELIVERY_CALL_SECONDS=str(CALL_SECONDS)) as services:
            httpx.post(f"{services['intake'].url}/api/v1/requests", json=request, headers={"X-Api-Key": "k1"})
            await eventually(lambda: len(receiver.calls) == 1)
            services["intake"].kill()
        receiver.stalled = False  # the source took the call; intake died before it heard so
        with system(settings, tmp_path / "second", names=("intake",), DELIVERY_CALL_SECONDS=str(CALL_SECONDS)) as services:
            await eventually(lambda: len(receiver.calls) == 2, STALE_CALLS * CALL_SECONDS + 30)
            repeats = await eventually(lambda: repeats_counted(services["intake"].url))
    assert receiver.calls[0][0] == receiver.calls[1][0] and receiver.keys[0] == receiver.keys[1] is not None
    assert repeats == 1
