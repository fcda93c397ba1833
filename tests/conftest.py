import contextlib
import os

import pytest

from services.deployment import migrate_all
from shared.settings import Settings
from tests.benchmark_run import CHECKS, BenchmarkRun
from tests.identities import JWKS_FILE
from tests.servers import (BROKER_USERS, SOURCES, broker_server, check_answers, database_server, migrated_template,
                           own_database, own_vhost)

# The systems the tests publish as (tests/sources.json), with their API keys.
KEYS = {"hotline-12345": "test-key-hotline", "grid-platform": "test-key-grid",
        "volunteer-app": "test-key-volunteer-app"}


class Servers(tuple):
    """The run's servers, as the tests have always had them: (database server URL, broker URL);
    and `template`, the database every isolated_settings' database is a copy of (the four
    services' migrations, applied once)."""

    def __new__(cls, database: str, broker: str, template: str):
        servers = super().__new__(cls, (database, broker))
        servers.template = template
        return servers

    @property
    def database(self) -> str:
        return self[0]

    @property
    def broker(self) -> str:
        return self[1]


@pytest.fixture(scope="session")
def servers():
    """The servers for this run: configured, local, or containers; the run stops at once,
    naming the server, if one does not answer."""
    with database_server(os.environ.get("DATABASE_URL")) as database, \
            broker_server(os.environ.get("RABBITMQ_URL")) as broker:
        try:
            check_answers(database, broker)
        except RuntimeError as error:
            pytest.exit(str(error), returncode=3)
        with migrated_template(database, lambda url: migrate_all(settings_for(url, broker))) as template:
            yield Servers(database, broker, template)


def settings_for(database_url: str, rabbitmq_url: str) -> Settings:
    # No quiet hours: what the tests expect must not depend on the hour they run at. Each
    # service connects as its own broker user (tests/broker-users.json) and trusts this
    # session's own token key (tests/identities.py).
    return Settings(database_url=database_url, rabbitmq_url=rabbitmq_url, outbox_poll_seconds=0.2,
                    intake_sources_file=str(SOURCES), notify_quiet_hours="", broker_users_file=str(BROKER_USERS),
                    linli_development=True, reporting_person_key="test-person-key",
                    linli_token_jwks_file=str(JWKS_FILE))


@contextlib.contextmanager
def isolated_settings(servers: Servers):
    """A database (migrated) and a vhost of the caller's own, while it lasts."""
    with own_database(servers.database, servers.template) as database_url, own_vhost(servers.broker) as rabbitmq_url:
        yield settings_for(database_url, rabbitmq_url)


def pytest_collection_modifyitems(items):
    """The benchmarks' checks last: their run goes on beside every other test (tests/benchmark_run.py)."""
    items.sort(key=lambda item: item.module.__name__ == CHECKS)


@pytest.fixture(scope="session", autouse=True)
def benchmarks(request):
    """The tiny benchmark run, started with the first test when the benchmarks' checks are chosen."""
    if not any(item.module.__name__ == CHECKS for item in request.session.items):
        yield None
        return
    database, broker = request.getfixturevalue("servers")
    run = BenchmarkRun(database, broker)
    try:
        yield run
    finally:
        run.stop()


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
