"""How big the benchmarks run: `full` (`make bench`, the figures in the README) or `tiny`
(`BENCH_SIZE=tiny`, what `make test` runs: that every benchmark still runs to the end, not what it
measures)."""
import os

SIZE = os.environ.get("BENCH_SIZE", "full")
if SIZE not in ("full", "tiny"):
    raise SystemExit(f"BENCH_SIZE is {SIZE!r}; it is full (the default) or tiny")


def sized(full, tiny):
    return tiny if SIZE == "tiny" else full
