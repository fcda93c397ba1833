"""The four services under `python -m services run` (services/supervisor.py), against given
servers: started (N processes of each with `replicas`), watched through /readyz, a replica
killed by its pid, the whole stopped by SIGTERM as an orchestrator would."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.supervisor import SERVICES, children, replica_port, replicas_of
from shared.settings import Settings
from tests.e2e.processes import free_port

READY_TIMEOUT_SECONDS = 90.0


def environment(settings: Settings, ports: dict[str, int], **extra: str) -> dict[str, str]:
    """What the services need to run against `settings`' servers, each on its port."""
    return {**os.environ, "DATABASE_URL": settings.database_url, "RABBITMQ_URL": settings.rabbitmq_url,
            "OUTBOX_POLL_SECONDS": str(settings.outbox_poll_seconds),
            "INTAKE_SOURCES_FILE": settings.intake_sources_file or "",
            "NOTIFY_QUIET_HOURS": settings.notify_quiet_hours,
            "REPORTING_PERSON_KEY": settings.reporting_person_key or "",
            "BROKER_USERS_FILE": settings.broker_users_file or "",
            "LINLI_DEVELOPMENT": str(settings.linli_development),
            "LINLI_TOKEN_JWKS_FILE": settings.linli_token_jwks_file or "",
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
            **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()}, **extra}


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(replicas: int) -> int:
    """A free port whose replicas' ports (services/supervisor.py's rule) are free too."""
    while True:
        port = free_port()
        if all(_free(replica_port(port, k)) for k in range(2, replicas + 1)):
            return port


@dataclass
class Supervised:
    """A running supervisor and where its replicas listen, by name (`matching`, or `matching-2` …)."""

    process: subprocess.Popen
    urls: dict[str, str]
    log: Path
    replicas: dict[str, list[str]]  # each service's replicas, by name, the first first

    def url(self, service: str) -> str:
        """Where the service's first replica listens (every replica answers alike from the database)."""
        return self.urls[self.replicas[service][0]]

    def siblings(self, name: str) -> list[str]:
        """The other replicas of `name`'s service."""
        return next([other for other in names if other != name] for names in self.replicas.values() if name in names)

    def pids(self) -> dict[str, int]:
        return children(self.process.pid)

    def ready(self, name: str) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.urls[name]}/readyz", timeout=2).status_code == 200
        return False

    def all_ready(self) -> bool:
        return all(self.ready(name) for name in self.urls)

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS, names: tuple[str, ...] | None = None) -> float:
        """Seconds until every service (or `names`) answers /readyz with 200; raises naming those that do not."""
        started, names = time.monotonic(), names or tuple(self.urls)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the supervisor exited with {self.process.returncode}:\n{self.tail()}")
            if all(self.ready(name) for name in names):
                return time.monotonic() - started
            time.sleep(0.2)
        late = [f"{name} ({self.readiness(name)})" for name in names if not self.ready(name)]
        raise TimeoutError(f"not ready after {timeout:g}s: {', '.join(late)}\n{self.tail()}")

    def readiness(self, name: str) -> str:
        """What the replica's /readyz says (which of the broker, the database, a worker is not ok)."""
        try:
            return httpx.get(f"{self.urls[name]}/readyz", timeout=2).text[:300]
        except httpx.HTTPError as error:
            return f"/readyz: {type(error).__name__}"

    def kill(self, name: str) -> int:
        """SIGKILL the replica, as a crash or the OOM killer would; returns the pid it had."""
        pid = self.pids()[name]
        os.kill(pid, signal.SIGKILL)
        return pid

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def supervised(settings: Settings, logs: Path, names: tuple[str, ...] = SERVICES, grace: float = 20.0,
               replicas: int = 1, **extra: str) -> Iterator[Supervised]:
    """The services under the supervisor (`replicas` processes of each), ready; SIGTERM to the
    supervisor at the end (SIGKILL if it has not stopped them all within the grace period and a margin)."""
    ports = {name: free_base_port(replicas) for name in names}
    log = logs / "supervisor.log"
    process = subprocess.Popen([sys.executable, "-m", "services", "run", *names, "--replicas", str(replicas)],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=environment(settings, ports, SUPERVISOR_GRACE_SECONDS=str(grace), **extra))
    processes = replicas_of(names, replicas, ports)
    system = Supervised(process, {name: f"http://127.0.0.1:{port}" for _, name, port in processes}, log,
                        {service: [name for of, name, _ in processes if of == service] for service in names})
    try:
        system.wait_ready()
        yield system
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace + 15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
