"""`python -m services.healthcheck [SERVICE]`: the container image's HEALTHCHECK.

One image runs any of the four services, and its command says which (`python -m
services.intake` …). Without an argument this reads that command from PID 1, the container's
own process, then asks the service for /healthz on its port (shared/settings.py): exit 0 when it
answers 200, 1 otherwise, with one line that says why. It imports no service, so it stays light
enough to run every half minute."""
import sys
import urllib.error
import urllib.request
from pathlib import Path

from shared.settings import Settings

TIMEOUT_SECONDS = 3.0
ANY_ADDRESS = ("", "0.0.0.0", "::")


def service_of(command: list[str]) -> str | None:
    """The service a command line runs (`python -m services.<name>`), or None."""
    for flag, module in zip(command, command[1:]):
        name = module.removeprefix("services.")
        if flag == "-m" and module.startswith("services.") and f"{name}_port" in Settings.model_fields:
            return name
    return None


def health_url(settings: Settings, service: str) -> str:
    host = "127.0.0.1" if settings.host in ANY_ADDRESS else settings.host
    return f"http://{host}:{settings.port_of(service)}/healthz"


def check(url: str) -> str | None:
    """None when `url` answers 200, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            return None if answer.status == 200 else f"{url} answered {answer.status}"
    except urllib.error.HTTPError as error:  # 4xx, 5xx
        return f"{url} answered {error.code}"
    except OSError as error:  # refused, timed out, no such host (URLError included)
        return f"{url} does not answer: {error}"


def main(argv: list[str]) -> int:
    command = Path("/proc/1/cmdline").read_bytes().decode().split("\0") if not argv else []
    service = argv[0] if argv else service_of(command)
    if service is None or f"{service}_port" not in Settings.model_fields:
        print(f"not a linli service: {' '.join(argv or command).strip()!r}")
        return 1
    problem = check(health_url(Settings(), service))
    print(problem or f"{service}: healthy")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
