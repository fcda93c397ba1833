"""`python -m faults [--size small|full] [--replicas N] [--requests N …]`: the fault suite.
Prints one JSON document and exits 1 on any loss, duplicated effect, good message
dead-lettered, fault not recovered from, or reporting figure that differs from the truth (2 when
the run itself could not finish: a server or service that did not answer, the time limit)."""
import argparse
import asyncio
import json
import logging
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from faults.measure import failures
from faults.run import Run

# small's PostgreSQL outage, 20 s, still outlasts the consumers' retry budget (0.5 + 1 + 2 + 4 + 8 s
# over six deliveries), what an outage must outlast to show that it spends none of it; small's kills
# come every 6 s (a kill's window lasts until the work is back anyway).
SIZES = {"small": {"requests": 300, "cases": 10, "volunteers": 40, "mediators": 4, "kill_rounds": 1,
                   "kill_every_seconds": 6, "broker_down_seconds": 10, "outage_seconds": 20, "poison": 3,
                   "settle_seconds": 120, "time_limit": 900},
         "full": {"requests": 1000, "cases": 40, "volunteers": 100, "mediators": 8, "kill_rounds": 2,
                  "kill_every_seconds": 10, "broker_down_seconds": 15, "outage_seconds": 60, "poison": 5,
                  "settle_seconds": 300, "time_limit": 1800}}


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    for name in SIZES["full"]:
        parser.add_argument(f"--{name.replace('_', '-')}", type=float if "seconds" in name else int)
    parser.add_argument("--decline-percent", type=int, default=10)
    parser.add_argument("--replicas", type=int, default=1, help="processes of each service (a kill kills one)")
    parser.add_argument("--logs", type=Path, help="keep the services' and servers' logs here")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error(f"--replicas must be at least 1, not {args.replicas}")
    for name, value in SIZES[args.size].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str]) -> int:
    args = arguments(argv)
    kept = args.logs is not None
    # The harness's broker clients reconnect through every broker outage: that is expected, not news.
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="linli-faults-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    run = Run(args, logs)

    # SIGTERM (a CI job's timeout) unwinds like Ctrl-C, so the suite's own servers are still torn down.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    async def limited():
        async with asyncio.timeout(args.time_limit):
            return await run()
    try:
        report = asyncio.run(limited())
    except (TimeoutError, RuntimeError, OSError, httpx.HTTPError, asyncpg.PostgresError) as error:
        what = str(error) or f"the time limit ({args.time_limit:g}s)"
        print(json.dumps({"error": f"{what} (while {run.phase})", "logs": str(logs)}, ensure_ascii=False, indent=2))
        return 2
    except KeyboardInterrupt:
        print(json.dumps({"error": f"interrupted (while {run.phase})", "logs": str(logs)}, ensure_ascii=False, indent=2))
        return 130
    report = {"size": args.size, "replicas": args.replicas, "seconds": round(time.monotonic() - run.started),
              **report, "logs": str(logs)}
    report["failures"] = failures(report)
    if not (report["failures"] or kept):
        shutil.rmtree(logs, ignore_errors=True)
        report["logs"] = None
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
