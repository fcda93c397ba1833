"""`python -m bench [NAME …]` (or `make bench`): the benchmarks (all by default), one JSON
document on stdout."""
import asyncio
import json
import sys
import time

from bench import burst, cycle, latency, matching, notify, pipeline, reporting, staffing

BENCHMARKS = {"pipeline": pipeline.main, "full_cycle": cycle.main, "latency": latency.main, "burst": burst.main,
              "matching_decision": matching.main, "matching_burst": staffing.main, "notify_delivery": notify.main,
              "reporting_summary": reporting.main}

chosen = sys.argv[1:] or list(BENCHMARKS)
unknown = sorted(set(chosen) - set(BENCHMARKS))
if unknown:
    sys.exit(f"unknown benchmarks {unknown}; there are {sorted(BENCHMARKS)}")


def timed(name: str) -> dict:
    """One benchmark's JSON; how long it took goes to stderr (what makes `make test` long)."""
    started = time.monotonic()
    result = asyncio.run(BENCHMARKS[name]())
    print(f"bench: {name} took {time.monotonic() - started:.1f}s", file=sys.stderr)
    return result


print(json.dumps({name: timed(name) for name in chosen}, indent=2))
