"""`linli simulate` when the broker goes away in the middle of a run: a clear error and exit code
1, no traceback, rather than a wait for events that will never come."""
import asyncio
import os
import sys

import pytest

from tests.proxy import proxy_to
from tests.servers import BROKER_USERS
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_the_broker_going_away_mid_run_is_a_clear_error(fresh_settings):
    async with proxy_to(fresh_settings.rabbitmq_url, 5672) as broker:
        env = {**os.environ, "RABBITMQ_URL": broker.url(fresh_settings.rabbitmq_url),
               "BROKER_USERS_FILE": str(BROKER_USERS)}
        # No services run: the simulation waits to hear its volunteers announced, connected.
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "operations", "simulate", "--requests", "5", "--grid", "grid-platform",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await eventually(lambda: len(broker._pipes) >= 8, timeout=60)  # 4 users, 2 ends of each
            await broker.down()
            _, stderr = await asyncio.wait_for(run.communicate(), 60)
        finally:
            if run.returncode is None:
                run.kill()
    assert run.returncode == 1, stderr.decode()
    assert b"RabbitMQ at 127.0.0.1" in stderr and b"Traceback" not in stderr
