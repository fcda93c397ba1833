"""Where the tests find RabbitMQ and PostgreSQL, and how each test run gets its own.

`DATABASE_URL` / `RABBITMQ_URL` first; else the local servers of our machines; testcontainers
only where a Docker engine answers and no local server does. Each run then works in a fresh
database and a fresh RabbitMQ vhost of its own, so runs never see each other's messages.
"""
import contextlib
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from shared.database import drop_database, ensure_database

LOCAL_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
# The broker users of the tests (the sources, their keys, everyone's passwords).
SOURCES = Path(__file__).parent / "sources.json"
BROKER_USERS = Path(__file__).parent / "broker-users.json"


def answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


@contextlib.contextmanager
def database_server(configured: str | None) -> Iterator[str]:
    url = configured or LOCAL_DATABASE
    if configured or answers(url, 5432) or not docker_answers():
        yield url
        return
    from testcontainers.postgres import PostgresContainer
    with PostgresContainer("postgres:15", driver=None) as container:
        yield container.get_connection_url()


@contextlib.contextmanager
def broker_server(configured: str | None) -> Iterator[str]:
    url = configured or LOCAL_BROKER
    if configured or answers(url, 5672) or not docker_answers():
        yield url
        return
    from testcontainers.rabbitmq import RabbitMqContainer
    with RabbitMqContainer("rabbitmq:3.13") as container:
        params = container.get_connection_params()
        yield f"amqp://guest:guest@{params.host}:{params.port}/"


@contextlib.contextmanager
def own_database(server_url: str) -> Iterator[str]:
    parts = urlsplit(server_url)
    url = urlunsplit(parts._replace(path=f"/linli_test_{uuid.uuid4().hex[:12]}"))
    ensure_database(url)
    try:
        yield url
    finally:
        drop_database(url)


@contextlib.contextmanager
def own_vhost(server_url: str) -> Iterator[str]:
    """A vhost of this run's own, made with rabbitmqctl where the broker is local to us, with
    linli's users and permissions in it (`python -m services broker-users`, for the tests' sources).

    Elsewhere (a remote broker, a container) the URL's vhost is used as given.
    """
    host = urlsplit(server_url).hostname
    if host not in ("127.0.0.1", "localhost") or not shutil.which("rabbitmqctl"):
        yield server_url
        return
    vhost = f"linli-test-{uuid.uuid4().hex[:12]}"
    user = urlsplit(server_url).username or "guest"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                   check=True, capture_output=True)
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + quote(vhost, safe="")))
    try:
        from services.deployment import ensure_broker_users
        from shared.settings import Settings
        ensure_broker_users(Settings(rabbitmq_url=url, intake_sources_file=str(SOURCES),
                                     broker_users_file=str(BROKER_USERS)))
        yield url
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)
