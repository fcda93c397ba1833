"""`python -m bench [NAME …]` (or `make bench`): the benchmarks (all by default), one JSON
document on stdout."""
import asyncio
import json
import sys

from bench import burst, cycle, latency, matching, notify, pipeline, reporting, staffing

BENCHMARKS = {"pipeline": pipeline.main, "full_cycle": cycle.main, "latency": latency.main, "burst": burst.main,
              "matching_decision": matching.main, "matching_burst": staffing.main, "notify_delivery": notify.main,
              "reporting_summary": reporting.main}

chosen = sys.argv[1:] or list(BENCHMARKS)
unknown = sorted(set(chosen) - set(BENCHMARKS))
if unknown:
    sys.exit(f"unknown benchmarks {unknown}; there are {sorted(BENCHMARKS)}")
print(json.dumps({name: asyncio.run(BENCHMARKS[name]()) for name in chosen}, indent=2))
