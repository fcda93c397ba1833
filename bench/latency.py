"""Latency at a steady rate: requests published at 100 a second (BENCH_LATENCY_RATE) for 20 s (tiny: 10 for 2 s) into the four services running as processes, the simulation's
volunteers registered but not answering; for each request, the time from its publish to its
`assignment.offered` heard on `linli.events` (so one hop more than the service's own), and for
every event the services published, the time from its commit to its publish confirmed (the outbox
rows' written and published times, both on the database's clock). When the services cannot keep
up with the rate, the requests still unoffered after WAIT_SECONDS are counted, not timed, and the
rate they were offered at is reported beside it."""
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench.pipeline import NOBODY_ANSWERS, ROOM, USERS, own_settings, peak_rss_mb, requests, volunteers
from bench.sizes import sized
from operations import day
from operations.simulation import Simulation
from tests.e2e.processes import SERVICES, system

RATE = int(os.environ.get("BENCH_LATENCY_RATE", sized(100, 10)))
SECONDS = sized(20, 2)
WAIT_SECONDS = sized(300, 60)  # after the last publish, for the offers that are behind
MARKED_WITHIN_SECONDS = 10


@dataclass
class Timed(Simulation):
    """The simulation, noting when each request was published and when its first offer was heard."""

    sent_at: dict = field(default_factory=dict)
    offered_at: dict = field(default_factory=dict)

    def hear(self, routing_key: str, body: dict) -> None:
        if routing_key == "assignment.offered":
            self.offered_at.setdefault(body["external_id"], time.perf_counter())
        super().hear(routing_key, body)

    async def offered_within(self, count: int, seconds: float) -> None:
        """Wait until `count` requests have their offer, or `seconds` have passed."""
        deadline = time.perf_counter() + seconds
        while len(self.offered_at) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)

    async def paced(self, bodies: list[dict], rate: float) -> None:
        started = time.perf_counter()
        for n, body in enumerate(bodies):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            self.sent_at[body["external_id"]] = time.perf_counter()
            await self.submit(day.Submission(0.0, "request.submit", body))


def percentiles_ms(seconds: list[float]) -> dict:
    """p50, p90, p99 and max in ms (none but the count when fewer than two were timed)."""
    if len(seconds) < 2:
        return {"count": len(seconds)}
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 1), "p90_ms": round(cuts[89] * 1000, 1),
            "p99_ms": round(cuts[98] * 1000, 1), "max_ms": round(max(seconds) * 1000, 1), "count": len(seconds)}


async def outbox_delays(database_url: str) -> dict[str, list[float]]:
    """Each published event's seconds from commit to confirm, by routing key (the volunteers'
    registrations come as a burst before the paced requests, and wait behind one another)."""
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        await _all_marked(connection)
        rows = await connection.fetch(" UNION ALL ".join(
            f"SELECT routing_key, extract(epoch FROM published_at - created_at)::float8 FROM {service}.outbox "
            "WHERE published_at IS NOT NULL" for service in SERVICES))
    finally:
        await connection.close()
    delays = {}
    for routing_key, seconds in rows:
        delays.setdefault(routing_key, []).append(seconds)
    return delays


async def _all_marked(connection: asyncpg.Connection) -> None:
    """A relay marks an event published once its confirm is in: one heard on the bus may not be
    marked yet (a run once read 19 offers' delays of its 20). Waits MARKED_WITHIN_SECONDS at most."""
    deadline = time.monotonic() + MARKED_WITHIN_SECONDS
    unmarked = "SELECT " + " + ".join(f"(SELECT count(*) FROM {service}.outbox WHERE published_at IS NULL)"
                                      for service in SERVICES)
    while await connection.fetchval(unmarked) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def main() -> dict:
    bodies = requests("latency", RATE * SECONDS)
    with own_settings() as settings, tempfile.TemporaryDirectory() as logs, \
            system(settings, Path(logs), SERVICES, **ROOM) as services:
        async with Timed(settings, USERS, NOBODY_ANSWERS, complete=False) as simulation:
            await simulation.register(volunteers("latency"), timeout=120)
            await simulation.paced(bodies, RATE)
            await simulation.offered_within(len(bodies), WAIT_SECONDS)  # the rest are counted below
        offered = simulation.offered_at
        to_offer = [offered[key] - sent for key, sent in simulation.sent_at.items() if key in offered]
        confirmed = await outbox_delays(settings.database_url)
        memory = peak_rss_mb(services)
    first_sent = min(simulation.sent_at.values())
    return {"rate_per_second": RATE, "seconds": SECONDS, "submission_to_offered": percentiles_ms(to_offer),
            "not_offered_within_wait": len(bodies) - len(to_offer), "wait_seconds": WAIT_SECONDS,
            "offered_per_second": round(len(offered) / (max(offered.values()) - first_sent), 1) if offered else 0.0,
            "outbox_commit_to_confirmed": percentiles_ms([s for delays in confirmed.values() for s in delays]),
            "outbox_commit_to_confirmed_by_routing_key": {key: percentiles_ms(delays)
                                                          for key, delays in sorted(confirmed.items())},
            "peak_rss_mb": memory,
            "targets": {"submission_to_offered_p99_ms": 100, "outbox_commit_to_confirmed_p99_ms": 50}}
