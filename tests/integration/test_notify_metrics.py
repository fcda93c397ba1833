"""notify's delivery metrics over the real servers, on a clock the test moves: the latency from
the event's time to each channel's delivery, retries included, and every outcome counted."""
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from services.notify.app import SERVICE
from tests.builders.notify import offer
from tests.clock import SetClock
from tests.support import eventually, notification_of, announce, running, sent, swept
from tests.webhook_receiver import SECRET, receiving

pytestmark = pytest.mark.integration

LATE = timedelta(seconds=30)  # how long after its event notify hears of it


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def latencies(channel: str) -> tuple[float, float]:
    return (value("linli_notify_delivery_seconds_count", channel=channel),
            value("linli_notify_delivery_seconds_sum", channel=channel))


def outcomes() -> dict[str, float]:
    return {outcome: value("linli_notify_deliveries_total", channel="webhook", outcome=outcome)
            for outcome in ("sent", "retried", "failed")}


async def test_delivery_latency_per_channel_and_each_outcome(settings):
    clock = SetClock()
    async with receiving() as receiver:
        config = settings.model_copy(update={"notify_webhook_url": receiver.url, "notify_webhook_secret": SECRET,
                                             "notify_max_attempts": 2})
        base = timedelta(seconds=config.notify_retry_base_seconds)
        async with running(SERVICE, config, clock=clock) as notify:
            inbox, webhook, counted = latencies("inbox"), latencies("webhook"), outcomes()
            receiver.failures = 1  # the first try fails, the second goes
            event = offer(at=clock.now() - LATE)
            await announce(settings, event)
            await eventually(lambda: sent(notify, event, "inbox"))
            await eventually(lambda: _attempted(notify, event))
            clock.advance(base)
            await swept(notify)
            await eventually(lambda: sent(notify, event, "webhook"))
            assert latencies("inbox") == (inbox[0] + 1, inbox[1] + LATE.total_seconds())
            assert latencies("webhook") == (webhook[0] + 1, webhook[1] + (LATE + base).total_seconds())

            receiver.failures = len(receiver.calls) + 2  # both tries of the next one fail
            lost = offer(at=clock.now())
            await announce(settings, lost)
            await eventually(lambda: _attempted(notify, lost))
            clock.advance(base)
            await swept(notify)
            await eventually(lambda: _failed(notify, lost))
    assert {outcome: count - counted[outcome] for outcome, count in outcomes().items()} == \
        {"sent": 1, "retried": 2, "failed": 1}
    assert latencies("webhook")[0] == webhook[0] + 1  # a failure has no delivery latency


async def _attempted(notify, event) -> bool:
    row = await notification_of(notify, event, "webhook")
    return bool(row and row["attempts"] == 1)


async def _failed(notify, event) -> bool:
    row = await notification_of(notify, event, "webhook")
    return bool(row and row["status"] == "failed")
