"""Who may call which HTTP route, and what of the data they see.

Every service's app holds one `Access` (built by `shared/service.create_app` from the settings):
the issuer's keys (`Tokens`) and, for intake, its systems' API keys. A route names the roles it
serves, `Depends(allow(Role.OPS, Role.COMMUNITY_STAFF))`, and gets the `Caller`; the area rules
below (pure functions) then narrow what that caller sees. A caller is read from, in order:
`Authorization: Bearer <token>`, the dashboard's session cookie, then (where the service has
systems) `X-Api-Key`. No credentials: 401; the wrong role or area: 403, both `{"error": reason}`;
whatever a header, cookie or key holds, never a 500.
"""
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from shared.areas import Areas
from shared.events import StaffRef
from shared.identity import Caller, Refused, Role, Tokens, bearer_token
from shared.settings import Settings

SESSION_COOKIE = "linli_session"
API_KEY_HEADER = "x-api-key"
# Longer than any JWT linli accepts or any API key it issues: refused before it is parsed.
MAX_CREDENTIAL_CHARS = 8192
# The roles of people; a system (API key) is Role.SOURCE.
PEOPLE = (Role.VOLUNTEER, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS, Role.REPORT_VIEWER)
STAFF = (Role.COMMUNITY_STAFF, Role.STREET_STAFF)


@dataclass(frozen=True)
class Access:
    """How one service tells its callers: the issuer's keys, and (intake) its systems' keys."""

    tokens: Tokens
    # The streets and their communities: what street staff see.
    areas: Areas = field(default_factory=lambda: Areas({}, {}))
    # A system's API key -> the caller it proves (None: not a key of ours). Only intake has one.
    api_keys: Callable[[str], Caller | None] | None = None

    def caller(self, request: Request) -> Caller:
        authorization = request.headers.get("authorization")
        cookie = request.cookies.get(SESSION_COOKIE)
        key = request.headers.get(API_KEY_HEADER)
        if authorization:
            return self.token_caller(bearer_token(_bounded(authorization)))
        if cookie:
            return self.token_caller(_bounded(cookie))
        if key and self.api_keys is not None:
            return self.key_caller(key)
        raise Refused(401, "sign in: send Authorization: Bearer <token>"
                           + (" (a system: its X-Api-Key)" if self.api_keys else ""))

    def token_caller(self, token: str) -> Caller:
        return self.tokens.caller(_bounded(token))

    def key_caller(self, key: str) -> Caller:
        found = self.api_keys(key) if self.api_keys is not None else None
        if found is None:
            raise Refused(401, "unknown API key")
        return found


def _bounded(text: str) -> str:
    if len(text) > MAX_CREDENTIAL_CHARS:
        raise Refused(401, f"the credentials are longer than {MAX_CREDENTIAL_CHARS} characters")
    return text


def tokens_of(settings: Settings) -> Tokens:
    """The issuer's keys from the settings: a JWKS file, or an OIDC provider's jwks_uri; with
    neither, no token is valid (every person is refused with a 401 that says so)."""
    if settings.linli_token_jwks_file:
        jwks = json.loads(Path(settings.linli_token_jwks_file).read_text(encoding="utf-8"))
        return Tokens.from_jwks(settings.linli_token_issuer, settings.linli_token_audience, jwks)
    return Tokens(settings.linli_token_issuer, settings.linli_token_audience,
                  jwks_url=settings.linli_token_jwks_url or None)


def access_of(request: Request) -> Access:
    return request.app.state.access


def areas(request: Request) -> Areas:
    """FastAPI dependency: the streets and communities (LINLI_AREAS_FILE)."""
    return access_of(request).areas


def caller(request: Request) -> Caller:
    """FastAPI dependency: whoever calls, or Refused(401)."""
    return access_of(request).caller(request)


def allow(*roles: Role) -> Callable[..., Caller]:
    """FastAPI dependency: the caller, when their role is one of `roles`; else Refused(403)."""
    allowed = frozenset(roles)
    names = ", ".join(role.value for role in roles)

    def allowed_caller(who: Caller = Depends(caller)) -> Caller:
        if who.role not in allowed:
            raise Refused(403, f"the role {who.role.value} may not call this: it serves {names}")
        return who
    allowed_caller.roles = allowed  # read by the tests of the route table
    return allowed_caller


def refused_response(refused: Refused) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
    return JSONResponse({"error": refused.reason}, status_code=refused.status, headers=headers)


def install(app: FastAPI, access: Access) -> None:
    app.state.access = access

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        return refused_response(error)


# --- areas: what a caller sees (pure) --------------------------------------------------------

def communities_of(caller: Caller, areas: Areas) -> frozenset[str] | None:
    """The communities whose records the caller sees: None for all (ops), their community
    (community staff), their street's (street staff), none for anyone else."""
    if caller.role == Role.OPS:
        return None
    if caller.role == Role.COMMUNITY_STAFF:
        return frozenset({caller.area})
    if caller.role == Role.STREET_STAFF:
        return frozenset(areas.communities_of_street.get(caller.area, ()))
    return frozenset()


def sees_community(caller: Caller, community: str | None, areas: Areas) -> bool:
    seen = communities_of(caller, areas)
    return seen is None or community in seen


def check_community(caller: Caller, community: str | None, areas: Areas, what: str) -> None:
    """Refused(403) unless the caller sees `community`'s records."""
    if not sees_community(caller, community, areas):
        raise Refused(403, f"{what} belongs to community {community!r}, outside your area"
                           f"{f' ({caller.area})' if caller.area else ''}")


def narrowed(caller: Caller, areas: Areas, asked: str | None) -> list[str] | None:
    """The communities a list should cover: the one `asked` (Refused(403) outside the caller's
    area), else every one the caller sees (None: all)."""
    seen = communities_of(caller, areas)
    if asked is not None:
        check_community(caller, asked, areas, f"community {asked!r}")
        return [asked]
    return None if seen is None else sorted(seen)


def staff_inboxes(caller: Caller, areas: Areas) -> frozenset[str]:
    """The staff inboxes a caller reads: their community's; street staff their street's and its
    communities'."""
    if caller.role == Role.COMMUNITY_STAFF:
        return frozenset({f"staff:{caller.area}"})
    if caller.role == Role.STREET_STAFF:
        return frozenset({f"staff:{caller.area}", *(f"staff:{c}" for c in areas.communities_of_street.get(caller.area, ()))})
    return frozenset()


def recipients_of(caller: Caller, areas: Areas) -> frozenset[str]:
    """Every inbox the caller may read: their own (a volunteer) and their staff inboxes."""
    own = {caller.recipient} if caller.role == Role.VOLUNTEER else set()
    return frozenset(own) | staff_inboxes(caller, areas)


def check_recipient(caller: Caller, recipient: str, areas: Areas) -> None:
    if recipient in recipients_of(caller, areas):
        return
    if caller.role == Role.VOLUNTEER:
        raise Refused(403, f"a volunteer reads only their own inbox ({caller.recipient})")
    if caller.role in STAFF:
        raise Refused(403, f"inbox {recipient!r} is outside your area ({caller.area})")
    raise Refused(403, f"the role {caller.role.value} reads no one's inbox: messages hold residents' contact details")


def is_own_volunteer(caller: Caller, source: str | None, external_id: str | None) -> bool:
    return caller.role == Role.VOLUNTEER and (caller.source, caller.subject) == (source, external_id)


def staff_ref(who: Caller) -> StaffRef:
    """The member of staff who acts, as events name them (an id, never a name)."""
    return StaffRef(subject=who.subject, role=who.role.value, area=who.area)


def without(row: dict, fields: Iterable[str]) -> dict:
    return {key: value for key, value in row.items() if key not in set(fields)}
