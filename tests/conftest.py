import contextlib
import os

import pytest

from shared.settings import Settings
from tests.identities import JWKS_FILE
from tests.servers import BROKER_USERS, SOURCES, broker_server, check_answers, database_server, own_database, own_vhost

# The systems the tests publish as (tests/sources.json), with their API keys.
KEYS = {"hotline-12345": "test-key-hotline", "grid-platform": "test-key-grid",
        "volunteer-app": "test-key-volunteer-app"}


@pytest.fixture(scope="session")
def servers():
    """(database server URL, broker URL) for this run: configured, local, or containers; the run
    stops at once, naming the server, if one does not answer."""
    with database_server(os.environ.get("DATABASE_URL")) as database, \
            broker_server(os.environ.get("RABBITMQ_URL")) as broker:
        try:
            check_answers(database, broker)
        except RuntimeError as error:
            pytest.exit(str(error), returncode=3)
        yield database, broker


@contextlib.contextmanager
def isolated_settings(servers):
    database, broker = servers
    with own_database(database) as database_url, own_vhost(broker) as rabbitmq_url:
        # No quiet hours: what the tests expect must not depend on the hour they run at. Each
        # service connects as its own broker user (tests/broker-users.json) and trusts this
        # session's own token key (tests/identities.py).
        yield Settings(database_url=database_url, rabbitmq_url=rabbitmq_url, outbox_poll_seconds=0.2,
                       intake_sources_file=str(SOURCES), notify_quiet_hours="", broker_users_file=str(BROKER_USERS),
                       linli_development=True, reporting_person_key="test-person-key",
                       linli_token_jwks_file=str(JWKS_FILE))


@pytest.fixture(scope="session")
def settings(servers):
    """A database and vhost of this run's own, shared by the integration tests."""
    with isolated_settings(servers) as settings:
        yield settings


@pytest.fixture
def fresh_settings(servers):
    """A database and vhost of this test's own, for tests that count everything they see."""
    with isolated_settings(servers) as settings:
        yield settings
