"""`linli simulate` as an operator runs it, against intake and matching running as processes: a
tiny day (14 submissions in 9 seconds) where every request and case reaches its end and the
summary adds up; and a clear error, no traceback, when the broker does not answer."""
import json
import os
import subprocess
import sys

import pytest

from shared.settings import Settings
from tests.e2e.processes import system
from tests.servers import BROKER_USERS

pytestmark = pytest.mark.e2e

DAY = ["--minutes", "0.15", "--requests", "14", "--case-share", "0.3", "--volunteers", "3",
       "--communities", "C-xinghe,C-taihe", "--accept", "0.55", "--decline", "0.15", "--seed", "4",
       "--settle-seconds", "60", "--grid", "grid-platform", "--json"]


def linli(settings, *args: str, timeout: float = 150) -> subprocess.CompletedProcess:
    env = {**os.environ, "RABBITMQ_URL": settings.rabbitmq_url, "BROKER_USERS_FILE": str(BROKER_USERS)}
    return subprocess.run([sys.executable, "-m", "operations", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_a_tiny_day_ends_with_every_request_and_case_at_its_end(fresh_settings, tmp_path):
    # Offers nobody answers expire in 5 s, as a compressed day needs (an answer, sent within a
    # fraction of a second, comes well before).
    with system(fresh_settings, tmp_path, ("intake", "matching"), MATCHING_OFFER_TIMEOUT_SECONDS="5",
                MATCHING_CLOCK_SECONDS="0.5"):
        run = linli(fresh_settings, "simulate", *DAY)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    cases = summary["cases"]
    assert summary["submitted"] + cases["submitted"] == 14 and cases["submitted"] > 0
    assert summary["unsettled"] == 0 and summary["rejected"] == 0
    assert summary["completed"] + summary["escalated"] + summary["duplicate"] == summary["submitted"]
    assert summary["completed"] > 0 and summary["assigned"] >= summary["completed"]
    assert cases["closed"] + cases["escalated_to_staff"] == cases["submitted"]
    chose = summary["volunteers_chose"]
    assert sum(chose.values()) == summary["offered"] > 0
    assert summary["declined"] == chose.get("decline", 0)
    assert summary["accepted"] == chose.get("accept", 0)
    assert summary["expired"] == chose.get("ignore", 0) > 0  # 30 % ignored: they expire and go to the next


def test_a_broker_that_does_not_answer_is_a_clear_error_not_a_traceback():
    down = Settings(rabbitmq_url="amqp://guest:guest@127.0.0.1:1/")
    run = linli(down, "simulate", "--requests", "1", timeout=60)
    assert run.returncode == 1
    assert "RabbitMQ at 127.0.0.1:1" in run.stderr and "Traceback" not in run.stderr
