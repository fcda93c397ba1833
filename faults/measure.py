"""What the run did, measured after the load has settled: from the suite's own database (read as
its owner, the harness), the dead-letter queues, the fake gateways' counts, the tap's events and
reporting's API, against what the simulation knows it published and answered."""
import json
import statistics
from collections import Counter
from collections.abc import Iterable

import aio_pika
import asyncpg
import httpx

from faults.gateways import Gateway
from faults.load import POISON_PREFIX, Simulation
from tests.identities import OPS

REQUEST_FINAL = ("completed", "escalated", "cancelled", "missed")
TIMEOUT_SECONDS = 10


async def unsettled(database_url: str, requests: list[str], cases: list[str]) -> dict[str, list[str]]:
    """The requests and cases (by external id) without a final state yet: intake's status of a
    request (completed, escalated …), matching's of a case (closed, or taken over by street staff)."""
    connection = await asyncpg.connect(database_url, timeout=TIMEOUT_SECONDS)
    try:
        final = {row["external_id"] for row in await connection.fetch(
            "SELECT external_id FROM intake.service_request WHERE status = ANY($1)", list(REQUEST_FINAL))}
        closed = {row["external_id"] for row in await connection.fetch(
            "SELECT external_id FROM matching.mediation_case WHERE status = 'closed' OR level = 'street_staff'")}
    finally:
        await connection.close()
    return {"requests": [r for r in requests if r not in final], "cases": [c for c in cases if c not in closed]}


async def _rows(database_url: str, query: str, *args) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url, timeout=TIMEOUT_SECONDS)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def request_states(database_url: str, requests: list[str]) -> Counter:
    rows = await _rows(database_url, "SELECT external_id, status FROM intake.service_request")
    status = {row["external_id"]: row["status"] for row in rows}
    return Counter(status.get(r, "missing") for r in requests)


async def staffed_twice(database_url: str) -> dict:
    """Places taken by more volunteers than they need, and occurrences staffed under two tasks."""
    over = await _rows(database_url, """
        SELECT t.task_id FROM matching.task t JOIN matching.assignment a USING (task_id)
        WHERE a.status IN ('accepted', 'completed') GROUP BY t.task_id, t.needed HAVING count(*) > t.needed""")
    twice = await _rows(database_url, """
        SELECT t.request_id FROM matching.task t JOIN matching.assignment a USING (task_id)
        WHERE t.request_id IS NOT NULL AND a.status IN ('accepted', 'completed')
        GROUP BY t.request_id, t.occurrence HAVING count(DISTINCT t.task_id) > 1""")
    return {"tasks_over_staffed": len(over), "occurrences_with_two_staffed_tasks": len(twice)}


def _fact(routing_key: str, body: dict | None, event_id: str) -> tuple:
    """What an event is about, whatever id it was published under."""
    if body is None:
        return (routing_key, event_id)
    for key in ("assignment_id", "case_id", "request_id"):
        if body.get(key):
            return (routing_key, key, body[key], body.get("occurrence"), body.get("level"))
    return (routing_key, event_id)


async def duplicated_notifications(database_url: str, heard: Iterable[dict]) -> int:
    """Notifications of the same fact, recipient, channel and kind made under two ids (`heard`:
    the bodies of the events heard on linli.events, which tell what each event is about)."""
    events = {body.get("event_id"): body for body in heard}
    rows = await _rows(database_url, "SELECT about_event_id, about, recipient, channel, kind, lead FROM notify.notification")
    facts = Counter()
    for row in rows:
        facts[(_fact(row["about"], events.get(str(row["about_event_id"])), str(row["about_event_id"])),
               row["recipient"], row["channel"], row["kind"], row["lead"])] += 1
    return sum(n - 1 for n in facts.values() if n > 1)


async def pending_notifications(database_url: str) -> int:
    return len(await _rows(database_url, "SELECT 1 FROM notify.notification WHERE status = 'pending' "
                                         "AND next_attempt_at < now() + interval '1 minute'"))


def _death(message: aio_pika.abc.AbstractIncomingMessage) -> dict:
    """Why and when the broker set the message aside (its first x-death entry)."""
    [death, *_] = (message.headers or {}).get("x-death") or [{}]
    when = death.get("time")  # an AMQP timestamp: a datetime, or seconds from some clients
    at = when.timestamp() if hasattr(when, "timestamp") else when
    return {"reason": death.get("reason"), "dead_lettered_at": float(at) if at is not None else None}


async def dead_letters(rabbitmq_url: str, queues: list[str]) -> dict:
    """Every message in the dead-letter queues (and linli.unrouted), good or poison; poison ones
    with the deliveries they had before they were set aside."""
    found = {"good": [], "poison": [], "unrouted": 0}
    connection = await aio_pika.connect(rabbitmq_url, timeout=TIMEOUT_SECONDS)
    async with connection:
        channel = await connection.channel()
        for name in queues:
            queue = await channel.get_queue(name, ensure=True)
            while message := await queue.get(no_ack=True, fail=False, timeout=TIMEOUT_SECONDS):
                if name == "linli.unrouted":
                    found["unrouted"] += 1
                    continue
                try:
                    external_id = str(json.loads(message.body).get("external_id", ""))
                except (ValueError, AttributeError):
                    external_id = ""
                entry = {"queue": name, "routing_key": message.routing_key, "message_id": message.message_id,
                         **_death(message)}
                found["poison" if external_id.startswith(POISON_PREFIX) else "good"].append(entry)
    return found


async def reported(reporting_url: str) -> dict:
    async with httpx.AsyncClient(base_url=reporting_url, headers=OPS, timeout=TIMEOUT_SECONDS) as client:
        response = await client.get("/api/v1/reports/summary")
        response.raise_for_status()
        return response.json()["figures"]


def latency(simulation: Simulation, published: dict[str, float], start: float, end: float) -> dict:
    """Seconds from publishing a request to hearing its request.received, for those published in [start, end)."""
    received = {h.body.get("external_id"): h.at for h in simulation.of("request.received")}
    seconds = sorted(received[key] - at for key, at in published.items() if start <= at < end and key in received)
    if not seconds:
        return {"requests": 0}
    return {"requests": len(seconds), "p50_seconds": round(statistics.median(seconds), 2),
            "p95_seconds": round(seconds[int(0.95 * (len(seconds) - 1))], 2), "max_seconds": round(seconds[-1], 2)}


def failed_deliveries(log: str, message_id: str) -> int:
    """How many times a handler was handed the message and failed, as the services logged it
    (the broker's x-death says why it was set aside, not after how many deliveries)."""
    return log.count(f"message {message_id} failed (delivery")


def resent(gateway: Gateway) -> dict:
    """Repeats under the same id per channel (a gateway drops them by the id), and the most
    times one id came: more than twice breaks notify's rule of one repeat at most."""
    repeats = gateway.resent()
    return {"sms": sum(n - 1 for n in repeats["sms"].values()),
            "webhook": sum(n - 1 for n in repeats["webhook"].values()),
            "most_calls_of_one_id": max((n for channel in repeats.values() for n in channel.values()), default=1),
            "sms_delivered": sum(gateway.counts["sms"].values()),
            "webhook_delivered": sum(gateway.counts["webhook"].values())}


def failures(report: dict) -> list[str]:
    """Why the run fails, if it does: any loss, duplicated effect (a notification under two ids, a
    delivery sent more than once again), good message dead-lettered, fault not recovered from (or
    a kill that took a replica's siblings down too), or reporting figure unlike the truth."""
    found = []
    for name in ("requests_lost", "cases_lost", "duplicated_notifications", "good_dead_lettered"):
        if report[name]:
            found.append(f"{name}: {report[name]}")
    if any(report["places_staffed_twice"].values()):
        found.append(f"places_staffed_twice: {report['places_staffed_twice']}")
    resent = report["deliveries_sent_again"]
    if resent["most_calls_of_one_id"] > 2:
        found.append(f"deliveries_sent_again: one id sent {resent['most_calls_of_one_id']} times")
    found += [f"not recovered: {r['fault']}: {r['not_recovered']}" for r in report["recovery"] if "not_recovered" in r]
    found += [f"{r['fault']}: another replica of the service stopped or did not answer meanwhile"
              for r in report["recovery"] if r.get("others_kept_running") is False]
    found += [f"reporting {name}: {pair['reported']} reported, {pair['truth']} true"
              for name, pair in report["reporting"].items() if pair["reported"] != pair["truth"]]
    return found
