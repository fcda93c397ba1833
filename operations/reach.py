"""Where the `linli` commands find what they talk to, and how they fail when it does not answer.

- the broker's management API: RABBITMQ_MANAGEMENT_URL (http://user:password@host:15672), else
  port 15672 on RABBITMQ_URL's host with RABBITMQ_URL's user; the vhost is RABBITMQ_URL's;
- the broker itself, for dead letters: `--broker URL`, else RABBITMQ_URL as the ops user
  (`linli-ops`, its password in BROKER_USERS_FILE or LINLI_OPS_RABBITMQ_PASSWORD);
- each service's HTTP API: `--url`/LINLI_<SERVICE>_URL, else the settings' host and port;
- `/metrics` wants an ops token: LINLI_OPS_TOKEN, else (development) one signed with the
  development key, as `python -m shared.tokens issue --role ops` does.

A server that does not answer is one line on stderr saying what to do, and exit code 1.
"""
import os
from contextlib import contextmanager
from urllib.parse import quote, urlsplit

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from shared.broker_users import OPS, load_passwords, management_endpoint, url_as, vhost_of
from shared.settings import Settings
from shared.tokens import DEV_KEY, issue

SERVICE_NAMES = ("intake", "matching", "notify", "reporting")
# Seconds any one HTTP call to a server may take (connecting included).
HTTP_TIMEOUT = httpx.Timeout(5.0)
# Seconds to connect to the broker over AMQP.
BROKER_TIMEOUT = 10.0
MANAGEMENT_PORT = 15672

errors = Console(stderr=True)


class Unreachable(Exception):
    """A server did not answer (or refused us); the message says which and what to do."""


def fail(message: str) -> typer.Exit:
    """Print the one line and give the exit to raise."""
    errors.print(f"[bold red]linli:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def clear_errors():
    """Turn an Unreachable into its one line and exit code 1, never a traceback."""
    try:
        yield
    except Unreachable as error:
        raise fail(str(error)) from None


def address(url: str) -> str:
    """host:port of a URL, without its credentials (for messages)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def service_url(settings: Settings, service: str, given: str | None = None) -> str:
    if given or (given := os.environ.get(f"LINLI_{service.upper()}_URL")):
        return given.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    return f"http://{host}:{settings.port_of(service)}"


def ops_token() -> str | None:
    """The token `/metrics` wants; None when there is neither LINLI_OPS_TOKEN nor the development key."""
    if token := os.environ.get("LINLI_OPS_TOKEN"):
        return token
    return issue(DEV_KEY.read_bytes(), "ops", "linli-cli", hours=1) if DEV_KEY.exists() else None


def broker_url(settings: Settings, given: str | None = None) -> str:
    """The broker as the ops user (or `given`): who reads, replays and purges dead letters."""
    if given:
        return given
    password = os.environ.get("LINLI_OPS_RABBITMQ_PASSWORD") or load_passwords(settings.broker_users_file).get(OPS)
    return url_as(settings.rabbitmq_url, OPS, password) if password else settings.rabbitmq_url


class Management:
    """The few calls of RabbitMQ's management HTTP API that `linli status` makes."""

    def __init__(self, settings: Settings):
        amqp = urlsplit(settings.rabbitmq_url)  # unset: the broker's host, as RABBITMQ_URL's user
        userinfo = amqp.netloc.rpartition("@")[0]
        given = settings.rabbitmq_management_url or f"http://{userinfo + '@' if userinfo else ''}{amqp.hostname}"
        self.base, self.auth = management_endpoint(given, MANAGEMENT_PORT)
        self.vhost = vhost_of(settings.rabbitmq_url)

    async def queues(self, client: httpx.AsyncClient) -> list[dict]:
        url = f"{self.base.rstrip('/')}/api/queues/{quote(self.vhost, safe='')}"
        try:
            response = await client.get(url, auth=self.auth, timeout=HTTP_TIMEOUT)
        except httpx.InvalidURL as error:
            raise Unreachable(f"RABBITMQ_MANAGEMENT_URL is not a URL like http://user:password@host:15672 "
                              f"({error})") from error
        except httpx.HTTPError as error:
            raise Unreachable(f"RabbitMQ's management API at {address(self.base)} does not answer "
                              f"({type(error).__name__}): is the broker up, with `rabbitmq-plugins enable "
                              f"rabbitmq_management`? Set RABBITMQ_MANAGEMENT_URL if it is elsewhere.") from error
        if response.status_code in (401, 403):
            raise Unreachable(f"RabbitMQ's management API at {address(self.base)} refused user {self.auth[0]!r} "
                              f"({response.status_code}): give RABBITMQ_MANAGEMENT_URL a user tagged monitoring")
        if response.status_code == 404:
            raise Unreachable(f"RabbitMQ has no vhost {self.vhost!r} (RABBITMQ_URL's)")
        response.raise_for_status()
        return response.json()
