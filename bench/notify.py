"""Offers through notify, running as a process: from `assignment.offered` on the broker to
`notification.sent`, into the inbox alone, then into the inbox and a signed webhook (a local
HTTP endpoint, answering at once, then after 0.2 s), against the ceiling of the same broker (raw aio-pika, same bodies) in the same
run. The ratios are what to compare between runs; machines here are noisy."""
import contextlib
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.pipeline import raw_ceiling
from bench.sizes import sized
from shared.events import AssignmentOffered, VolunteerRef
from shared.settings import Settings
from tests.e2e.processes import system
from tests.servers import own_database, own_vhost
from tests.support import event_tap, publish_burst
from tests.webhook_receiver import SECRET, receiving

OFFERS = int(os.environ.get("BENCH_OFFERS", sized(1000, 20)))
SLOW_ENDPOINT_SECONDS = 0.2


def _offers(count: int) -> list[AssignmentOffered]:
    expires = datetime.now(UTC) + timedelta(hours=1)
    return [AssignmentOffered(correlation_id="bench", request_id=uuid.uuid4(), source="bench", external_id=f"b-{n}",
                              category="elder_care.meals", community_code=f"c-{n % 10}", assignment_id=uuid.uuid4(),
                              volunteer=VolunteerRef(volunteer_id=uuid.uuid4(), source="bench", external_id=f"v-{n}"),
                              urgency="normal", description="独居老人需要助餐,电话 13800000001", address="幸福路 1 号",
                              expires_at=expires) for n in range(count)]


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (/proc/PID/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {name: round(int(status[field].split()[0]) / 1024, 1)
            for name, field in (("notify_rss_mb", "VmRSS"), ("notify_peak_rss_mb", "VmHWM"))}


async def _delivered(settings: Settings, offers: list[AssignmentOffered], channels: int, **environment) -> dict:
    """Seconds from the first offer published until every one has a `notification.sent` per
    channel, with notify's CPU time over them and its memory at the end."""
    with tempfile.TemporaryDirectory() as logs, system(settings, Path(logs), ("notify",), **environment) as services:
        pid = services["notify"].process.pid
        async with event_tap(settings) as tap:
            started, cpu = time.perf_counter(), _cpu_seconds(pid)
            await publish_burst(settings, [(o.routing_key, o.model_dump(mode="json"), str(o.event_id))
                                           for o in offers], exchange="linli.personal")  # whole, as notify reads them
            await tap.wait_for("notification.sent", len(offers) * channels, timeout=900)
            elapsed, cpu = time.perf_counter() - started, _cpu_seconds(pid) - cpu
            memory = _memory_mb(pid)
    return {"offers": len(offers), "notifications": len(offers) * channels, "seconds": round(elapsed, 2),
            "offers_per_second": round(len(offers) / elapsed, 1),
            "notify_cpu_ms_per_offer": round(1000 * cpu / len(offers), 2), **memory}


async def main() -> dict:
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(own_database(os.environ.get(
            "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")))
        rabbitmq_url = stack.enter_context(own_vhost(os.environ.get(
            "RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")))
        # No quiet hours and no reminders: every offer is due now, once.
        settings = Settings(database_url=database_url, rabbitmq_url=rabbitmq_url, notify_quiet_hours="")
        quiet = {"NOTIFY_OFFER_REMINDER": ""}
        offers = _offers(OFFERS)
        ceiling = await raw_ceiling(rabbitmq_url, [o.model_dump_json().encode() for o in offers])
        inbox = await _delivered(settings, offers, 1, **quiet, NOTIFY_WEBHOOK_URL="")
        webhook = {**quiet, "NOTIFY_WEBHOOK_SECRET": SECRET}
        async with receiving() as endpoint:
            both = await _delivered(settings, _offers(OFFERS), 2, **webhook, NOTIFY_WEBHOOK_URL=endpoint.url)
            endpoint.delay = SLOW_ENDPOINT_SECONDS
            slow = await _delivered(settings, _offers(OFFERS // 5), 2, **webhook, NOTIFY_WEBHOOK_URL=endpoint.url)
    return {"raw_broker_messages_per_second": round(ceiling, 1), "inbox": inbox, "inbox_and_webhook": both,
            f"inbox_and_webhook_answering_in_{SLOW_ENDPOINT_SECONDS}s": slow,
            "inbox_ratio_to_raw_broker": round(inbox["offers_per_second"] / ceiling, 3),
            "inbox_and_webhook_ratio_to_raw_broker": round(both["offers_per_second"] / ceiling, 3),
            "slow_webhook_ratio_to_raw_broker": round(slow["offers_per_second"] / ceiling, 3),
            "note": "notify_cpu_ms_per_offer is notify's own CPU (user + system) from the first offer published to the "
                    "last notification.sent, whatever else runs on the machine; an offer is one hop (linli.personal "
                    "-> notify: render, store, deliver, record, emit notification.sent through the outbox); the "
                    "webhook adds a signed HTTP POST per offer"}
