"""The four services as separate processes, as `make run` starts them."""
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

from shared.settings import Settings

SERVICES = ("intake", "matching", "notify", "reporting")
START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen
    log: Path
    killed: bool = False

    def kill(self) -> None:
        """Stop it dead (SIGKILL), as a crash or the OOM killer would: no shutdown runs."""
        self.process.kill()
        self.process.wait(timeout=30)
        self.killed = True

    def stopped_cleanly(self) -> bool:
        """Uvicorn finishes its shutdown, then re-raises the SIGTERM it caught (a killed one is let be)."""
        return self.killed or (self.process.returncode in (0, -signal.SIGTERM)
                               and "Application shutdown complete" in self.log.read_text(errors="replace"))

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(service: Service) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with {service.process.returncode}:\n{service.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{service.url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} not ready after {START_TIMEOUT_SECONDS}s:\n{service.tail()}")


@contextlib.contextmanager
def system(settings: Settings, logs: Path, names: tuple[str, ...] = SERVICES,
           **environment: str) -> Iterator[dict[str, Service]]:
    """Start the services (by default all four; "matching:2" names a second matching process)
    against `settings`' servers; stop them with SIGTERM at the end and check that each stopped
    cleanly."""
    env = {**os.environ, "DATABASE_URL": settings.database_url, "RABBITMQ_URL": settings.rabbitmq_url,
           "OUTBOX_POLL_SECONDS": "0.2", "INTAKE_SOURCES_FILE": settings.intake_sources_file or "",
           "NOTIFY_QUIET_HOURS": settings.notify_quiet_hours, "REPORTING_PERSON_KEY": settings.reporting_person_key or "",
           "BROKER_USERS_FILE": settings.broker_users_file or "", "LINLI_DEVELOPMENT": str(settings.linli_development),
           "LINLI_TOKEN_JWKS_FILE": settings.linli_token_jwks_file or "",
           **environment}
    services: dict[str, Service] = {}
    try:
        for name in names:  # "matching:2" is a second matching process
            port, service = free_port(), name.split(":")[0]
            env[f"{service.upper()}_PORT"] = str(port)
            log = logs / f"{name.replace(':', '-')}.log"
            process = subprocess.Popen([sys.executable, "-m", f"services.{service}"], env=dict(env),
                                       stdout=log.open("wb"), stderr=subprocess.STDOUT)
            services[name] = Service(name, f"http://127.0.0.1:{port}", process, log)
        for service in services.values():
            _wait_ready(service)
        yield services
    finally:
        for service in services.values():
            service.process.send_signal(signal.SIGTERM)
        for service in services.values():
            service.process.wait(timeout=30)
    unclean = {s.name: s.tail(5) for s in services.values() if not s.stopped_cleanly()}
    assert not unclean, f"services did not stop cleanly: {unclean}"
