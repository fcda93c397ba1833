"""A PostgreSQL cluster and a RabbitMQ node of the suite's own, in a temporary directory on free
ports, so that stopping "the broker" or "the database" disrupts nothing else on the machine (other
test runs use the shared servers on 5432 and 5672, which the suite never touches).

PostgreSQL: Debian's initdb and pg_ctl, as the postgres user when we are root (initdb refuses
root), trust authentication on 127.0.0.1. RabbitMQ: `rabbitmq-server -detached` with its own node
name, ports, data, logs, configuration and (empty) plugins file; every rabbitmqctl of this process
reaches it through RABBITMQ_NODENAME, which `own_servers` sets in the environment (so that
`python -m services broker-users` imports the definitions into this node, never the shared one)."""
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.processes import free_port
from tests.servers import answers

PG_BIN = Path("/usr/lib/postgresql/15/bin")
COMMAND_TIMEOUT_SECONDS = 90
START_TIMEOUT_SECONDS = 90


def _as_user(user: str) -> list[str]:
    """Run a server's command as `user` when we are root (both servers refuse to run as root)."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


def _run(command: list[str], what: str, env: dict | None = None, timeout: float = COMMAND_TIMEOUT_SECONDS) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{what} did not answer within {timeout:g}s: {' '.join(command)}") from None
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}): {result.stdout[-2000:]} {result.stderr[-2000:]}")
    return result.stdout


@dataclass
class Database:
    """The suite's PostgreSQL cluster."""

    data: Path
    socket_dir: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/linli"

    def _pg_ctl(self, *args: str) -> None:
        _run([*_as_user("postgres"), str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args], "pg_ctl")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        self._pg_ctl("-l", str(self.log), "-w", "-t", str(START_TIMEOUT_SECONDS), "-o", options, "start")

    def stop(self) -> None:
        """`pg_ctl stop -m fast`: every session is cut, as in a failover."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return answers(f"postgresql://127.0.0.1:{self.port}", self.port)


@dataclass
class Broker:
    """The suite's RabbitMQ node."""

    node: str
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str, timeout: float = COMMAND_TIMEOUT_SECONDS) -> str:
        return _run(["rabbitmqctl", "-n", self.node, *args], f"rabbitmqctl on {self.node}", self.env, timeout)

    def start(self) -> None:
        _run(["rabbitmq-server", "-detached"], "rabbitmq-server", self.env)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:  # the node registers with epmd a few seconds after -detached returns
            with contextlib.suppress(RuntimeError, TimeoutError):
                self.ctl("await_startup", "--timeout", "30", timeout=40)
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"RabbitMQ node {self.node} did not start within {START_TIMEOUT_SECONDS}s")
            time.sleep(1)

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.ctl("await_startup", "--timeout", "60", timeout=70)

    def connections_of(self, user: str) -> list[str]:
        """The Erlang pids of `user`'s AMQP connections."""
        listing = self.ctl("list_connections", "pid", "user", "--no-table-headers", "--quiet")
        return [line.split("\t")[0] for line in listing.splitlines() if line.split("\t")[-1:] == [user]]

    def close_connections_of(self, user: str) -> int:
        """Cut `user`'s connections, as a network fault or a broker operator would; returns how many."""
        pids = self.connections_of(user)
        for pid in pids:
            self.ctl("close_connection", pid, "fault suite: connection cut")
        return len(pids)

    def shutdown(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError):
            self.ctl("stop", timeout=60)


def _owned_by(path: Path, user: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _database(root: Path) -> Database:
    home = _owned_by(root / "pg", "postgres")
    database = Database(home / "data", home, free_port(), home / "postgresql.log")
    _run([*_as_user("postgres"), str(PG_BIN / "initdb"), "-D", str(database.data), "-U", "postgres",
          "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], "initdb")
    database.start()
    return database


def _broker(root: Path) -> Broker:
    home = _owned_by(root / "rabbitmq", "rabbitmq")
    port, dist_port = free_port(), free_port()
    node = f"linli-faults-{uuid.uuid4().hex[:8]}@localhost"
    (home / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n")
    (home / "enabled_plugins").write_text("[].\n")
    if os.geteuid() == 0:
        entry = pwd.getpwnam("rabbitmq")
        for name in ("rabbitmq.conf", "enabled_plugins"):
            os.chown(home / name, entry.pw_uid, entry.pw_gid)
    env = {**os.environ, "RABBITMQ_NODENAME": node, "RABBITMQ_NODE_PORT": str(port),
           "RABBITMQ_DIST_PORT": str(dist_port), "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
           "RABBITMQ_LOG_BASE": str(home / "log"), "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
           "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"), "RABBITMQ_PID_FILE": str(home / "pid")}
    broker = Broker(node, port, env)
    broker.start()
    return broker


@dataclass
class OwnServers:
    root: Path
    database: Database
    broker: Broker


@contextlib.contextmanager
def own_servers(logs: Path | None = None) -> Iterator[OwnServers]:
    """Both servers, started; stopped and their directory removed at the end, always, PostgreSQL's
    log first copied into `logs` (a deadlock's two statements are there)."""
    for tool in ("rabbitmq-server", "rabbitmqctl", str(PG_BIN / "initdb")):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is not installed (make servers installs Debian's PostgreSQL and RabbitMQ)")
    root = Path(tempfile.mkdtemp(prefix="linli-faults-"))
    root.chmod(0o755)
    database = broker = None
    saved = os.environ.get("RABBITMQ_NODENAME")
    try:
        database = _database(root)
        broker = _broker(root)
        os.environ["RABBITMQ_NODENAME"] = broker.node  # every rabbitmqctl of ours reaches our node
        yield OwnServers(root, database, broker)
    finally:
        if broker:
            broker.shutdown()
        if database and database.running():
            with contextlib.suppress(RuntimeError, TimeoutError):
                database.stop()
        if saved is None:
            os.environ.pop("RABBITMQ_NODENAME", None)
        else:
            os.environ["RABBITMQ_NODENAME"] = saved
        if logs and database:
            with contextlib.suppress(OSError):
                shutil.copy(database.log, logs / "postgresql.log")
        shutil.rmtree(root, ignore_errors=True)
