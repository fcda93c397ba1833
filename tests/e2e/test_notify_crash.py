"""notify as a process, killed (SIGKILL) between two attempts at a failing webhook: the next
process picks the stored retry up and the message arrives exactly once."""
import httpx
import pytest

from tests.builders.notify import offer
from tests.e2e.processes import system
from tests.identities import OPS, as_volunteer
from tests.support import announce, eventually
from tests.webhook_receiver import SECRET, receiving, signed_by_secret

pytestmark = pytest.mark.e2e


async def test_a_notify_process_killed_between_attempts_delivers_once_after_restart(fresh_settings, tmp_path):
    settings, event = fresh_settings, offer("v-crash")
    async with receiving() as receiver:
        receiver.failures = 1000
        webhook = {"NOTIFY_WEBHOOK_URL": receiver.url, "NOTIFY_WEBHOOK_SECRET": SECRET,
                   "NOTIFY_RETRY_BASE_SECONDS": "0.3", "NOTIFY_MAX_ATTEMPTS": "50"}
        (tmp_path / "first").mkdir(), (tmp_path / "second").mkdir()
        with system(settings, tmp_path / "first", names=("notify",), **webhook) as services:
            await announce(settings, event)
            await eventually(lambda: len(receiver.calls) >= 2, 60)  # it has failed and retried
            services["notify"].kill()
        failed = len(receiver.calls)
        receiver.failures = failed  # the endpoint recovers while notify is down
        with system(settings, tmp_path / "second", names=("notify",), **webhook) as services:
            url = services["notify"].url

            def delivered():
                rows = httpx.get(f"{url}/api/v1/notifications", params={"about_event_id": str(event.event_id)},
                                 headers=OPS).json()
                return next((r for r in rows if r["channel"] == "webhook" and r["status"] == "sent"), None)
            row = await eventually(delivered, 60)
            inbox = httpx.get(f"{url}/api/v1/inbox/volunteer:volunteer-app:v-crash",
                              headers=as_volunteer("v-crash")).json()
    after_restart = receiver.calls[failed:]
    assert len(after_restart) == 1 and signed_by_secret(*after_restart[0])
    assert 2 <= row["attempts"] <= failed + 1  # an attempt cut off by the kill may go uncounted, never unsent
    assert len(inbox) == 1
