"""Who calls linli's HTTP APIs: a person with a signed token, each with a role and an area.

People (community and street staff, volunteers, ops, report viewers) sign in at the city's
single sign-on (OIDC) and present its token (a JWT) as `Authorization: Bearer …`. linli checks
the signature against the issuer's published keys (a JWKS file or URL), the issuer, the
audience and the expiry, and reads the role and area from the claims. In development,
`python -m shared.tokens` issues such tokens with the key under deploy/.

Systems (the hotline, grid platforms, the volunteer app) prove themselves to intake with their
API key instead (services/intake/sources.py).
"""
from dataclasses import dataclass
from enum import StrEnum

import jwt

# Signature algorithms an issuer may use; never "none", never a shared secret (HS*), so a
# published key can only verify, not sign.
ALGORITHMS = ("RS256", "ES256", "EdDSA")
LEEWAY_SECONDS = 30


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    COMMUNITY_STAFF = "community_staff"  # area: a community code
    STREET_STAFF = "street_staff"  # area: a street code
    OPS = "ops"
    REPORT_VIEWER = "report_viewer"  # figures, never people
    SOURCE = "source"  # a system (hotline, grid platform, app): proven by its API key, never a token


# Roles whose token must name the area they work in.
AREA_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF})


@dataclass(frozen=True)
class Caller:
    role: Role
    subject: str  # who, at the issuer; a volunteer: their id at the source that registered them
    area: str | None = None
    source: str | None = None  # a volunteer's: the system that registered them; a system's: itself
    # The language the person reads linli's reasons in: "en" when their token's `locale` claim
    # asks for English, else Chinese (shared/reasons.py).
    language: str = "zh"

    @property
    def recipient(self) -> str | None:
        """The caller's own inbox key at notify, where they have one."""
        if self.role == Role.VOLUNTEER:
            return f"volunteer:{self.source}:{self.subject}"
        if self.role == Role.COMMUNITY_STAFF:
            return f"staff:{self.area}"
        return None


class Refused(Exception):
    """A caller linli will not serve: 401 (who are you?) or 403 (not you), with the reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class Tokens:
    """Checks tokens against one issuer's keys: a JWKS document (`keys`), or its URL, fetched
    and cached (an OIDC provider's `jwks_uri`)."""

    def __init__(self, issuer: str, audience: str, keys: jwt.PyJWKSet | None = None, jwks_url: str | None = None):
        self.issuer, self.audience, self._keys = issuer, audience, keys
        self._client = jwt.PyJWKClient(jwks_url, timeout=5) if jwks_url else None

    @classmethod
    def from_jwks(cls, issuer: str, audience: str, jwks: dict) -> "Tokens":
        return cls(issuer, audience, jwt.PyJWKSet.from_dict(jwks))

    def caller(self, token: str) -> Caller:
        """The caller a token names; Refused(401) for any token that is not a valid one of ours."""
        try:
            key = self._key(token)
            claims = jwt.decode(token, key, algorithms=list(ALGORITHMS), audience=self.audience,
                                issuer=self.issuer, leeway=LEEWAY_SECONDS,
                                options={"require": ["exp", "iss", "aud", "sub"]})
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise Refused(401, f"the token is not valid: {error}") from error
        return caller_of(claims)

    def _key(self, token: str):
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        if self._keys is None:
            raise jwt.InvalidKeyError("no signing keys are configured (LINLI_TOKEN_JWKS_FILE or _URL)")
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None and len(self._keys.keys) == 1:
            return self._keys.keys[0].key
        return self._keys[kid].key


def caller_of(claims: dict) -> Caller:
    """The caller from a verified token's claims: `role`, `area` (staff), `source` (volunteers)."""
    try:
        role = Role(claims.get("role"))
    except ValueError as error:
        raise Refused(403, f"the token's role {claims.get('role')!r} is not one of linli's") from error
    if role == Role.SOURCE:
        raise Refused(403, "a system proves itself with its API key, not a token")
    area, source = claims.get("area"), claims.get("source")
    if role in AREA_ROLES and not isinstance(area, str):
        raise Refused(403, f"a {role} token names its area (a community or street code)")
    if role == Role.VOLUNTEER and not isinstance(source, str):
        raise Refused(403, "a volunteer token names the source that registered the volunteer")
    language = "en" if str(claims.get("locale", "")).lower().startswith("en") else "zh"
    return Caller(role, str(claims["sub"]), area if role in AREA_ROLES else None,
                  source if role == Role.VOLUNTEER else None, language)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header; Refused(401) without one."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "sign in: send Authorization: Bearer <token>")
    return token.strip()
