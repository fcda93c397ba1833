"""The systems allowed to publish into linli: each has an id (the submissions' `source`), an
API key for HTTP, and optionally a webhook that receives its requests' status changes.

They are configuration, read at start-up from the JSON file named by INTAKE_SOURCES_FILE:
[{"source": "hotline-12345", "name": "12345 市民热线", "api_key": "…",
  "webhook_url": "https://…", "webhook_secret": "…",
  "publishes": ["request.submit", "request.cancel", "case.submit"]}, …]

On the broker a source is the user named by its `source` id (shared/broker_users.py); it may
publish only the routing keys of `publishes` (by default a hotline's or grid platform's:
request.submit, request.cancel, case.submit; a volunteer app lists volunteer.register,
assignment.respond and service.complete).
"""
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, HttpUrl

from shared.broker_users import DEFAULT_SOURCE_KEYS
from shared.submissions import Code
from shared.webhooks import require_secret

SubmissionKey = Literal["request.submit", "request.cancel", "case.submit", "volunteer.register",
                        "assignment.respond", "service.complete"]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Code
    name: str
    api_key: str
    webhook_url: HttpUrl | None = None
    webhook_secret: str | None = None
    publishes: tuple[SubmissionKey, ...] = DEFAULT_SOURCE_KEYS


@dataclass(frozen=True)
class Sources:
    """The known sources. With `accept_unknown` (development only) any source may publish and
    HTTP needs no key."""

    known: dict[str, Source]
    accept_unknown: bool = False

    def accepts(self, source: str) -> bool:
        return self.accept_unknown or source in self.known

    def for_api_key(self, api_key: str | None) -> Source | None:
        """The source whose key this is; compared in constant time."""
        if not api_key:
            return None
        return next((s for s in self.known.values() if hmac.compare_digest(s.api_key, api_key)), None)

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
