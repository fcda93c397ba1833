"""The whole cycle of a request with the four services running as processes: submitted, offered,
accepted at once by the simulation's volunteers, assigned, reported done at once, completed, with
notify telling everyone and reporting counting; with one process of each service, then two of
each. The two runs' ratio is what to compare; machines here are noisy."""
import tempfile
from pathlib import Path

from bench.pipeline import ROOM, USERS, burst, own_settings, requests, volunteers
from operations import day
from operations.simulation import Simulation
from shared.settings import Settings
from tests.e2e.processes import SERVICES, system

ONE, TWO = SERVICES, SERVICES + tuple(f"{service}:2" for service in SERVICES)


async def full_cycle(settings: Settings, run: str, processes: tuple[str, ...]) -> dict:
    with tempfile.TemporaryDirectory() as logs, system(settings, Path(logs), processes, **ROOM):
        async with Simulation(settings, USERS, day.AT_ONCE, complete=True) as simulation:
            await simulation.register(volunteers(run), timeout=120)
            return await burst(simulation, requests(run), timeout=900)


async def main() -> dict:
    with own_settings() as settings:
        one = await full_cycle(settings, "one", ONE)
        two = await full_cycle(settings, "two", TWO)
    return {"one_process_each": one, "two_processes_each": two,
            "two_processes_to_one": round(two["requests_per_second"] / one["requests_per_second"], 2),
            "note": "a request's cycle: request.submit, request.received, assignment.offered, assignment.respond, "
                    "assignment.accepted, request.assigned, service.complete, request.completed, with notify's "
                    "notifications and reporting's counts on the way; the volunteers answer and report at once"}
