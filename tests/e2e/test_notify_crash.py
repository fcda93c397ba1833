"""notify as a process, killed (SIGKILL) between two attempts at a failing webhook: the next
process picks the stored retry up and the message arrives exactly once. Killed between a call
and its confirmation: the next process sends it again once, with the same Idempotency-Key, and
gives up after a second such kill rather than send a third time."""
import httpx
import pytest

from tests.builders.notify import offer
from tests.e2e.processes import system
from tests.identities import OPS, as_volunteer
from shared.deliveries import INTERRUPTED, STALE_CALLS
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


# A call the gateway never answers times out after this: long enough for the kill to come first,
# short enough that the next process finds the notification stale soon.
CALL_SECONDS = 2
WEBHOOK_TIMEOUT = STALE_CALLS * CALL_SECONDS + 30


def webhook_row(url: str, event) -> dict | None:
    rows = httpx.get(f"{url}/api/v1/notifications", params={"about_event_id": str(event.event_id)},
                     headers=OPS).json()
    return next((row for row in rows if row["channel"] == "webhook"), None)


def repeats_counted(url: str) -> float:
    """linli_delivery_repeats_total{channel="webhook"} on the process's /metrics."""
    lines = httpx.get(f"{url}/metrics", headers=OPS).text.splitlines()
    return sum(float(line.split()[-1]) for line in lines
               if line.startswith('linli_delivery_repeats_total{channel="webhook"}'))


async def killed_mid_call(settings, logs, webhook: dict, receiver, event=None, calls: int = 1) -> None:
    """A notify process that is killed once the gateway has its call number `calls` (and has not answered)."""
    with system(settings, logs, names=("notify",), **webhook) as services:
        if event is not None:
            await announce(settings, event)
        await eventually(lambda: len(receiver.calls) >= calls, WEBHOOK_TIMEOUT)
        services["notify"].kill()


async def test_a_notify_process_killed_between_the_call_and_its_confirmation_sends_once_more_same_id(
        fresh_settings, tmp_path):
    settings, event = fresh_settings, offer("v-mid-call")
    async with receiving() as receiver:
        webhook = {"NOTIFY_WEBHOOK_URL": receiver.url, "NOTIFY_WEBHOOK_SECRET": SECRET,
                   "DELIVERY_CALL_SECONDS": str(CALL_SECONDS)}
        (tmp_path / "first").mkdir(), (tmp_path / "second").mkdir()
        receiver.stalled = True
        await killed_mid_call(settings, tmp_path / "first", webhook, receiver, event)
        receiver.stalled = False  # the gateway took the call; notify never heard it
        with system(settings, tmp_path / "second", names=("notify",), **webhook) as services:
            url = services["notify"].url
            row = await eventually(lambda: (r := webhook_row(url, event)) and r["status"] == "sent" and r,
                                   WEBHOOK_TIMEOUT)
            repeats = repeats_counted(url)
    assert len(receiver.calls) == 2 and receiver.bodies()[0] == receiver.bodies()[1]
    assert receiver.keys == [row["notification_id"]] * 2  # the gateway can drop the repeat
    assert repeats == 1 and row["attempts"] == 1


async def test_a_delivery_cut_off_twice_is_given_up_rather_than_sent_a_third_time(fresh_settings, tmp_path):
    settings, event = fresh_settings, offer("v-twice")
    async with receiving() as receiver:
        webhook = {"NOTIFY_WEBHOOK_URL": receiver.url, "NOTIFY_WEBHOOK_SECRET": SECRET,
                   "DELIVERY_CALL_SECONDS": str(CALL_SECONDS)}
        for name in ("first", "second", "third"):
            (tmp_path / name).mkdir()
        receiver.stalled = True
        await killed_mid_call(settings, tmp_path / "first", webhook, receiver, event)
        await killed_mid_call(settings, tmp_path / "second", webhook, receiver, calls=2)  # the repeat, cut off too
        receiver.stalled = False
        with system(settings, tmp_path / "third", names=("notify",), **webhook) as services:
            url = services["notify"].url
            row = await eventually(lambda: (r := webhook_row(url, event)) and r["status"] == "failed" and r,
                                   WEBHOOK_TIMEOUT)
    assert len(receiver.calls) == 2 and receiver.keys == [row["notification_id"]] * 2
    assert row["last_error"] == INTERRUPTED
