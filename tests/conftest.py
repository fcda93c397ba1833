import contextlib
import os

import pytest

from shared.settings import Settings
from tests.servers import broker_server, database_server, own_database, own_vhost


@pytest.fixture(scope="session")
def settings():
    """Settings pointing at this run's own database and vhost (integration and e2e tests)."""
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(own_database(
            stack.enter_context(database_server(os.environ.get("DATABASE_URL")))))
        rabbitmq_url = stack.enter_context(own_vhost(
            stack.enter_context(broker_server(os.environ.get("RABBITMQ_URL")))))
        yield Settings(database_url=database_url, rabbitmq_url=rabbitmq_url, outbox_poll_seconds=0.2)
