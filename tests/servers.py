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
from urllib.parse import quote, unquote, urlsplit, urlunsplit

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


# Seconds a server may take to answer before the run stops with a message naming it.
ANSWER_SECONDS = 10
CONNECT_TIMEOUT = ANSWER_SECONDS  # every test connection to the broker has a time limit
RABBITMQCTL_SECONDS = 120
# Recovery of the local RabbitMQ 3.10 when it stops completing handshakes (seen after many vhost cycles).
BROKER_RECOVERY = "rabbitmqctl eval 'erlang:halt().' then rabbitmq-server -detached"


def rabbitmqctl(*args: str, stdin: str | None = None) -> str:
    """Run rabbitmqctl with a time limit; a broker that does not answer fails with its name."""
    try:
        result = subprocess.run(["rabbitmqctl", *args], input=stdin, capture_output=True, text=True,
                                timeout=RABBITMQCTL_SECONDS, check=True)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"the local RabbitMQ did not answer `rabbitmqctl {args[0]}` in "
                           f"{RABBITMQCTL_SECONDS}s ({BROKER_RECOVERY})") from error
    return result.stdout


def check_answers(database_url: str, broker_url: str) -> None:
    """Fail at once, naming the server, if PostgreSQL does not answer a query or RabbitMQ does
    not complete an AMQP handshake within ANSWER_SECONDS (a broker that takes TCP connections
    but never finishes the handshake would otherwise stall the run)."""
    import psycopg
    try:
        with psycopg.connect(database_url, connect_timeout=ANSWER_SECONDS) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        raise RuntimeError(f"PostgreSQL at {_address(database_url)} did not answer: {error}") from error
    import asyncio
    import aio_pika

    async def handshake():
        connection = await aio_pika.connect(broker_url, timeout=ANSWER_SECONDS)
        await connection.close()
    try:
        asyncio.run(asyncio.wait_for(handshake(), ANSWER_SECONDS + 1))
    except Exception as error:
        raise RuntimeError(f"RabbitMQ at {_address(broker_url)} did not complete an AMQP handshake in "
                           f"{ANSWER_SECONDS}s ({type(error).__name__}); if it is the local one: {BROKER_RECOVERY}") from error


def _address(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def _local(server_url: str) -> bool:
    return urlsplit(server_url).hostname in ("127.0.0.1", "localhost") and bool(shutil.which("rabbitmqctl"))


def _with_vhost(server_url: str, vhost: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path="/" + quote(vhost, safe="")))


def make_vhost(server_url: str) -> str:
    """A new vhost with linli's users and permissions in it (`python -m services broker-users`,
    for the tests' sources); returns its URL."""
    vhost = f"linli-test-{uuid.uuid4().hex[:12]}"
    user = urlsplit(server_url).username or "guest"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    url = _with_vhost(server_url, vhost)
    from services.deployment import ensure_broker_users
    from shared.settings import Settings
    ensure_broker_users(Settings(rabbitmq_url=url, intake_sources_file=str(SOURCES),
                                 broker_users_file=str(BROKER_USERS)))
    return url


def delete_vhost(url: str) -> None:
    with contextlib.suppress(RuntimeError, subprocess.CalledProcessError):
        rabbitmqctl("delete_vhost", unquote(urlsplit(url).path[1:]))


@contextlib.contextmanager
def own_vhost(server_url: str) -> Iterator[str]:
    """A vhost of the caller's own while it lasts, made with rabbitmqctl where the broker is local
    to us and deleted after (which also cuts off any process a test left connected to it).

    Elsewhere (a remote broker, a container) the URL's vhost is used as given.
    """
    if not _local(server_url):
        yield server_url
        return
    url = make_vhost(server_url)
    try:
        yield url
    finally:
        delete_vhost(url)
