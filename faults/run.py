"""One run of the fault suite: its own servers set up, the services under the supervisor, the
gateways and the tap, the volunteers registered, the load spread over the faults, the settling,
and the measurements (faults/measure.py) gathered into one report."""
import argparse
import asyncio
import contextlib
import time
from collections import Counter
from pathlib import Path

import asyncpg

from faults import measure
from faults.chaos import BASELINE_SECONDS, POISON_WINDOW_SECONDS, Chaos, Plan
from faults.gateways import gateway
from faults.load import (POISON_PREFIX, Feed, Sender, Simulation, case, mediator, poison, probe, request, tapped,
                         volunteer)
from faults.processes import supervised
from faults.servers import own_servers
from services.deployment import ensure_broker_users, migrate_all
from shared.database import ensure_database
from shared.settings import Settings
from tests.identities import JWKS_FILE
from tests.servers import BROKER_USERS, SOURCES

# Seconds reporting may take, once the other services have settled, to count what they did.
REPORTING_CATCH_UP_SECONDS = 90

# Makes storing a poison submission fail every time, on a healthy system (no hook in linli's code).
POISON_TRIGGER = f"""
CREATE FUNCTION intake.faults_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.external_id LIKE '{POISON_PREFIX}%' THEN
        RAISE EXCEPTION 'fault suite: poison submission %', NEW.external_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER faults_poison BEFORE INSERT ON intake.service_request
    FOR EACH ROW EXECUTE FUNCTION intake.faults_poison();
"""


class Run:
    """One run of the suite, phase by phase (the phase names what did not answer in a hang)."""

    def __init__(self, args: argparse.Namespace, logs: Path):
        self.args, self.logs, self.phase = args, logs, "starting"
        self.started = time.monotonic()
        self.published_at_epoch: dict[str, float] = {}  # poison, by message id: against x-death's time
        self.requests = [request(i) for i in range(args.requests)]
        self.cases = [case(i) for i in range(args.cases)]

    def set_up(self, servers) -> Settings:
        self.phase = "setting up the suite's own servers"
        settings = Settings(database_url=servers.database.url, rabbitmq_url=servers.broker.url, outbox_poll_seconds=0.2,
                            intake_sources_file=str(SOURCES), broker_users_file=str(BROKER_USERS),
                            notify_quiet_hours="", linli_development=True, reporting_person_key="faults-person-key",
                            linli_token_jwks_file=str(JWKS_FILE))
        ensure_database(settings.database_url)
        ensure_broker_users(settings)
        migrate_all(settings)
        return settings

    async def poison_trigger(self, settings: Settings) -> None:
        connection = await asyncpg.connect(settings.database_url, timeout=10)
        try:
            await connection.execute(POISON_TRIGGER)
        finally:
            await connection.close()

    async def register(self, sender: Sender, settings: Settings) -> None:
        self.phase = "registering volunteers and mediators"
        people = [volunteer(i) for i in range(self.args.volunteers)] + [mediator(i) for i in range(self.args.mediators)] \
            + [probe(0)]
        for person in people:
            await sender.send(person["source"], "volunteer.register", person, f"register-{person['external_id']}")
        await _poll(lambda: _count(settings.database_url, "SELECT count(*) FROM matching.volunteer"), len(people),
                    120, "matching did not learn every volunteer")

    async def settle(self, settings: Settings, simulation: Simulation) -> dict:
        """Wait until every request and case has a final state (or the settle time is up)."""
        self.phase = "waiting for every request and case to settle"
        deadline = time.monotonic() + self.args.settle_seconds
        while True:
            await simulation.settle()
            left = await measure.unsettled(settings.database_url, [r["external_id"] for r in self.requests],
                                           [c["external_id"] for c in self.cases])
            if not (left["requests"] or left["cases"]) or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
        self.phase = "waiting for notify's deliveries"
        with contextlib.suppress(TimeoutError):
            await _poll(lambda: _pending(settings.database_url), 0, 90, "notify's due notifications", at_most=True)
        return left

    async def __call__(self) -> dict:
        args = self.args
        plan = Plan(args.kill_rounds, args.broker_down_seconds, args.outage_seconds, args.poison,
                    kill_every_seconds=args.kill_every_seconds)
        with own_servers(self.logs) as servers:
            settings = await asyncio.to_thread(self.set_up, servers)
            await self.poison_trigger(settings)
            async with gateway() as gateways, contextlib.AsyncExitStack() as stack:
                self.phase = f"starting the four services under the supervisor ({args.replicas} of each)"
                services = contextlib.ExitStack()  # entered and left in a thread: it blocks until ready, stopped
                system = await asyncio.to_thread(services.enter_context, supervised(
                    settings, self.logs, replicas=args.replicas, NOTIFY_SMS_URL=f"{gateways.url}/sms",
                    NOTIFY_WEBHOOK_URL=f"{gateways.url}/webhook"))
                stack.push_async_callback(asyncio.to_thread, services.close)
                sender = Sender(settings, time.monotonic() + args.time_limit)
                stack.push_async_callback(sender.close)
                simulation = Simulation(sender, args.decline_percent)
                await stack.enter_async_context(tapped(settings, simulation))
                await self.register(sender, settings)

                self.phase = "load and faults"
                chaos = Chaos(servers, system, simulation, self.started)
                feed = Feed(sender, self.requests, self.cases, plan.planned_seconds(len(system.replicas)))
                before = time.monotonic()
                await feed.during(BASELINE_SECONDS)
                poisoned = time.monotonic()
                for index in range(plan.poison):
                    body = poison(index)
                    self.published_at_epoch[f"submit-{body['external_id']}"] = time.time()
                    await sender.send(body["source"], "request.submit", body, f"submit-{body['external_id']}")
                await feed.during(POISON_WINDOW_SECONDS)
                faults_from = time.monotonic()
                await chaos.run(plan, feed.during)
                self.phase = "publishing the rest of the load"
                await feed.rest()
                left = await self.settle(settings, simulation)

                self.phase = "measuring"
                report = await self.measure(settings, system, simulation, gateways, chaos, left, servers)
                report["slow_down_by_poison"] = {
                    "before": measure.latency(simulation, feed.published, before, poisoned),
                    "with_poison": measure.latency(simulation, feed.published, poisoned, faults_from)}
                report["publish_retries"] = sender.retries
                return report

    async def measure(self, settings, system, simulation, gateways, chaos, left, servers) -> dict:
        states = await measure.request_states(settings.database_url, [r["external_id"] for r in self.requests])
        queues = [line.split("\t")[0] for line in (await asyncio.to_thread(
            servers.broker.ctl, "list_queues", "name", "--no-table-headers", "--quiet")).splitlines()]
        letters = await measure.dead_letters(settings.rabbitmq_url,
                                             [q for q in queues if q.endswith(".dlq") or q == "linli.unrouted"])
        done = set(simulation.completed)  # what the simulated volunteers and mediators reported done
        truth = {"received": len(self.requests), "completed": len(done & await _ids(settings, "service_request")),
                 "escalated": states.get("escalated", 0), "rejected": 0, "disputes_received": len(self.cases),
                 "disputes_agreed": len(done & await _ids(settings, "mediation_case"))}
        caught_up, figures = await self.reporting_caught_up(system, truth)
        return {
            "requests": len(self.requests), "cases": len(self.cases),
            "volunteers": self.args.volunteers, "mediators": self.args.mediators,
            "requests_by_state": dict(states),
            "requests_lost": len(left["requests"]), "cases_lost": len(left["cases"]),
            "lost_examples": (left["requests"] + left["cases"])[:10],
            "offers_declined": simulation.declined,
            "places_staffed_twice": await measure.staffed_twice(settings.database_url),
            "duplicated_notifications": await measure.duplicated_notifications(
                settings.database_url, [heard.body for heard in simulation.heard.values()]),
            "deliveries_sent_again": measure.resent(gateways),
            "good_dead_lettered": len(letters["good"]),
            "good_dead_lettered_by_queue": dict(Counter(entry["queue"] for entry in letters["good"])),
            "good_dead_lettered_examples": letters["good"][:5],
            "poison_published": self.args.poison, "poison_dead_lettered": len(letters["poison"]),
            "poison_dead_letters": [self.poisoned(entry, system) for entry in letters["poison"]],
            "unrouted": letters["unrouted"],
            "recovery": chaos.recoveries,
            "reporting": {name: {"reported": figures.get(name), "truth": value} for name, value in truth.items()},
            "reporting_caught_up_seconds": caught_up,
        }

    async def reporting_caught_up(self, system, truth: dict) -> tuple[float | None, dict]:
        """Reporting is eventually consistent: after the other services have settled it may still
        be working off what an outage held back. Its figures, read until they equal the truth or
        REPORTING_CATCH_UP_SECONDS are up, and how long that took (None: they never did)."""
        self.phase = "waiting for reporting's figures"
        started = time.monotonic()
        while True:
            figures = await measure.reported(system.url("reporting"))
            waited = time.monotonic() - started
            if all(figures.get(name) == value for name, value in truth.items()):
                return round(waited, 1), figures
            if waited > REPORTING_CATCH_UP_SECONDS:
                return None, figures
            await asyncio.sleep(1)

    def poisoned(self, entry: dict, system) -> dict:
        """A poison message in its DLQ: after how many failed deliveries, how long after publishing."""
        published = self.published_at_epoch.get(entry["message_id"])
        seconds = entry["dead_lettered_at"] - published if published and entry["dead_lettered_at"] else None
        return {"queue": entry["queue"], "reason": entry["reason"],
                "failed_deliveries": measure.failed_deliveries(system.log.read_text(errors="replace"),
                                                               entry["message_id"]),
                "seconds_to_dead_letter": round(seconds) if seconds is not None else None}


async def _ids(settings: Settings, table: str) -> set[str]:
    """The ids of intake's requests or cases (the simulation knows its work by them)."""
    key = "request_id" if table == "service_request" else "case_id"
    return {row[0] for row in await measure._rows(settings.database_url, f"SELECT {key}::text FROM intake.{table}")}


async def _count(database_url: str, query: str) -> int:
    return (await measure._rows(database_url, query))[0][0]


async def _pending(database_url: str) -> int:
    return await measure.pending_notifications(database_url)


async def _poll(count, target: int, timeout: float, what: str, at_most: bool = False) -> None:
    deadline = time.monotonic() + timeout
    while True:
        value = await count()
        if (value <= target) if at_most else (value >= target):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {value} after {timeout:g}s (wanted {target})")
        await asyncio.sleep(1)
