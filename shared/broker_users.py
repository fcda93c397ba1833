"""The broker's users and what each may do, derived from the code: every service connects as
`linli-<service>`, every outside system as its `source` id, observers as `linli-observer`, and
operators as `linli-ops`. `python -m services broker-users` creates them for the vhost of
RABBITMQ_URL, idempotently.

What each may do (RabbitMQ checks permissions on exchange and queue names, and topic
permissions on the routing keys of publishes and bindings):
- a service declares and reads only its own queues (`<service>.*`, their `.dlq`s) and binds them
  only by the routing keys it consumes (its `Consumers`); it publishes on `linli.events` and
  `linli.personal` only the events it owns (`ServiceDefinition.publishes`). It declares no
  exchange: the exchanges are declared here, and services look them up (`declare=False`).
- a source publishes only to `linli.intake`, only the routing keys of its kind (`publishes`
  in the sources file), and reads nothing.
- the observer declares its own server-named queues (`amq.gen-…`) and binds them to
  `linli.events`, by any key; it publishes nothing and reads no other queue nor `linli.personal`.
- ops: the observer's rights, reading (or purging) the dead-letter queues `*.dlq` and
  `linli.unrouted` (the public events nobody was bound for), and publishing on `linli.events`,
  by any key, to replay a dead event where it came from (`linli dlq replay`); never on
  `linli.personal` nor `linli.intake`.

The definitions also hold the alternate exchanges of `linli.events` and `linli.personal` (a
policy, for an exchange's own arguments cannot change once it exists) and their queues.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from shared.topology import DEAD_LETTERS, EVENTS, EXCHANGES, INTAKE, UNROUTED

OBSERVER, OPS = "linli-observer", "linli-ops"
# The autoscaler (KEDA) reads queue depths through the management API and nothing else: no
# message, no publish (linli-ops may publish on linli.events, to replay dead letters).
SCALER = "linli-scaler"
# What a source publishes when the sources file does not say: a hotline's or grid platform's kinds
# (a grid platform files the key households of its grids: household.register).
DEFAULT_SOURCE_KEYS = ("request.submit", "request.cancel", "case.submit", "household.register")
VOLUNTEER_APP_KEYS = ("volunteer.register", "assignment.respond", "service.complete")
PERSONAL = "linli.personal"  # the restricted exchange of the events that carry personal data
NOTHING = "^$"
SERVER_NAMED = r"amq\.gen-.*"


def user_of(service: str) -> str:
    return f"linli-{service}"


@dataclass(frozen=True)
class Grant:
    """One user's permissions in a vhost: configure/write/read regexes on resource names, and
    per exchange the write/read regexes on routing keys."""

    user: str
    configure: str
    write: str
    read: str
    topics: dict[str, tuple[str, str]]
    tags: tuple[str, ...] = ()


def any_of(names: Iterable[str]) -> str:
    """A regex that matches exactly these names (and nothing when there are none)."""
    names = sorted(set(names))
    return f"^({'|'.join(re.escape(name) for name in names)})$" if names else NOTHING


def service_grant(service: str, bindings: Iterable[tuple[str, str]], publishes: Iterable[str]) -> Grant:
    """`bindings`: the (exchange, routing key) of each of its queues; `publishes`: its events' keys."""
    bindings, own, publishes = list(bindings), rf"{re.escape(service)}\..*", list(publishes)
    exchanges = {exchange for exchange, _ in bindings} | {DEAD_LETTERS.name}
    published = any_of(publishes)
    writes = [DEAD_LETTERS.name, *((EVENTS.name, PERSONAL) if publishes else ())]
    # `<service>.*` binding keys on linli.dlx: each queue's dead letters, into its `.dlq`.
    topics = {exchange: (NOTHING, any_of(key for e, key in bindings if e == exchange)) for exchange in exchanges}
    topics[DEAD_LETTERS.name] = (NOTHING, f"^{own}$")
    # An event's key may be bound (or unbound, when its queue moves) on either events exchange:
    # the same keys on both, the public and the whole form of the events the service reads.
    events_read = any_of(key for e, key in bindings if e in (EVENTS.name, PERSONAL))
    for exchange in (EVENTS.name, PERSONAL):
        topics[exchange] = (published, events_read)
    return Grant(user_of(service), configure=f"^{own}$",
                 # writes: its queues (to bind them), the dead-letter exchange its queues name, its events
                 write=f"^({own}|{'|'.join(re.escape(e) for e in writes)})$",
                 read=f"^({own}|{'|'.join(re.escape(e) for e in sorted(exchanges | {PERSONAL}))})$",
                 topics=topics)


def source_grant(source: str, keys: Iterable[str]) -> Grant:
    return Grant(source, configure=NOTHING, write=f"^{re.escape(INTAKE.name)}$", read=NOTHING,
                 topics={INTAKE.name: (any_of(keys), NOTHING)})


def observer_grant(user: str = OBSERVER, also_reads: str | None = None, tags: tuple[str, ...] = ()) -> Grant:
    reads = "|".join(filter(None, (SERVER_NAMED, re.escape(EVENTS.name), also_reads)))
    return Grant(user, configure=f"^{SERVER_NAMED}$", write=f"^{SERVER_NAMED}$", read=f"^({reads})$",
                 topics={EVENTS.name: (NOTHING, ".*")}, tags=tags)


def ops_grant() -> Grant:
    observer = observer_grant(OPS, also_reads=rf".*\.dlq|{re.escape(UNROUTED[EVENTS.name])}", tags=("monitoring",))
    return replace(observer, write=f"^({SERVER_NAMED}|{re.escape(EVENTS.name)})$",
                   topics={EVENTS.name: (".*", ".*")})


def scaler_grant() -> Grant:
    """Sees the vhost's queues in the management API (the `monitoring` tag); may touch no resource."""
    return Grant(SCALER, configure=NOTHING, write=NOTHING, read=NOTHING, topics={}, tags=("monitoring",))


def grants(services: Iterable, sources: Iterable) -> list[Grant]:
    """Every user's grant: `services` are ServiceDefinitions, `sources` intake's Source entries."""
    return [*(service_grant(s.name, s.consumers.bindings, [e.routing_key for e in s.publishes]) for s in services),
            *(source_grant(s.source, s.publishes) for s in sources), observer_grant(), ops_grant(), scaler_grant()]


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(vhost: str, grants_: Iterable[Grant], passwords: dict[str, str]) -> dict:
    """RabbitMQ definitions (the format of `rabbitmqctl import_definitions` and of the management
    API's POST /api/definitions): the vhost, its exchanges, and each user that has a password."""
    granted = [g for g in grants_ if passwords.get(g.user)]
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [*({"name": name, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
                         "internal": False, "arguments": {}} for name in dict.fromkeys([*(e.name for e in EXCHANGES), PERSONAL])),
                      *({"name": name, "vhost": vhost, "type": "fanout", "durable": True, "auto_delete": False,
                         "internal": True, "arguments": {}} for name in UNROUTED.values())],
        "queues": [{"name": name, "vhost": vhost, "durable": True, "auto_delete": False,
                    "arguments": {"x-queue-type": "quorum"}} for name in UNROUTED.values()],
        "bindings": [{"source": name, "vhost": vhost, "destination": name, "destination_type": "queue",
                      "routing_key": "", "arguments": {}} for name in UNROUTED.values()],
        "policies": [{"name": f"{exchange}.unrouted", "vhost": vhost, "pattern": f"^{re.escape(exchange)}$",
                      "apply-to": "exchanges", "priority": 0, "definition": {"alternate-exchange": unrouted}}
                     for exchange, unrouted in UNROUTED.items()],
        "users": [{"name": g.user, "password_hash": password_hash(passwords[g.user]),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": list(g.tags)} for g in granted],
        "permissions": [{"user": g.user, "vhost": vhost, "configure": g.configure, "write": g.write, "read": g.read}
                        for g in granted],
        "topic_permissions": [{"user": g.user, "vhost": vhost, "exchange": exchange, "write": write, "read": read}
                              for g in granted for exchange, (write, read) in sorted(g.topics.items())],
    }


def load_passwords(path: str | None) -> dict[str, str]:
    """The users' passwords: a JSON object user -> password (development: deploy/broker-users.dev.json)."""
    return json.loads(Path(path).read_text(encoding="utf-8")) if path else {}


def vhost_of(url: str) -> str:
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def url_as(url: str, user: str, password: str) -> str:
    """The broker URL (host, port, vhost) with another user."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}{f':{parts.port}' if parts.port else ''}"
    return urlunsplit(parts._replace(netloc=netloc))


def management_endpoint(url: str, port: int | None = None) -> tuple[str, tuple[str, str]]:
    """A management API URL (`http://user:password@host:15672`) as its address without the
    credentials (on `port` when the URL names none), and the credentials (guest by default)."""
    parts = urlsplit(url)
    port = parts.port or port
    base = urlunsplit(parts._replace(netloc=parts.hostname + (f":{port}" if port else "")))
    return base, (unquote(parts.username or "guest"), unquote(parts.password or "guest"))


def apply(definitions_: dict, broker_url: str, management_url: str | None = None) -> str:
    """Import the definitions: over the management API when its URL is given, else with
    rabbitmqctl on this machine (synchronously, by `rabbit_definitions:import_raw`). Returns how."""
    if management_url:
        import httpx
        base, auth = management_endpoint(management_url)
        response = httpx.post(base.rstrip("/") + "/api/definitions", json=definitions_, timeout=60, auth=auth)
        response.raise_for_status()
        return f"management API {base}"
    if urlsplit(broker_url).hostname not in ("127.0.0.1", "localhost", "::1") or not shutil.which("rabbitmqctl"):
        raise RuntimeError("the broker is not local: set RABBITMQ_MANAGEMENT_URL (http://admin:password@host:15672)")
    text = json.dumps(definitions_)  # ASCII: safe inside an Erlang binary once quotes and backslashes are escaped
    expression = 'rabbit_definitions:import_raw(<<"' + text.replace("\\", "\\\\").replace('"', '\\"') + '">>).'
    # The expression goes in on stdin: Debian's rabbitmqctl wrapper re-parses its arguments with sh.
    result = subprocess.run(["rabbitmqctl", "eval"], input=expression, capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or result.stdout.strip() != "ok":
        raise RuntimeError(f"rabbitmqctl could not import the definitions: {result.stdout} {result.stderr}".strip())
    return "rabbitmqctl"
