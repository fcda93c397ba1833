"""The systems allowed to publish into linli: each has an id (the submissions' `source`), the
SHA-256 of its API key for HTTP (two while a key is being rotated), and optionally a webhook that
receives its requests' status changes.

They are configuration, read at start-up from the JSON file named by INTAKE_SOURCES_FILE:
[{"source": "hotline-12345", "name": "12345 市民热线", "api_key_sha256": ["<64 hex>", "<64 hex>"],
  "webhook_url": "https://…", "webhook_secret": "…",
  "publishes": ["request.submit", "request.cancel", "case.submit"]}, …]

`python -m services.intake.sources new-key` prints a new random key and its hash (the key goes
to the system, the hash into the file); `hash KEY` prints the hash of a key.

Why SHA-256 and not argon2 or bcrypt: an API key is 32 random bytes, not a password a person
chose, so nobody can guess it from its hash by trying likely ones; a slow hash defends only
guessable secrets, and every HTTP request checks a key, so the check must be cheap. The hash of
what a caller sends is compared with every known hash in constant time (hmac.compare_digest, no
early exit), so the answer's timing tells nothing about which key is close.

On the broker a source is the user named by its `source` id (shared/broker_users.py); it may
publish only the routing keys of `publishes` (by default a hotline's or grid platform's:
request.submit, request.cancel, case.submit; a volunteer app lists volunteer.register,
assignment.respond and service.complete).
"""
import argparse
import hashlib
import hmac
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from services.intake.households import CAMPAIGN_SOURCE, STAFF_SOURCE
from shared.broker_users import DEFAULT_SOURCE_KEYS
from shared.identity import Caller, Role
from shared.submissions import Code
from shared.webhooks import require_secret

SubmissionKey = Literal["request.submit", "request.cancel", "case.submit", "volunteer.register",
                        "assignment.respond", "service.complete", "household.register"]

# The sources of what linli files itself: no system may publish as them.
RESERVED = frozenset({STAFF_SOURCE, CAMPAIGN_SOURCE})
KeyHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# Bytes of randomness in a key `new-key` makes (43 characters of URL-safe base64).
KEY_BYTES = 32


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Code
    name: str
    # One key's hash; two while the system moves from its old key to its new one.
    api_key_sha256: tuple[KeyHash] | tuple[KeyHash, KeyHash]
    webhook_url: HttpUrl | None = None
    webhook_secret: str | None = None
    publishes: tuple[SubmissionKey, ...] = DEFAULT_SOURCE_KEYS

    @field_validator("source")
    @classmethod
    def _not_reserved(cls, source):
        if source in RESERVED:
            raise ValueError(f"source {source!r} is linli's own (staff's households, campaigns' visits)")
        return source


def key_hash(api_key: str) -> str:
    """The SHA-256 (hex) of a key as sent; any text hashes (a lone surrogate included)."""
    return hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Sources:
    """The known sources. With `accept_unknown` (development only) any source may publish and
    HTTP needs no key."""

    known: dict[str, Source]
    accept_unknown: bool = False

    def accepts(self, source: str) -> bool:
        return source not in RESERVED and (self.accept_unknown or source in self.known)

    def for_api_key(self, api_key: str | None) -> Source | None:
        """The source whose key this is: its hash compared with every known one in constant time."""
        if not api_key or not isinstance(api_key, str):
            return None
        sent = key_hash(api_key).encode()
        found = None
        for source in self.known.values():
            for known in source.api_key_sha256:
                if hmac.compare_digest(sent, known.encode()) and found is None:
                    found = source
        return found

    def caller_for_key(self, api_key: str) -> Caller | None:
        """The caller an API key proves (shared/access.py), or None."""
        found = self.for_api_key(api_key)
        return Caller(Role.SOURCE, found.source, source=found.source) if found else None

    def require_webhook_secrets(self, development: bool) -> None:
        """A source with a webhook has a secret of its own (intake refuses to start otherwise)."""
        for entry in self.known.values():
            if entry.webhook_url:
                require_secret(entry.webhook_secret, f"the webhook_secret of source {entry.source!r} "
                               "(INTAKE_SOURCES_FILE)", development)

    def webhook_of(self, source: str) -> Source | None:
        found = self.known.get(source)
        return found if found and found.webhook_url else None


def unknown_source_reason(source: str) -> str:
    return f"unknown source {source!r}: a system must be registered with linli before it publishes"


def load_sources(path: str | None, accept_unknown: bool) -> Sources:
    if not path:
        return Sources({}, accept_unknown)
    entries = [Source.model_validate(entry) for entry in json.loads(Path(path).read_text(encoding="utf-8"))]
    return Sources({entry.source: entry for entry in entries}, accept_unknown)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.intake.sources", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("new-key", help="print a new random API key and its api_key_sha256")
    hashing = commands.add_parser("hash", help="print the api_key_sha256 of a key")
    hashing.add_argument("key")
    args = parser.parse_args(argv)
    if args.command == "new-key":
        key = secrets.token_urlsafe(KEY_BYTES)
        print(f"api key (give it to the system):      {key}")
        print(f"api_key_sha256 (put it in the file):  {key_hash(key)}")
    else:
        print(key_hash(args.key))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
