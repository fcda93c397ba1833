"""A city's worst day: BENCH_BURST_REQUESTS requests published evenly over 10 s, as the hotline
would, with the four services running as processes and fewer volunteer places than requests
(the volunteers accept every offer at once and never report done, so every place they take
stays taken and the rest of the burst finds them all busy: matching's wait for a free volunteer,
then the escalation to the staff). It reports the seconds until intake received every request,
until matching decided every one (offered, escalated, or waiting for a free volunteer), the
broker's queue depths over time (the management API, which refreshes its counts every 5 s) and
until every linli queue is under 100 messages, and the staff messages notify made against the
requests escalated: with NOTIFY_STAFF_DIGEST_SECONDS short enough that the communities' backlog
windows close within the run, each community's first escalation at once and the rest in one backlog
message per window (services/notify/domain/backlog.py)."""
import asyncio
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import asyncpg
import httpx

from bench.pipeline import USERS, own_settings
from bench.sizes import sized
from operations import day
from operations.simulation import Simulation
from tests.e2e.processes import system

REQUESTS = int(os.environ.get("BENCH_BURST_REQUESTS", sized(10_000, 50)))
PUBLISH_SECONDS = sized(10.0, 2.0)  # the goal's 10,000 in 10 s
COMMUNITIES = sized(10, 2)
VOLUNTEERS_PER_COMMUNITY = sized(20, 2)
OPEN_ASSIGNMENTS = 5  # each volunteer's places: sized(1,000, 20) in all, fewer than the requests
# Short enough that the waiting requests escalate within the run, so that staff are told.
WAIT_FOR_FREE_SECONDS = sized(30, 2)
# The staff's backlog window, short for the same reason (300 s in production).
STAFF_DIGEST_SECONDS = sized(60, 5)
QUIET_QUEUE = 100  # messages
ESCALATION_KINDS = ("escalation", "backlog")  # what staff hear of escalated requests (they hear of others too)
TIMEOUT = sized(900, 120)
MANAGEMENT = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672")


def requests() -> list[dict]:
    return [{"source": USERS.hotline, "external_id": f"burst-{n}", "category": "elder_care.meals",
             "description": "独居老人需要助餐", "community_code": f"burst-c-{n % COMMUNITIES}"} for n in range(REQUESTS)]


def volunteers() -> list[dict]:
    return [{"source": USERS.volunteer_app, "external_id": f"burst-v-{c}-{i}", "name": "志愿者",
             "phone": "13800000000", "community_code": f"burst-c-{c}", "skills": ["cooking"],
             "max_weekly_hours": 168} for c in range(COMMUNITIES) for i in range(VOLUNTEERS_PER_COMMUNITY)]


async def publish_evenly(simulation: Simulation, bodies: list[dict], seconds: float) -> float:
    """Publish `bodies` in tenths of a second over `seconds`, as an outside system would; the seconds it took."""
    started, slices = time.perf_counter(), int(seconds * 10)
    for n in range(slices):
        await asyncio.sleep(max(0.0, started + n / 10 - time.perf_counter()))
        await asyncio.gather(*(simulation.submit(day.Submission(0.0, "request.submit", body))
                               for body in bodies[n * len(bodies) // slices:(n + 1) * len(bodies) // slices]))
    return time.perf_counter() - started


async def queue_depths(client: httpx.AsyncClient, vhost: str) -> dict[str, int]:
    response = await client.get(f"{MANAGEMENT}/api/queues/{quote(vhost, safe='')}", params={"columns": "name,messages"})
    response.raise_for_status()
    return {queue["name"]: queue.get("messages") or 0 for queue in response.json()
            if not queue["name"].startswith("amq.")}  # not the simulation's own


async def decided(conn: asyncpg.Connection) -> int:
    """Requests matching has decided: a task that no longer wants offers (offered, assigned,
    escalated, or waiting for a free volunteer)."""
    return await conn.fetchval("SELECT count(DISTINCT request_id) FROM matching.task "
                               "WHERE request_id IS NOT NULL AND NOT (status = 'open' AND wants_offers)")


async def watch(simulation: Simulation, conn: asyncpg.Connection, vhost: str, started: float, until: asyncio.Event):
    """Every second: who is received and decided, and the queues' depths."""
    marks, samples = {}, []
    async with httpx.AsyncClient(auth=("guest", "guest"), timeout=10) as client:
        while not until.is_set():
            at = round(time.perf_counter() - started, 1)
            depths = await queue_depths(client, vhost)
            samples.append({"at": at, "messages": sum(depths.values()), "deepest": max(depths.items(),
                                                                                    key=lambda q: q[1])})
            received = sum(stage != "submitted" for stage in simulation.outcomes.values())
            if received == REQUESTS:
                marks.setdefault("received", at)
            if await decided(conn) == REQUESTS:
                marks.setdefault("decided", at)
            if "received" in marks and max(depths.values()) < QUIET_QUEUE:
                marks.setdefault("quiet", at)
            elif marks.get("quiet") and max(depths.values()) >= QUIET_QUEUE:
                marks.pop("quiet")
            if {"received", "decided", "quiet"} <= set(marks):
                return marks, samples
            await asyncio.sleep(1.0)
    return marks, samples


async def staff_settled(conn: asyncpg.Connection, escalated: int, timeout: float) -> bool:
    """Wait until notify has taken every escalation (told at once, or held in a window) and told
    every window that held some; False if `timeout` passed first."""
    deadline = time.monotonic() + timeout
    while await conn.fetchval(
            "SELECT (SELECT count(DISTINCT about_event_id) FROM notify.notification WHERE kind = 'escalation') "
            "+ (SELECT coalesce(sum(held), 0) FROM notify.staff_backlog) < $1 OR EXISTS (SELECT 1 FROM "
            "notify.staff_backlog WHERE held > 0 AND told_at IS NULL)", escalated):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(1.0)
    return True


async def staff_told(conn: asyncpg.Connection) -> dict:
    """Messages to staff by kind (one per event and recipient, whatever its channels), and the
    escalations held for backlog messages."""
    rows = await conn.fetch("SELECT kind, count(DISTINCT (about_event_id, recipient)) AS n FROM notify.notification "
                            "WHERE recipient LIKE 'staff:%' GROUP BY kind")
    held = await conn.fetchval("SELECT coalesce(sum(held), 0) FROM notify.staff_backlog WHERE told_at IS NOT NULL")
    return {"by_kind": {row["kind"]: row["n"] for row in rows}, "escalations_in_backlog_messages": held}


async def main() -> dict:
    environment = {"MATCHING_MAX_OPEN_ASSIGNMENTS": str(OPEN_ASSIGNMENTS),
                   "MATCHING_WAIT_FOR_FREE_SECONDS": str(WAIT_FOR_FREE_SECONDS),
                   "NOTIFY_STAFF_DIGEST_SECONDS": str(STAFF_DIGEST_SECONDS)}
    with own_settings() as settings, tempfile.TemporaryDirectory() as logs, \
            system(settings, Path(logs), **environment):
        vhost = urlsplit(settings.rabbitmq_url).path.lstrip("/")
        conn = await asyncpg.connect(settings.database_url)
        try:
            async with Simulation(settings, USERS, day.AT_ONCE, complete=False) as simulation:
                await simulation.register(volunteers(), timeout=120)
                started, done = time.perf_counter(), asyncio.Event()
                watching = asyncio.create_task(watch(simulation, conn, vhost, started, done))
                published = await publish_evenly(simulation, requests(), PUBLISH_SECONDS)
                try:
                    marks, samples = await asyncio.wait_for(asyncio.shield(watching), TIMEOUT)
                except TimeoutError:  # reported as not reached (None)
                    done.set()
                    marks, samples = await watching
                marks["published"] = round(published, 1)
                await simulation.settle(WAIT_FOR_FREE_SECONDS + 30)  # the waiting ones escalate
                summary = simulation.summary()
                backlogs = await staff_settled(conn, summary["escalated"], 2 * STAFF_DIGEST_SECONDS + 30)
                told = await staff_told(conn)
        finally:
            await conn.close()
    peak = max(samples, key=lambda sample: sample["deepest"][1])
    return {"requests": REQUESTS, "volunteer_places": COMMUNITIES * VOLUNTEERS_PER_COMMUNITY * OPEN_ASSIGNMENTS,
            "wait_for_free_seconds": WAIT_FOR_FREE_SECONDS, "seconds_publishing": marks["published"],
            "seconds_until_all_received": marks.get("received"), "seconds_until_all_decided": marks.get("decided"),
            "seconds_until_queues_under_100": marks.get("quiet"),
            "peak_queue": {"name": peak["deepest"][0], "messages": peak["deepest"][1], "at": peak["at"]},
            "queue_messages_over_time": [[sample["at"], sample["messages"]] for sample in samples],
            "assigned": summary["assigned"], "escalated": summary["escalated"],
            "staff_digest_seconds": STAFF_DIGEST_SECONDS, "staff_messages": told["by_kind"],
            "staff_messages_per_escalation": round(sum(told["by_kind"].get(kind, 0) for kind in ESCALATION_KINDS)
                                                   / max(summary["escalated"], 1), 3),
            "escalations_in_backlog_messages": told["escalations_in_backlog_messages"],
            "staff_told_of_every_escalation": backlogs,
            "note": "seconds from the first publish; queue depths from the management API, refreshed every 5 s, "
                    "sampled every second; decided = no longer wanting offers; staff messages: one per event "
                    "and recipient whatever its channels, `escalation` told at once, `backlog` one per window"}
