"""Two hops, intake then matching (request.submit -> intake -> request.received -> matching ->
assignment.offered), with the services running as processes and the simulation's volunteers
registered but not answering, until every request is offered: with one process of each
service, then two of each (competing consumers on the same queues); against, in the same run,
the bare FastStream peer over the same two hops (bench/peer.py) and the ceiling of the same
broker (raw aio-pika publishing and consuming persistent, confirmed messages of the same size).
The ratios are what to compare between runs; machines here are noisy."""
import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika

from bench.peer import through_peer
from bench.sizes import sized
from operations import day
from operations.simulation import Simulation, Users
from shared.settings import Settings
from tests.e2e.processes import system
from tests.servers import BROKER_USERS, CONNECT_TIMEOUT, SOURCES, own_database, own_vhost
from tests.support import eventually

REQUESTS = int(os.environ.get("BENCH_REQUESTS", sized(2000, 20)))
VOLUNTEERS_PER_COMMUNITY = sized(20, 3)
COMMUNITIES = sized(10, 3)
ONE, TWO = ("intake", "matching"), ("intake", "matching", "intake:2", "matching:2")
USERS = Users(grid="grid-platform")  # the tests' broker users (tests/broker-users.json)
# Volunteers who never complete hold their assignments: room for the whole burst.
ROOM = {"MATCHING_MAX_OPEN_ASSIGNMENTS": "1000"}
# One message per transaction, as before batching (shared/consumer.py): what batching gains, in the same run.
UNBATCHED = {"CONSUMER_BATCH_SIZE": "1"}
NOBODY_ANSWERS = day.AnswerPolicy(accept=0.0, decline=0.0, median_seconds=0.0)


def requests(run: str, count: int = REQUESTS) -> list[dict]:
    """The burst of one run; each run has its own communities, so runs on one database never meet."""
    return [{"source": USERS.hotline, "external_id": f"b-{run}-{n}", "category": "elder_care.meals",
             "description": "独居老人需要助餐" * 10, "community_code": f"{run}-c-{n % COMMUNITIES}"}
            for n in range(count)]


def volunteers(run: str) -> list[dict]:
    return [{"source": USERS.volunteer_app, "external_id": f"v-{run}-{c}-{i}", "name": "志愿者",
             "phone": "13800000000", "community_code": f"{run}-c-{c}", "skills": ["cooking", "cleaning"],
             "max_weekly_hours": 168} for c in range(COMMUNITIES) for i in range(VOLUNTEERS_PER_COMMUNITY)]


@contextlib.contextmanager
def own_settings() -> Iterator[Settings]:
    """A database and vhost of the benchmark's own, with the tests' sources and broker users."""
    with own_database(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")) as database, \
            own_vhost(os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")) as broker:
        yield Settings(database_url=database, rabbitmq_url=broker, intake_sources_file=str(SOURCES),
                       broker_users_file=str(BROKER_USERS), notify_quiet_hours="", linli_development=True,
                       reporting_person_key="bench-person-key")


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

        tag = await queue.consume(consume)
        started = time.perf_counter()
        await asyncio.gather(*(channel.default_exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue.name)
            for body in bodies))
        await done.wait()
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
    return len(bodies) / elapsed


async def burst(simulation: Simulation, requests: list[dict], timeout: float) -> dict:
    """Publish the requests at once and time them until each has reached its end."""
    started = time.perf_counter()
    await asyncio.gather(*(simulation.submit(day.Submission(0.0, "request.submit", r)) for r in requests))
    await eventually(lambda: all(stage != "submitted" for stage in simulation.outcomes.values()), timeout, every=0.05)
    received = time.perf_counter() - started
    assert await simulation.settle(timeout), f"not every request reached its end: {simulation.summary()}"
    elapsed = time.perf_counter() - started
    summary = simulation.summary()
    return {"requests": len(requests), "seconds": round(elapsed, 2),
            "requests_per_second": round(len(requests) / elapsed, 1),
            "seconds_until_all_received_by_intake": round(received, 2),
            **{name: summary[name] for name in ("assigned", "completed", "escalated")}}


def peak_rss_mb(services) -> dict[str, float]:
    """Each process's peak resident memory so far (VmHWM), in MB."""
    def peak(pid: int) -> float:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    return {name: round(peak(service.process.pid), 1) for name, service in services.items()}


# The servers' processes, by the name the kernel gives them: their CPU is counted with the services'.
SERVERS = {"postgres": "postgresql", "beam.smp": "rabbitmq"}
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(stat: str) -> tuple[str, float]:
    """(the process's name, its user and system CPU seconds so far) from /proc/PID/stat."""
    name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
    return name, (int(rest[11]) + int(rest[12])) / TICKS


def cpu_seconds(services) -> dict[str, float]:
    """CPU seconds each service process has used so far, and the database and broker servers
    (all their processes: the servers are this machine's, so other work on them counts too)."""
    used = {name: _cpu_of(Path(f"/proc/{service.process.pid}/stat").read_text())[1]
            for name, service in services.items()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            name, seconds = _cpu_of(stat.read_text())
            if name in SERVERS:
                used[SERVERS[name]] = used.get(SERVERS[name], 0.0) + seconds
    return used


def cpu_ms_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    spent = {name: 1000 * (after[name] - before.get(name, 0.0)) / requests for name in after}
    return {**{name: round(ms, 2) for name, ms in spent.items()}, "all": round(sum(spent.values()), 1)}


async def through_linli(settings: Settings, run: str, processes: tuple[str, ...], complete: bool = False,
                       timeout: float = 600) -> dict:
    """One run's burst through `processes`, the simulation's volunteers accepting at once (and,
    with `complete`, reporting the service done at once); with each process's peak memory."""
    with tempfile.TemporaryDirectory() as logs, system(settings, Path(logs), processes, **ROOM) as services:
        async with Simulation(settings, USERS, day.AT_ONCE, complete=complete) as simulation:
            await simulation.register(volunteers(run), timeout=120)
            before = cpu_seconds(services)
            result = await burst(simulation, requests(run), timeout=timeout)
            spent = cpu_ms_per_request(before, cpu_seconds(services), result["requests"])
        return {**result, "peak_rss_mb": peak_rss_mb(services), "cpu_ms_per_request": spent}


async def offered_by_linli(settings: Settings, run: str, processes: tuple[str, ...], timeout: float = 600,
                           **environment: str) -> dict:
    """One run's burst through intake and matching until every request has its offer."""
    bodies = requests(run)
    with tempfile.TemporaryDirectory() as logs, \
            system(settings, Path(logs), processes, **ROOM, **environment) as services:
        async with Simulation(settings, USERS, NOBODY_ANSWERS, complete=False) as simulation:
            await simulation.register(volunteers(run), timeout=120)
            before, started = cpu_seconds(services), time.perf_counter()
            await asyncio.gather(*(simulation.submit(day.Submission(0.0, "request.submit", r)) for r in bodies))
            await eventually(lambda: simulation.counts["request.received"] >= len(bodies), timeout, every=0.05)
            received = time.perf_counter() - started
            await eventually(lambda: simulation.counts["assignment.offered"] >= len(bodies), timeout, every=0.05)
            elapsed = time.perf_counter() - started
            spent = cpu_ms_per_request(before, cpu_seconds(services), len(bodies))
        return {"requests": len(bodies), "seconds": round(elapsed, 2),
                "requests_per_second": round(len(bodies) / elapsed, 1),
                "seconds_until_all_received_by_intake": round(received, 2),
                "offered": simulation.counts["assignment.offered"], "peak_rss_mb": peak_rss_mb(services),
                "cpu_ms_per_request": spent}


async def main() -> dict:
    with own_settings() as settings:
        ceiling = await raw_ceiling(settings.rabbitmq_url,
                                    [json.dumps(r, ensure_ascii=False).encode() for r in requests("one")])
        peer = await through_peer(settings.rabbitmq_url, ONE, requests("peer"), until="assignment.offered")
        one = await offered_by_linli(settings, "one", ONE)
        unbatched = await offered_by_linli(settings, "unbatched", ONE, **UNBATCHED)
        two = await offered_by_linli(settings, "two", TWO)
    return {"raw_broker_messages_per_second": round(ceiling, 1), "bare_faststream_peer": peer,
            "one_process_each": one, "one_process_each_unbatched": unbatched, "two_processes_each": two,
            "ratio_to_peer": round(one["requests_per_second"] / peer["requests_per_second"], 2),
            "batched_to_unbatched": round(one["requests_per_second"] / unbatched["requests_per_second"], 2),
            "ratio_to_raw_broker": round(one["requests_per_second"] / ceiling, 3),
            "two_processes_to_one": round(two["requests_per_second"] / one["requests_per_second"], 2),
            "note": "a request crosses intake and matching (request.submit -> intake -> request.received -> "
                    "matching -> assignment.offered), each hop a database transaction and an outbox publish; "
                    "the peer makes the same two hops with bare FastStream (bench/peer.py); unbatched: "
                    "CONSUMER_BATCH_SIZE=1, each message in a transaction of its own"}
