"""The whole cycle of a request with the four services running as processes: submitted, offered,
accepted at once by the simulation's volunteers, assigned, reported done at once, completed, with
notify telling everyone and reporting counting; with one process of each service, then two of
each, and the bare FastStream peer over the same hops (bench/peer.py) in the same run. The
ratios are what to compare; machines here are noisy."""
from functools import partial

from bench.peer import through_peer
from bench.pipeline import own_settings, requests, through_linli
from bench.sizes import SIZE
from tests.e2e.processes import SERVICES

# At the tiny size (make test) two processes of each run in the two-hop benchmark only: 12
# processes starting cost half a minute, and they run the same code as one process of each.
ONE, TWO = SERVICES, SERVICES + tuple(f"{service}:2" for service in SERVICES)
full_cycle = partial(through_linli, complete=True, timeout=900)


async def main() -> dict:
    with own_settings() as settings:
        peer = await through_peer(settings.rabbitmq_url, SERVICES, requests("peer"), until="request.completed")
        one = await full_cycle(settings, "one", ONE)
        two = await full_cycle(settings, "two", TWO) if SIZE == "full" else None
    return {"bare_faststream_peer": peer, "one_process_each": one, "two_processes_each": two,
            "ratio_to_peer": round(one["requests_per_second"] / peer["requests_per_second"], 2),
            "two_processes_to_one": two and round(two["requests_per_second"] / one["requests_per_second"], 2),
            "cpu_ms_per_request_at_most": round(2 * 1000 / one["requests_per_second"], 1),
            "note": "a request's cycle: request.submit, request.received, assignment.offered, assignment.respond, "
                    "assignment.accepted, request.assigned, service.complete, request.completed, with notify's "
                    "notifications and reporting's counts on the way; the volunteers answer and report at once. "
                    "cpu_ms_per_request_at_most: the machine's 2 cores over the rate (services, broker, database "
                    "and the simulation share them)"}
