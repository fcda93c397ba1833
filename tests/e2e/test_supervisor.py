"""`python -m services run` as `make run` starts it: a service killed dead comes back ready
while the others keep running; SIGTERM to the supervisor stops every service."""
import signal
import time

import pytest

from faults.processes import supervised
from tests.support import eventually

pytestmark = pytest.mark.e2e

TIMEOUT = 60


def gone(pid: int) -> bool:
    """True once `pid` is no process (or only a zombie waiting for its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_a_killed_service_is_restarted_and_the_others_keep_running(fresh_settings, tmp_path):
    with supervised(fresh_settings, tmp_path) as system:
        before = system.pids()
        assert sorted(before) == ["intake", "matching", "notify", "reporting"]
        system.kill("matching")

        async def restarted():
            now = system.pids()
            return now.get("matching") not in (None, before["matching"]) and system.ready("matching") and now
        after = await eventually(restarted, TIMEOUT, every=0.2)
        assert {name: after[name] for name in ("intake", "notify", "reporting")} == \
               {name: before[name] for name in ("intake", "notify", "reporting")}
        assert system.all_ready()
        log = system.log.read_text()
        assert f"matching (pid {before['matching']}) exited with -9; restarting in 1s" in log
        assert "intake     | " in log  # each service's lines carry its name

        system.process.send_signal(signal.SIGTERM)
        assert system.process.wait(timeout=TIMEOUT) == 0
    deadline = time.monotonic() + 5  # the last of them may still be reaped by init
    while not all(map(gone, after.values())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(map(gone, after.values())), after
    log = system.log.read_text()
    assert "all services stopped" in log and "still running after" not in log
    assert log.count("Application shutdown complete") == 4
