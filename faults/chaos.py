"""The faults, one after another while the load runs, each followed by its recovery: seconds
until every service's /readyz is 200 again, and until work moves (the tap hears an event
published after that; a probe, an update of a paused volunteer, makes sure one comes). A fault
that does not recover within its time is recorded as such, and the run goes on to the next.
With --replicas, a kill kills one replica: whether its siblings kept running and answering, and
what they handled meanwhile, is recorded too."""
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from faults.load import Simulation, probe
from faults.processes import Supervised
from faults.servers import OwnServers
from tests.identities import OPS
from tests.support import metric

RECOVERY_TIMEOUT_SECONDS = 120.0
BASELINE_SECONDS = 10.0  # load without faults, the latency the poison is measured against
POISON_WINDOW_SECONDS = 20.0  # load while the poison is retried (about 6 deliveries)
PAUSE_SECONDS = 5.0
SIBLING_ANSWER_SECONDS = 5.0  # a killed replica's siblings must answer /readyz within this, while it is down


@dataclass(frozen=True)
class Plan:
    """Which faults, how long and how often (`--size small` or `full`, or flag by flag)."""

    kill_rounds: int = 1  # each service SIGKILLed in turn, every kill_every_seconds, this many times over
    broker_down_seconds: float = 10.0
    database_outage_seconds: float = 60.0
    poison: int = 5
    cut_connection_of: str = "linli-matching"
    kill_every_seconds: float = 10.0  # at least: a kill's window lasts until the work is back

    def planned_seconds(self, services: int) -> float:
        """How long the load runs, window by window (the baseline, the poison, each fault), as
        `Chaos.run` feeds it."""
        return (BASELINE_SECONDS + POISON_WINDOW_SECONDS + self.kill_rounds * services * self.kill_every_seconds
                + PAUSE_SECONDS + (self.broker_down_seconds + PAUSE_SECONDS) + PAUSE_SECONDS
                + (self.database_outage_seconds + PAUSE_SECONDS))


@dataclass
class Chaos:
    servers: OwnServers
    system: Supervised
    simulation: Simulation
    started: float
    recoveries: list[dict] = field(default_factory=list)
    probes: int = 0

    async def _recovered(self, fault: str, ended: float, **detail) -> None:
        record = {"fault": fault, "at_seconds": round(ended - self.started, 1), **detail}
        try:
            await asyncio.to_thread(self.system.wait_ready, RECOVERY_TIMEOUT_SECONDS)
            ready = time.monotonic()
            record["seconds_to_ready"] = round(ready - ended, 1)
            self.probes += 1
            body = probe(self.probes)
            await self.simulation.sender.send(body["source"], "volunteer.register", body, f"probe-{self.probes}")
            await self.simulation.heard_after(ready, RECOVERY_TIMEOUT_SECONDS, f"{fault} (services ready)")
            record["seconds_to_work"] = round(self.simulation.last_heard - ended, 1)
        except TimeoutError as error:
            record["not_recovered"] = str(error).splitlines()[0]
        self.recoveries.append(record)

    async def kill(self, name: str, seconds: float) -> None:
        """SIGKILL the replica; the supervisor restarts it. Its siblings (with --replicas) must keep
        running and answering meanwhile. Takes at least `seconds`."""
        slot = time.monotonic() + seconds
        siblings = self.system.siblings(name)
        before = {sibling: self.system.pids().get(sibling) for sibling in siblings}
        handled = await self._handled(siblings)
        pid = await asyncio.to_thread(self.system.kill, name)
        killed = time.monotonic()
        answering = await self._answering(siblings)
        await _until(lambda: self.system.pids().get(name) not in (None, pid), RECOVERY_TIMEOUT_SECONDS,
                     f"the supervisor did not restart {name}")
        kept = answering and all(self.system.pids().get(s) == p for s, p in before.items())
        sibling = {"others_kept_running": kept, "others_handled_meanwhile": await self._handled(siblings) - handled}
        await self._recovered(f"SIGKILL {name}", killed, **(sibling if siblings else {}))
        await asyncio.sleep(max(0.0, slot - time.monotonic()))

    async def _answering(self, names: list[str]) -> bool:
        """Whether every one of `names` answers /readyz within SIBLING_ANSWER_SECONDS (the machine is busy)."""
        try:
            await _until(lambda: all(self.system.ready(name) for name in names), SIBLING_ANSWER_SECONDS, "")
        except TimeoutError:
            return False
        return True

    async def _handled(self, names: list[str]) -> float:
        """Messages `names` have finished with so far (their /metrics)."""
        total = 0.0
        for name in names:
            async with httpx.AsyncClient(base_url=self.system.urls[name], headers=OPS, timeout=10) as client:
                total += sum([await metric(client, "linli_handled_messages_total", outcome=outcome)
                              for outcome in ("done", "duplicate")])
        return total

    async def broker_down(self, seconds: float) -> None:
        await asyncio.to_thread(self.servers.broker.stop_app)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(self.servers.broker.start_app)
        await self._recovered("broker stop_app/start_app", time.monotonic(), down_seconds=seconds)

    async def database_restart(self) -> None:
        await asyncio.to_thread(self.servers.database.stop)
        await asyncio.to_thread(self.servers.database.start)
        await self._recovered("PostgreSQL restart", time.monotonic())

    async def database_outage(self, seconds: float) -> None:
        await asyncio.to_thread(self.servers.database.stop)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(self.servers.database.start)
        await self._recovered("PostgreSQL down", time.monotonic(), down_seconds=seconds)

    async def cut_connection(self, user: str) -> None:
        cut = await asyncio.to_thread(self.servers.broker.close_connections_of, user)
        await self._recovered(f"broker connection of {user} closed", time.monotonic(), connections=cut)

    async def run(self, plan: Plan, load: Callable[[float, asyncio.Future], Awaitable[None]]) -> None:
        """Every fault of the plan once (each service killed in turn, `kill_rounds` times over: one
        replica of it, the first in the first round, the second in the next …), with `load(seconds,
        fault)` publishing its share of the load through each."""
        async def through(fault: Awaitable[None], seconds: float) -> None:
            happening = asyncio.ensure_future(fault)
            await asyncio.gather(happening, load(seconds, happening))

        for round_ in range(plan.kill_rounds):
            for replicas in self.system.replicas.values():
                await through(self.kill(victim(replicas, round_), plan.kill_every_seconds), plan.kill_every_seconds)
        await through(self.cut_connection(plan.cut_connection_of), PAUSE_SECONDS)
        await through(self.broker_down(plan.broker_down_seconds), plan.broker_down_seconds + PAUSE_SECONDS)
        await through(self.database_restart(), PAUSE_SECONDS)
        await through(self.database_outage(plan.database_outage_seconds), plan.database_outage_seconds + PAUSE_SECONDS)


def victim(replicas: list[str], round_: int) -> str:
    """The replica a kill round kills: each in turn, round after round."""
    return replicas[round_ % len(replicas)]


async def _until(check: Callable[[], bool], timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise TimeoutError(failure)
        await asyncio.sleep(0.2)
