"""Where the tests find RabbitMQ and PostgreSQL, and how each test run gets its own.

`DATABASE_URL` / `RABBITMQ_URL` first; else the local servers of our machines; testcontainers
only where a Docker engine answers and no local server does. Each run then works in a fresh
database and a fresh RabbitMQ vhost of its own, so runs never see each other's messages.

Both are made cheaply, as about fifty are made a run: a database is cloned from a template the run
migrates once (`CREATE DATABASE … TEMPLATE`), and a vhost is made and deleted over the local
broker's management API (enabled by `make servers`), falling back to rabbitmqctl where it does not
answer.
"""
import contextlib
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx
from psycopg import sql

from shared.broker_users import management_endpoint
from shared.database import drop_database, ensure_database
from shared.postgres import connect

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
def own_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A new database while it lasts: empty, or a copy of `template` (a database of the same
    server, migrated_template's)."""
    url = _in(server_url, f"linli_test_{uuid.uuid4().hex[:12]}")
    if template:
        with connect(_in(server_url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(_name_of(url)), sql.Identifier(template)))
    else:
        ensure_database(url)
    try:
        yield url
    finally:
        drop_database(url)


@contextlib.contextmanager
def migrated_template(server_url: str, migrate: Callable[[str], object]) -> Iterator[str]:
    """A database `migrate(url)` has built, closed to connections so that it can be copied
    (`CREATE DATABASE … TEMPLATE` refuses a template anyone is connected to); yields its name.

    A copy costs a fraction of a migration (about 0.1 s against 2.5 s for the four services), and
    the services migrating at start then find nothing to do."""
    with own_database(server_url) as url:
        migrate(url)
        name = _name_of(url)
        with connect(_in(server_url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        yield name


def _name_of(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def _in(server_url: str, database: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{database}"))


# Seconds a server may take to answer before the run stops with a message naming it.
ANSWER_SECONDS = 10
CONNECT_TIMEOUT = ANSWER_SECONDS  # every test connection to the broker has a time limit
RABBITMQCTL_SECONDS = 120  # also the time limit of a call to its management API
MANAGEMENT_PORT = 15672
# Recovery of the local RabbitMQ 3.10 when it stops completing handshakes (seen after many vhost cycles).
BROKER_RECOVERY = "rabbitmqctl eval 'erlang:halt().' then scripts/ensure-servers.sh (it raises the node's open files)"


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


def management_of(server_url: str) -> str | None:
    """The local broker's management API as the URL's user (http://user:password@host:15672), if
    it answers. A call to it takes milliseconds; rabbitmqctl boots an Erlang VM each time (about
    a second, several under load), three times for each vhost made."""
    parts = urlsplit(server_url)
    url = urlunsplit(("http", f"{parts.netloc.rpartition('@')[0] or 'guest:guest'}@{parts.hostname}:{MANAGEMENT_PORT}",
                      "", "", ""))
    return url if answers(url, MANAGEMENT_PORT) else None


def _manage(method: str, management: str, path: str, **body) -> None:
    base, auth = management_endpoint(management)
    response = httpx.request(method, f"{base}/api/{path}", auth=auth, json=body or None, timeout=RABBITMQCTL_SECONDS)
    if response.is_error:
        raise RuntimeError(f"the broker's management API answered {method} /api/{path} with "
                           f"{response.status_code}: {response.text[:200]}")


def make_vhost(server_url: str) -> str:
    """A new vhost with linli's users and permissions in it (`python -m services broker-users`,
    for the tests' sources); returns its URL."""
    vhost = f"linli-test-{uuid.uuid4().hex[:12]}"
    user = unquote(urlsplit(server_url).username or "guest")
    management = management_of(server_url)
    if management:
        _manage("PUT", management, f"vhosts/{quote(vhost, safe='')}")
        _manage("PUT", management, f"permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
                configure=".*", write=".*", read=".*")
    else:
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    url = _with_vhost(server_url, vhost)
    from services.deployment import ensure_broker_users
    from shared.settings import Settings
    ensure_broker_users(Settings(rabbitmq_url=url, intake_sources_file=str(SOURCES),
                                 broker_users_file=str(BROKER_USERS), rabbitmq_management_url=management))
    return url


def delete_vhost(url: str) -> None:
    vhost = unquote(urlsplit(url).path[1:])
    with contextlib.suppress(RuntimeError, subprocess.CalledProcessError, httpx.HTTPError):
        if management := management_of(url):
            _manage("DELETE", management, f"vhosts/{quote(vhost, safe='')}")
        else:
            rabbitmqctl("delete_vhost", vhost)


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
