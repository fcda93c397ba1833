"""`python -m bench` at its tiny size (what tests/e2e/test_benchmarks.py checks), as a process of
its own that starts with the test run and goes on beside the other tests: its two minutes were the
longest single part of `make test`. The checks run last (tests/conftest.py) and wait for it."""
import json
import os
import subprocess
import sys
import tempfile

CHECKS = "tests.e2e.test_benchmarks"
SECONDS = 420  # for the whole run, from its start


class BenchmarkRun:
    def __init__(self, database: str, broker: str):
        self._out, self._err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
        env = {**os.environ, "BENCH_SIZE": "tiny", "DATABASE_URL": database, "RABBITMQ_URL": broker}
        self._process = subprocess.Popen([sys.executable, "-m", "bench"], env=env, stdout=self._out,
                                         stderr=self._err, text=True)

    def report(self) -> dict:
        """The run's JSON, once it has ended; its error output's end if it failed."""
        returncode = self._process.wait(SECONDS)
        self._out.seek(0), self._err.seek(0)
        assert returncode == 0, self._err.read()[-3000:]
        return json.loads(self._out.read())

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._out.close(), self._err.close()
