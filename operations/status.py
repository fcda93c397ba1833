"""`linli status [--json]`: each service's readiness, version, outbox lag and (matching) clock
lag, from its `/readyz` and `/metrics`; each queue of the vhost with its depth, consumers,
rates and its DLQ's depth, from the broker's management API. What needs attention is coloured
(and listed under "attention" in the JSON); `concerns_of_service` and `concerns_of_queue` decide it."""
import asyncio
import json
from dataclasses import asdict, dataclass

import httpx
import typer
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from operations.dead_letters import DLQ_SUFFIX
from operations.reach import HTTP_TIMEOUT, SERVICE_NAMES, Management, clear_errors, ops_token, service_url
from shared.settings import Settings
from shared.topology import UNROUTED

OUTBOX_LAG_LIMIT = 30.0  # seconds: the oldest unpublished event waits longer than this
CLOCK_LAG_LIMIT = 60.0  # seconds: matching's clock has not looked for due work for longer than this
OUTBOX_LAG, CLOCK_LAG = "linli_outbox_lag_seconds", "linli_matching_clock_lag_seconds"


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    answers: bool
    ready: bool
    version: str | None = None
    outbox_lag: float | None = None  # None: unknown (down, or no ops token for /metrics)
    clock_lag: float | None = None  # matching only


@dataclass(frozen=True)
class QueueStatus:
    name: str
    ready: int
    unacked: int
    consumers: int
    publish_rate: float
    deliver_rate: float
    dlq: int | None  # None: a queue that has no dead-letter queue (linli.unrouted, an observer's)


def concerns_of_service(service: ServiceStatus) -> list[str]:
    if not service.answers:
        return [f"{service.name} does not answer at {service.url}"]
    concerns = [] if service.ready else [f"{service.name} is not ready"]
    if service.outbox_lag is not None and service.outbox_lag > OUTBOX_LAG_LIMIT:
        concerns.append(f"{service.name}'s outbox lags {service.outbox_lag:.0f}s (over {OUTBOX_LAG_LIMIT:.0f}s)")
    if service.clock_lag is not None and service.clock_lag > CLOCK_LAG_LIMIT:
        concerns.append(f"{service.name}'s clock lags {service.clock_lag:.0f}s (over {CLOCK_LAG_LIMIT:.0f}s)")
    return concerns


def concerns_of_queue(queue: QueueStatus) -> list[str]:
    """A work queue (one with a DLQ) wants consumers and an empty DLQ; an unrouted queue wants to be empty."""
    concerns = []
    if queue.dlq is not None and queue.consumers == 0:
        concerns.append(f"{queue.name} has no consumers")
    if queue.dlq:
        concerns.append(f"{queue.name}{DLQ_SUFFIX} holds {queue.dlq} dead letter(s)")
    if queue.name in UNROUTED.values() and queue.ready + queue.unacked:
        concerns.append(f"{queue.name} holds {queue.ready + queue.unacked} event(s) nobody was bound for")
    return concerns


def queue_statuses(listed: list[dict]) -> list[QueueStatus]:
    """The management API's queues as rows: each `.dlq` beside its work queue, not a row of its own."""
    by_name = {queue["name"]: queue for queue in listed}
    return [QueueStatus(name, queue.get("messages_ready", 0), queue.get("messages_unacknowledged", 0),
                        queue.get("consumers", 0), _rate(queue, "publish"), _rate(queue, "deliver_get"),
                        by_name[name + DLQ_SUFFIX].get("messages", 0) if name + DLQ_SUFFIX in by_name else None)
            for name, queue in sorted(by_name.items()) if not name.endswith(DLQ_SUFFIX)]


def _rate(queue: dict, stat: str) -> float:
    return float(queue.get("message_stats", {}).get(f"{stat}_details", {}).get("rate", 0.0))


def gauge(metrics_text: str, name: str) -> float | None:
    """The value of a gauge in Prometheus text; None when the series is absent."""
    for family in text_string_to_metric_families(metrics_text):
        if family.name == name and family.samples:
            return family.samples[0].value
    return None


async def service_status(client: httpx.AsyncClient, name: str, url: str, token: str | None) -> ServiceStatus:
    try:
        ready = await client.get(f"{url}/readyz", timeout=HTTP_TIMEOUT)
        readiness = ready.json()
    except (httpx.HTTPError, ValueError):  # nothing there, or not a linli service
        return ServiceStatus(name, url, answers=False, ready=False)
    metrics = await _metrics(client, url, token)
    return ServiceStatus(name, url, answers=True, ready=bool(readiness.get("ready")),
                         version=readiness.get("version"), outbox_lag=gauge(metrics, OUTBOX_LAG),
                         clock_lag=gauge(metrics, CLOCK_LAG) if name == "matching" else None)


async def _metrics(client: httpx.AsyncClient, url: str, token: str | None) -> str:
    """The service's Prometheus text; empty (every lag unknown) without a token it accepts."""
    if not token:
        return ""
    try:
        response = await client.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"},
                                    timeout=HTTP_TIMEOUT)
    except httpx.HTTPError:
        return ""
    return response.text if response.status_code == 200 else ""


async def gather(settings: Settings, urls: dict[str, str]) -> tuple[list[ServiceStatus], list[QueueStatus]]:
    token = ops_token()
    async with httpx.AsyncClient() as client:
        listed = await Management(settings).queues(client)
        services = await asyncio.gather(*(service_status(client, name, url, token) for name, url in urls.items()))
    return list(services), queue_statuses(listed)


def document(services: list[ServiceStatus], queues: list[QueueStatus]) -> dict:
    return {"services": [asdict(s) for s in services], "queues": [asdict(q) for q in queues],
            "attention": [c for s in services for c in concerns_of_service(s)]
            + [c for q in queues for c in concerns_of_queue(q)]}


def _seconds(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f}s"


def services_table(services: list[ServiceStatus]) -> Table:
    table = Table("service", "ready", "version", "outbox lag", "clock lag", "url", title="services")
    for s in services:
        style = "red" if concerns_of_service(s) else None
        ready = "yes" if s.ready else ("no" if s.answers else "down")
        table.add_row(s.name, ready, s.version or "-", _seconds(s.outbox_lag),
                      _seconds(s.clock_lag) if s.name == "matching" else "", s.url, style=style)
    return table


def queues_table(queues: list[QueueStatus]) -> Table:
    table = Table("queue", "ready", "unacked", "consumers", "in/s", "out/s", "dlq", title="queues")
    for q in queues:
        table.add_row(q.name, str(q.ready), str(q.unacked), str(q.consumers), f"{q.publish_rate:.1f}",
                      f"{q.deliver_rate:.1f}", "-" if q.dlq is None else str(q.dlq),
                      style="red" if concerns_of_queue(q) else None)
    return table


def status(as_json: bool = typer.Option(False, "--json", help="one JSON document instead of tables"),
           intake: str = typer.Option(None, "--intake-url", help="intake's base URL (else LINLI_INTAKE_URL)"),
           matching: str = typer.Option(None, "--matching-url", help="matching's (else LINLI_MATCHING_URL)"),
           notify: str = typer.Option(None, "--notify-url", help="notify's (else LINLI_NOTIFY_URL)"),
           reporting: str = typer.Option(None, "--reporting-url", help="reporting's (else LINLI_REPORTING_URL)")):
    """Readiness, versions, queues, dead letters and lags; what needs attention in red."""
    settings, given = Settings(), dict(zip(SERVICE_NAMES, (intake, matching, notify, reporting)))
    urls = {name: service_url(settings, name, given[name]) for name in SERVICE_NAMES}
    with clear_errors():
        services, queues = asyncio.run(gather(settings, urls))
    facts = document(services, queues)
    if as_json:
        typer.echo(json.dumps(facts, ensure_ascii=False, indent=2))
        return
    console = Console()
    console.print(services_table(services), queues_table(queues))
    for concern in facts["attention"]:
        console.print(f"[red]attention:[/] {concern}", highlight=False)
