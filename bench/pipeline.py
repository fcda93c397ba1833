"""Requests through intake and matching, running as processes, against the ceiling of the
same broker: raw aio-pika publishing and consuming persistent, confirmed messages of the same
size in the same run. The ratio is what to compare between runs; machines here are noisy."""
import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika

from shared.settings import Settings
from tests.e2e.processes import system
from tests.servers import CONNECT_TIMEOUT, own_database, own_vhost
from tests.support import event_tap, eventually, publish_burst

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 2000))
VOLUNTEERS_PER_COMMUNITY = 20
COMMUNITIES = 10


def _request(n: int) -> dict:
    return {"source": "bench", "external_id": f"b-{n}", "category": "elder_care.meals",
            "description": "独居老人需要助餐" * 10, "community_code": f"c-{n % COMMUNITIES}"}


async def raw_ceiling(url: str, bodies: list[bytes]) -> float:
    """Messages per second through one durable queue: published persistent with confirms, consumed with acks."""
    connection = await aio_pika.connect(url, timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(f"bench.raw.{uuid.uuid4().hex}", durable=True)
        done = asyncio.Event()
        consumed = 0

        async def consume(message):
            nonlocal consumed
            await message.ack()
            consumed += 1
            if consumed == len(bodies):
                done.set()

        await queue.consume(consume)
        started = time.perf_counter()
        await asyncio.gather(*(channel.default_exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue.name)
            for body in bodies))
        await done.wait()
        elapsed = time.perf_counter() - started
        await queue.delete(if_unused=False, if_empty=False)
    return len(bodies) / elapsed


async def through_linli(settings: Settings, requests: list[dict]) -> dict:
    with tempfile.TemporaryDirectory() as logs, system(settings, Path(logs), ("intake", "matching"),
                                                       INTAKE_ACCEPT_UNKNOWN_SOURCES="true"):  # source "bench"
        async with event_tap(settings) as tap:
            volunteers = [{"source": "bench", "external_id": f"v-{c}-{i}", "name": "志愿者", "phone": "13800000000",
                           "community_code": f"c-{c}", "skills": ["cooking"]}
                          for c in range(COMMUNITIES) for i in range(VOLUNTEERS_PER_COMMUNITY)]
            await publish_burst(settings, [("volunteer.register", v, None) for v in volunteers])
            await tap.wait_for("volunteer.registered", len(volunteers), timeout=120)
            await asyncio.sleep(1)  # matching applies the roster from its own queue
            started = time.perf_counter()
            await publish_burst(settings, [("request.submit", r, None) for r in requests])
            await tap.wait_for("request.received", len(requests), timeout=600)
            received = time.perf_counter() - started
            await eventually(lambda: len(tap.of("request.assigned")) + len(tap.of("request.escalated"))
                             >= len(requests), timeout=600, every=0.05)
            elapsed = time.perf_counter() - started
    return {"requests": len(requests), "seconds": round(elapsed, 2),
            "requests_per_second": round(len(requests) / elapsed, 1),
            "seconds_until_all_received_by_intake": round(received, 2),
            "assigned": len(tap.of("request.assigned")), "escalated": len(tap.of("request.escalated"))}


async def main() -> dict:
    requests = [_request(n) for n in range(REQUESTS)]
    bodies = [json.dumps(r, ensure_ascii=False).encode() for r in requests]
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(own_database(os.environ.get(
            "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")))
        rabbitmq_url = stack.enter_context(own_vhost(os.environ.get(
            "RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")))
        settings = Settings(database_url=database_url, rabbitmq_url=rabbitmq_url)
        ceiling = await raw_ceiling(rabbitmq_url, bodies)
        linli = await through_linli(settings, requests)
    return {"raw_broker_messages_per_second": round(ceiling, 1), "intake_to_matching": linli,
            "ratio_to_raw_broker": round(linli["requests_per_second"] / ceiling, 3),
            "note": "a request crosses 2 hops (request.submit -> intake -> request.received -> matching), "
                    "each with a database transaction and an outbox publish"}
