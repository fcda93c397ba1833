"""The whole cycle of a request with the four services running as processes: submitted, offered,
accepted at once by the simulation's volunteers, assigned, reported done at once, completed, with
notify telling everyone and reporting counting; with one process of each service, then two of
each. The two runs' ratio is what to compare; machines here are noisy."""
from functools import partial

from bench.pipeline import own_settings, through_linli
from tests.e2e.processes import SERVICES

ONE, TWO = SERVICES, SERVICES + tuple(f"{service}:2" for service in SERVICES)
full_cycle = partial(through_linli, complete=True, timeout=900)


async def main() -> dict:
    with own_settings() as settings:
        one = await full_cycle(settings, "one", ONE)
        two = await full_cycle(settings, "two", TWO)
    return {"one_process_each": one, "two_processes_each": two,
            "two_processes_to_one": round(two["requests_per_second"] / one["requests_per_second"], 2),
            "note": "a request's cycle: request.submit, request.received, assignment.offered, assignment.respond, "
                    "assignment.accepted, request.assigned, service.complete, request.completed, with notify's "
                    "notifications and reporting's counts on the way; the volunteers answer and report at once"}
