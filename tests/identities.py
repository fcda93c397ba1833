"""Who the tests call as: one key pair made per test session, its JWKS in a file the services
trust (tests/conftest.py's settings, tests/e2e/processes.py's environment), and tokens for any
role. `running()` clients are ops by default; a test that checks what someone else sees (or is
refused) sends its own `as_(…)` headers."""
import atexit
import json
import shutil
import tempfile
from pathlib import Path

from shared.tokens import issue, key_pair

PEM, JWKS = key_pair()
_DIRECTORY = Path(tempfile.mkdtemp(prefix="linli-test-jwks-"))
atexit.register(shutil.rmtree, _DIRECTORY, True)
JWKS_FILE = _DIRECTORY / "jwks.json"
JWKS_FILE.write_text(json.dumps(JWKS))


def token(role: str, subject: str | None = None, area: str | None = None, source: str | None = None) -> str:
    return issue(PEM, role, subject or role, area, source)


def as_(role: str, subject: str | None = None, area: str | None = None, source: str | None = None) -> dict:
    """The headers of a caller with this role (and area, or a volunteer's source)."""
    return {"Authorization": f"Bearer {token(role, subject, area, source)}"}


def as_volunteer(external_id: str, source: str = "volunteer-app") -> dict:
    return as_("volunteer", external_id, source=source)


def as_staff(community: str) -> dict:
    return as_("community_staff", f"staff-{community}", area=community)


OPS = as_("ops", "ops-tests")


def as_recipient(recipient: str) -> dict:
    """The headers of the one who reads this notify inbox: the volunteer, or the community's staff."""
    kind, _, rest = recipient.partition(":")
    if kind == "volunteer":
        source, _, external_id = rest.partition(":")
        return as_volunteer(external_id, source)
    if kind == "staff":
        return as_staff(rest)
    raise ValueError(f"nobody reads inbox {recipient!r} over HTTP")
