"""`python -m services run` as `make run` starts it (one process of each service, or two with
`--replicas 2`): a service killed dead comes back ready while the others keep running; SIGTERM
to the supervisor stops every service."""
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


@pytest.mark.parametrize("replicas", [1, 2])
async def test_a_killed_service_is_restarted_and_the_others_keep_running(fresh_settings, tmp_path, replicas):
    """With two of each, a replica is restarted on its own: its sibling keeps its pid."""
    with supervised(fresh_settings, tmp_path, replicas=replicas) as system:
        before = system.pids()
        assert sorted(before) == sorted(name for names in system.replicas.values() for name in names)
        assert len(before) == 4 * replicas
        [victim, *_] = system.replicas["matching"]
        system.kill(victim)

        async def restarted():
            now = system.pids()
            return now.get(victim) not in (None, before[victim]) and system.ready(victim) and now
        after = await eventually(restarted, TIMEOUT, every=0.2)
        assert {name: pid for name, pid in after.items() if name != victim} == \
               {name: pid for name, pid in before.items() if name != victim}
        assert system.all_ready()
        log = system.log.read_text()
        assert f"{victim} (pid {before[victim]}) exited with -9; restarting in 1s" in log
        width = max(map(len, (*after, "supervisor")))
        assert all(f"{name:<{width}} | " in log for name in after)  # each replica's lines carry its name

        system.process.send_signal(signal.SIGTERM)
        assert system.process.wait(timeout=TIMEOUT) == 0
    deadline = time.monotonic() + 5  # the last of them may still be reaped by init
    while not all(map(gone, after.values())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(map(gone, after.values())), after
    log = system.log.read_text()
    assert "all services stopped" in log and "still running after" not in log
    assert log.count("Application shutdown complete") == 4 * replicas
