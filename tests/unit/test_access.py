"""Who sees what, as pure rules (shared/access.py), and systems' API keys (intake's sources):
hashed, compared with every known hash, two valid while rotating, and no key of any encoding or
length an error. No servers."""
import json
import time

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from services.intake.sources import Source, Sources, key_hash, main as sources_main
from shared.access import (
    Access, allow, caller, check_community, check_recipient, communities_of, install, narrowed, recipients_of,
    sees_community, tokens_of,
)
from shared.areas import Areas
from shared.identity import Caller, Refused, Role, Tokens
from shared.settings import Settings
from shared.tokens import AUDIENCE, DEV_ISSUER, issue, key_pair

AREAS = Areas({"c-1": "S-1", "c-2": "S-1", "c-3": "S-2"}, {"S-1": ("c-1", "c-2"), "S-2": ("c-3",)})
OPS = Caller(Role.OPS, "ops-1")
VIEWER = Caller(Role.REPORT_VIEWER, "viewer")
STAFF_1 = Caller(Role.COMMUNITY_STAFF, "s", "c-1")
STREET_1 = Caller(Role.STREET_STAFF, "st", "S-1")
VOLUNTEER = Caller(Role.VOLUNTEER, "v-1", source="volunteer-app")
SOURCE = Caller(Role.SOURCE, "hotline", source="hotline")


@pytest.mark.parametrize("who, seen", [
    (OPS, None), (STAFF_1, {"c-1"}), (STREET_1, {"c-1", "c-2"}), (Caller(Role.STREET_STAFF, "x", "S-9"), set()),
    (VIEWER, set()), (VOLUNTEER, set()), (SOURCE, set()),
])
def test_each_role_sees_the_communities_of_its_area(who, seen):
    assert communities_of(who, AREAS) == (None if seen is None else frozenset(seen))


@pytest.mark.parametrize("who, community, sees", [
    (OPS, "c-3", True), (STAFF_1, "c-1", True), (STAFF_1, "c-2", False), (STREET_1, "c-2", True),
    (STREET_1, "c-3", False), (VOLUNTEER, "c-1", False), (VIEWER, "c-1", False), (STAFF_1, None, False),
])
def test_a_community_is_seen_by_its_staff_its_streets_staff_and_ops(who, community, sees):
    assert sees_community(who, community, AREAS) is sees
    if not sees:
        with pytest.raises(Refused) as refused:
            check_community(who, community, AREAS, "request r-1")
        assert refused.value.status == 403 and "outside your area" in refused.value.reason


def test_a_list_is_narrowed_to_the_callers_area_and_asking_outside_it_is_refused():
    assert narrowed(OPS, AREAS, None) is None and narrowed(OPS, AREAS, "c-3") == ["c-3"]
    assert narrowed(STREET_1, AREAS, None) == ["c-1", "c-2"] and narrowed(STAFF_1, AREAS, None) == ["c-1"]
    with pytest.raises(Refused) as refused:
        narrowed(STAFF_1, AREAS, "c-3")
    assert refused.value.status == 403


@pytest.mark.parametrize("who, readable", [
    (VOLUNTEER, {"volunteer:volunteer-app:v-1"}), (STAFF_1, {"staff:c-1"}),
    (STREET_1, {"staff:S-1", "staff:c-1", "staff:c-2"}), (OPS, set()), (VIEWER, set()), (SOURCE, set()),
])
def test_inboxes_are_read_by_their_owners_only(who, readable):
    assert recipients_of(who, AREAS) == frozenset(readable)
    for recipient in ("volunteer:volunteer-app:v-1", "volunteer:volunteer-app:v-2", "staff:c-1", "staff:c-3",
                      "resident:hotline:h-1", "staff:S-1"):
        if recipient in readable:
            check_recipient(who, recipient, AREAS)
        else:
            with pytest.raises(Refused) as refused:
                check_recipient(who, recipient, AREAS)
            assert refused.value.status == 403 and refused.value.reason


# --- the HTTP wiring: 401, 403, never a 500 --------------------------------------------------

PEM, JWKS = key_pair()
TOKENS = Tokens.from_jwks(DEV_ISSUER, AUDIENCE, JWKS)
HOTLINE = Source(source="hotline", name="热线", api_key_sha256=(key_hash("old-key"), key_hash("new-key")))
GRID = Source(source="grid", name="网格", api_key_sha256=(key_hash("grid-key"),))
SOURCES = Sources({"hotline": HOTLINE, "grid": GRID})


@pytest.fixture
async def http():
    app = FastAPI()
    install(app, Access(TOKENS, AREAS, SOURCES.caller_for_key))

    @app.get("/ops")
    async def ops_only(who: Caller = Depends(allow(Role.OPS))):
        return {"subject": who.subject}

    @app.get("/anyone")
    async def anyone(who: Caller = Depends(caller)):
        return {"role": who.role, "source": who.source}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_no_credentials_is_a_401_with_the_challenge_and_the_wrong_role_a_403_with_the_reason(http):
    nobody = await http.get("/ops")
    assert nobody.status_code == 401 and nobody.headers["www-authenticate"] == "Bearer"
    assert nobody.json()["error"].startswith("sign in")
    viewer = await http.get("/ops", headers=bearer(issue(PEM, "report_viewer", "v")))
    assert viewer.status_code == 403 and viewer.json() == {
        "error": "the role report_viewer may not call this: it serves ops"}
    assert (await http.get("/ops", headers=bearer(issue(PEM, "ops", "o-1")))).json() == {"subject": "o-1"}
    cookie = await http.get("/ops", headers={"Cookie": f"linli_session={issue(PEM, 'ops', 'o-2')}"})
    assert cookie.json() == {"subject": "o-2"}  # the dashboard's session
    source = await http.get("/ops", headers={"X-Api-Key": "grid-key"})
    assert source.status_code == 403 and "source" in source.json()["error"]


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer " + "A" * 9000},
    {"Authorization": "Bearer a.b.c"}, {"Authorization": "Bearer \x00\xff"}, {"Authorization": "Bearer ....."},
    {"Cookie": "linli_session=" + "x" * 5000}, {"Cookie": "linli_session=%ff%fe"},
    {"X-Api-Key": ""}, {"X-Api-Key": "A" * 100_000}, {"X-Api-Key": "\xff\xfe\x00"}, {"X-Api-Key": "guess"},
    {"X-Api-Key": "old-key\n"}, {"X-Api-Key": "ol\u00e9"},
])
async def test_no_header_cookie_or_key_is_ever_a_500(http, headers):
    raw = [(name.lower().encode(), value.encode("latin-1")) for name, value in headers.items()]
    response = await http.get("/anyone", headers=raw)
    assert response.status_code == 401 and "error" in response.json()


@pytest.mark.parametrize("key, source", [
    ("old-key", "hotline"), ("new-key", "hotline"), ("grid-key", "grid"), ("GRID-KEY", None), ("", None),
    ("grid-key ", None), ("\udcff", None), ("密钥", None), ("x" * 1_000_000, None), (None, None),
])
def test_a_source_has_up_to_two_valid_keys_and_no_text_is_an_error(key, source):
    found = SOURCES.for_api_key(key)
    assert (found.source if found else None) == source


async def test_a_key_is_its_sources_caller(http):
    assert (await http.get("/anyone", headers={"X-Api-Key": "new-key"})).json() == {
        "role": "source", "source": "hotline"}


def test_a_sources_file_holds_hashes_not_keys_one_or_two_of_them(tmp_path):
    with pytest.raises(ValueError):
        Source.model_validate({"source": "s", "name": "n", "api_key": "plain"})
    with pytest.raises(ValueError):
        Source.model_validate({"source": "s", "name": "n", "api_key_sha256": []})
    with pytest.raises(ValueError):
        Source.model_validate({"source": "s", "name": "n", "api_key_sha256": [key_hash("a")] * 3})
    with pytest.raises(ValueError):
        Source.model_validate({"source": "s", "name": "n", "api_key_sha256": ["not-hex"]})
    for path in ("deploy/sources.dev.json", "tests/sources.json"):
        assert all("api_key" not in entry for entry in json.loads(open(path, encoding="utf-8").read()))


def test_the_command_prints_a_new_key_and_its_hash(capsys):
    sources_main(["new-key"])
    key_line, hash_line = capsys.readouterr().out.splitlines()
    key, digest = key_line.split()[-1], hash_line.split()[-1]
    assert len(key) >= 43 and digest == key_hash(key)
    sources_main(["hash", "dev-key-hotline"])
    assert capsys.readouterr().out.strip() == key_hash("dev-key-hotline")


def test_the_settings_name_the_issuer_and_its_keys(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(JWKS))
    tokens = tokens_of(Settings(linli_token_jwks_file=str(path)))
    assert tokens.caller(issue(PEM, "ops", "o")).role == Role.OPS
    with pytest.raises(Refused) as refused:  # no keys configured: every token is refused, with the reason
        tokens_of(Settings(linli_token_jwks_file=None, linli_token_jwks_url=None)).caller(issue(PEM, "ops", "o"))
    assert refused.value.status == 401 and "no signing keys" in refused.value.reason
    with pytest.raises(Refused):  # another issuer's token
        tokens.caller(issue(PEM, "ops", "o", issuer="elsewhere"))
    with pytest.raises(Refused) as refused:  # a token cannot claim to be a system
        tokens.caller(issue_unchecked_source())
    assert refused.value.status == 403


def issue_unchecked_source() -> str:
    now = int(time.time())
    return jwt.encode({"iss": DEV_ISSUER, "aud": AUDIENCE, "sub": "hotline", "iat": now, "exp": now + 60,
                       "role": "source", "source": "hotline"}, PEM, algorithm="ES256", headers={"kid": "linli-dev-1"})
