"""`python -m services run`: the four services as separate processes, supervised as Kubernetes
would supervise them. Each line they write comes out prefixed with the service's name; a service
that dies is started again after a backoff (logged) while the others keep running; SIGINT or
SIGTERM stops them all with SIGTERM, then SIGKILL for any still there after the grace period.

Standard library only (subprocess, signals, threads for the output) besides linli's settings (the
services' ports). Each service runs in a session of its own: Ctrl-C reaches the supervisor
alone, which stops the services in order; a service also gets SIGTERM if the supervisor itself
dies (PR_SET_PDEATHSIG), so none is left behind.

`--replicas N` runs N processes of every service, competing consumers of the same queues (their
handlers, outbox relays and timers are safe side by side: row locks, SKIP LOCKED). Replica k is
named `matching-k`, listens on the service's port + 10·(k−1) (matching: 8002, 8012 …) and is
restarted on its own; its name is in its environment (LINLI_REPLICA) for `children`."""
import argparse
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO

from shared.settings import get_settings

SERVICES = ("intake", "matching", "notify", "reporting")
RESTART_BASE_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
# A service that stayed up this long is well again: its next death starts the backoff anew.
STABLE_SECONDS = 30.0
GRACE_SECONDS = 20.0
REPLICA_PORT_STEP = 10
REPLICA_VARIABLE = "LINLI_REPLICA"
_PR_SET_PDEATHSIG = 1


def restart_delay(deaths_in_a_row: int, base: float = RESTART_BASE_SECONDS, cap: float = RESTART_MAX_SECONDS) -> float:
    """Seconds to wait before starting a service again after its n-th death in a row (1, 2, 4 … cap)."""
    return min(cap, base * 2 ** max(0, deaths_in_a_row - 1))


def deaths_in_a_row(before: int, uptime: float, stable: float = STABLE_SECONDS) -> int:
    """The count after one more death: a service that had run for `stable` seconds starts at 1 again."""
    return 1 if uptime >= stable else before + 1


def replica_name(service: str, replica: int, replicas: int) -> str:
    """`matching` when it runs alone; `matching-1`, `matching-2` … when it runs as several."""
    return service if replicas == 1 else f"{service}-{replica}"


def replica_port(port: int, replica: int) -> int:
    """Replica k listens on the service's port + 10·(k−1): matching-1 on 8002, matching-2 on 8012."""
    return port + REPLICA_PORT_STEP * (replica - 1)


def replicas_of(services: tuple[str, ...], replicas: int, ports: dict[str, int]) -> list[tuple[str, str, int]]:
    """(service, replica's name, its port) for every replica of every service, replica by replica."""
    return [(service, replica_name(service, k, replicas), replica_port(ports[service], k))
            for k in range(1, replicas + 1) for service in services]


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Supervised:
    name: str
    command: list[str]
    environment: dict[str, str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    deaths: int = 0
    restart_at: float | None = None  # when a dead one is due to start again
    readers: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(self, replicas: list[tuple[str, str, int]], out: IO[str] = sys.stdout, grace: float = GRACE_SECONDS):
        """`replicas`: (service, replica's name, port) of each process to run (`replicas_of`)."""
        self.services = [Supervised(name, [sys.executable, "-m", f"services.{service}"],
                                    {**os.environ, f"{service.upper()}_PORT": str(port), REPLICA_VARIABLE: name})
                         for service, name, port in replicas]
        self.out, self.grace = out, grace
        self.width = max(map(len, (*(s.name for s in self.services), "supervisor")))
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{name:<{self.width}} | {line}\n")
            self.out.flush()

    def _start(self, service: Supervised) -> None:
        service.process = subprocess.Popen(service.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, env=service.environment, start_new_session=True,
                                           preexec_fn=_die_with_parent)
        service.started_at, service.restart_at = time.monotonic(), None
        reader = threading.Thread(target=self._relay, args=(service.name, service.process.stdout), daemon=True)
        reader.start()
        service.readers.append(reader)
        self.say("supervisor", f"{service.name} started (pid {service.process.pid})")

    def _relay(self, name: str, stream: IO[bytes]) -> None:
        for raw in stream:
            self.say(name, raw.decode(errors="replace").rstrip("\n"))

    def _watch(self, service: Supervised) -> None:
        """Start a dead service again once its backoff has passed."""
        now = time.monotonic()
        if service.restart_at is None:
            code = service.process.poll()
            if code is None:
                return
            service.deaths = deaths_in_a_row(service.deaths, now - service.started_at)
            delay = restart_delay(service.deaths)
            service.restart_at = now + delay
            self.say("supervisor", f"{service.name} (pid {service.process.pid}) exited with {code}; "
                                   f"restarting in {delay:g}s (death {service.deaths} in a row)")
        elif now >= service.restart_at:
            self._start(service)

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stopping.set())
        for service in self.services:
            self._start(service)
        while not self.stopping.wait(0.2):
            for service in self.services:
                self._watch(service)
        self.stop()
        return 0

    def stop(self) -> None:
        """SIGTERM to every service at once, then SIGKILL to any still running after the grace period."""
        alive = [s.process for s in self.services if s.process and s.process.poll() is None]
        self.say("supervisor", f"stopping {len(alive)} services (SIGTERM, SIGKILL after {self.grace:g}s)")
        for process in alive:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for process in alive:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("supervisor", f"pid {process.pid} still running after {self.grace:g}s: SIGKILL")
                process.kill()
                process.wait()
        for service in self.services:
            for reader in service.readers:
                reader.join(timeout=5)
        self.say("supervisor", "all services stopped")


def children(supervisor_pid: int) -> dict[str, int]:
    """The replicas a running supervisor has now, by name (`matching`, or `matching-2` …): their
    pids (Linux's /proc; each one's name is in its environment)."""
    found = {}
    prefix = f"{REPLICA_VARIABLE}=".encode()
    with open(f"/proc/{supervisor_pid}/task/{supervisor_pid}/children") as listing:
        for pid in map(int, listing.read().split()):
            try:
                with open(f"/proc/{pid}/environ", "rb") as environ:
                    variables = environ.read().split(b"\0")
            except (FileNotFoundError, ProcessLookupError):
                continue
            name = next((v[len(prefix):].decode() for v in variables if v.startswith(prefix)), None)
            if name:
                found[name] = pid
    return found


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services run", description="Run linli's services, supervised.")
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=f"among {', '.join(SERVICES)} (all by default)")
    parser.add_argument("--replicas", type=int, default=1, help="processes of each service (default 1)")
    args = parser.parse_args(argv)
    unknown = set(args.services) - set(SERVICES)
    if unknown:
        parser.error(f"unknown services {sorted(unknown)}: choose among {', '.join(SERVICES)}")
    if args.replicas < 1:
        parser.error(f"--replicas must be at least 1, not {args.replicas}")
    return args


def main(argv: list[str]) -> int:
    """`run [SERVICE …] [--replicas N]`: all four by default, one process of each."""
    args = arguments(argv)
    services = tuple(args.services) or SERVICES
    settings = get_settings()
    grace = float(os.environ.get("SUPERVISOR_GRACE_SECONDS", GRACE_SECONDS))
    ports = {service: settings.port_of(service) for service in services}
    return Supervisor(replicas_of(services, args.replicas, ports), grace=grace).run()
