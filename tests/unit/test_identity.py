"""Who may call: tokens checked against the issuer's keys, claims read into a role and area,
and every bad token a 401 or 403 with its reason, never an error. No servers."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from shared.identity import Caller, Refused, Role, Tokens, bearer_token
from shared.tokens import AUDIENCE, DEV_ISSUER, issue, key_pair

PEM, JWKS = key_pair()
OTHER_PEM, _ = key_pair()
TOKENS = Tokens.from_jwks(DEV_ISSUER, AUDIENCE, JWKS)


def claims(**changes) -> dict:
    now = int(time.time())
    return {"iss": DEV_ISSUER, "aud": AUDIENCE, "sub": "staff-7", "iat": now, "exp": now + 600,
            "role": "community_staff", "area": "c-north", **changes}


def signed(body: dict, pem: bytes = PEM, **headers) -> str:
    return jwt.encode({k: v for k, v in body.items() if v is not None}, pem, algorithm="ES256",
                      headers={"kid": "linli-dev-1", **headers})


@pytest.mark.parametrize("token, caller", [
    (issue(PEM, "community_staff", "staff-7", area="c-north"), Caller(Role.COMMUNITY_STAFF, "staff-7", "c-north")),
    (issue(PEM, "street_staff", "s-1", area="st-east"), Caller(Role.STREET_STAFF, "s-1", "st-east")),
    (issue(PEM, "volunteer", "v-001", source="volunteer-app"), Caller(Role.VOLUNTEER, "v-001", None, "volunteer-app")),
    (issue(PEM, "ops", "ops-1"), Caller(Role.OPS, "ops-1")),
    (issue(PEM, "report_viewer", "viewer", area="ignored"), Caller(Role.REPORT_VIEWER, "viewer")),
    # the language reasons are read in: English only when the token's locale asks for it
    (issue(PEM, "community_staff", "staff-8", area="c-north", locale="en-GB"),
     Caller(Role.COMMUNITY_STAFF, "staff-8", "c-north", language="en")),
    (issue(PEM, "community_staff", "staff-9", area="c-north", locale="zh-CN"),
     Caller(Role.COMMUNITY_STAFF, "staff-9", "c-north", language="zh")),
])
def test_a_valid_token_names_its_caller(token, caller):
    assert TOKENS.caller(token) == caller


def _part(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(body: dict) -> str:
    return f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(body)}."


def _signed_with_the_public_key_as_a_secret(body: dict) -> str:
    """The old algorithm confusion: HS256 keyed by the published key."""
    signing_input = f"{_part({'alg': 'HS256', 'kid': 'linli-dev-1'})}.{_part(body)}"
    secret = json.dumps(JWKS["keys"][0]).encode()
    return f"{signing_input}.{_part(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize("token", [
    signed(claims(exp=int(time.time()) - 120)),  # expired (past the leeway)
    signed(claims(iss="https://sso.elsewhere.example")),
    signed(claims(aud="another-app")),
    signed(claims(sub=None)),
    signed(claims(), OTHER_PEM),  # signed by a key the issuer never published
    signed(claims(), kid="unknown-key"),
    _unsigned(claims()),  # alg none
    _signed_with_the_public_key_as_a_secret(claims()),
    "", "a.b.c", "not a token", "\u738b\u82b3", "\xff\xfe" * 3, "e" * 100_000, "..", "eyJ.eyJ.",
])
def test_any_other_token_is_refused_with_401(token):
    with pytest.raises(Refused) as refused:
        TOKENS.caller(token)
    assert refused.value.status == 401 and refused.value.reason.startswith("the token is not valid")


# The claims are made when the test runs, not when it is collected: a token made at collection
# expires before the unit tests run at the end of a long suite.
@pytest.mark.parametrize("changes, reason", [
    ({"role": None}, "the token's role None is not one of linli's"),
    ({"role": "admin"}, "the token's role 'admin' is not one of linli's"),
    ({"area": None}, "a community_staff token names its area (a community or street code)"),
    ({"role": "volunteer", "area": None}, "a volunteer token names the source that registered the volunteer"),
])
def test_a_signed_token_without_a_role_linli_knows_is_refused_with_403(changes, reason):
    with pytest.raises(Refused) as refused:
        TOKENS.caller(signed(claims(**changes)))
    assert (refused.value.status, refused.value.reason) == (403, reason)


def test_without_configured_keys_every_token_is_refused():
    with pytest.raises(Refused) as refused:
        Tokens(DEV_ISSUER, AUDIENCE).caller(signed(claims()))
    assert refused.value.status == 401 and "no signing keys are configured" in refused.value.reason


def test_the_development_command_issues_no_token_linli_would_refuse():
    with pytest.raises(Refused):
        issue(PEM, "community_staff", "staff-1")  # no area


@pytest.mark.parametrize("header, token", [("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer  abc ", "abc")])
def test_the_token_is_read_from_the_bearer_header(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "abc"])
def test_no_bearer_token_is_a_401_that_says_how_to_sign_in(header):
    with pytest.raises(Refused) as refused:
        bearer_token(header)
    assert refused.value.status == 401 and "Authorization: Bearer" in refused.value.reason


def test_volunteers_and_community_staff_have_an_inbox_of_their_own():
    assert Caller(Role.VOLUNTEER, "v-001", source="volunteer-app").recipient == "volunteer:volunteer-app:v-001"
    assert Caller(Role.COMMUNITY_STAFF, "s", "c-north").recipient == "staff:c-north"
    assert Caller(Role.OPS, "ops-1").recipient is None
