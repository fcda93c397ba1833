"""The staff console's pure parts: which paths the relay calls and how, why it says a service is
down, what the page learns of who is signed in, where the services are, and the login that the
dashboard and the console share."""
from types import SimpleNamespace

import httpx
import pytest

from services.reporting.console import NotRelayed, relayed_headers, seen_by, unreachable, upstream_url
from services.reporting.login import CONSOLE, DASHBOARD, back_to, login_page
from shared.areas import Areas
from shared.identity import Caller, Role
from shared.settings import Settings
from shared.tokens import DEV_ISSUER

BASES = {"intake": "http://intake:8001", "matching": "http://matching:8002", "reporting": "http://reporting:8004"}


@pytest.mark.parametrize("service, path, query, url", [
    ("matching", "work", "", "http://matching:8002/api/v1/work"),
    ("matching", "work", "community=east-1&lang=zh", "http://matching:8002/api/v1/work?community=east-1&lang=zh"),
    ("matching", "requests/5b1c7a52-0f1e-4a44-9b53-25d1d2a1f0aa/assign", "",
     "http://matching:8002/api/v1/requests/5b1c7a52-0f1e-4a44-9b53-25d1d2a1f0aa/assign"),
    ("intake", "search", "q=138+0000+1234", "http://intake:8001/api/v1/search?q=138+0000+1234"),
    ("reporting", "reports/stream", "", "http://reporting:8004/api/v1/reports/stream"),
    ("intake", "households/h.1~x", "", "http://intake:8001/api/v1/households/h.1~x"),
])
def test_a_relayed_path_is_the_services_api_v1_path(service, path, query, url):
    assert upstream_url(BASES, service, path, query) == url


@pytest.mark.parametrize("service, path, why", [
    ("notify", "inbox/staff:east-1", "relays only intake, matching, reporting"),
    ("operations", "status", "relays only"),
    ("matching", "", "not a path"),
    ("matching", "../metrics", "not a path"),
    ("matching", "work/../../metrics", "not a path"),
    ("matching", "./work", "not a path"),
    ("matching", "work//x", "not a path"),
    ("matching", "work/", "not a path"),
    ("matching", "work?x=1", "not a path"),
    ("matching", "work#x", "not a path"),
    ("matching", "a\\b", "not a path"),
    ("matching", "a%2Fb", "not a path"),
    ("intake", "http://evil.example/x", "not a path"),
])
def test_other_services_and_unplain_paths_are_not_relayed(service, path, why):
    with pytest.raises(NotRelayed, match=why):
        upstream_url(BASES, service, path, "")


def test_the_service_gets_the_persons_token_and_the_bodys_kind():
    assert relayed_headers("t0k", None, None) == {"Authorization": "Bearer t0k",
                                                 "Accept": "application/json, text/event-stream"}
    headers = relayed_headers("t0k", "application/json", "zh-CN")
    assert headers["Content-Type"] == "application/json" and headers["Accept-Language"] == "zh-CN"


@pytest.mark.parametrize("error, says", [
    (httpx.ConnectError("refused"), "matching cannot be reached (ConnectError)"),
    (httpx.ReadTimeout("slow"), "matching did not answer in time"),
    (httpx.RemoteProtocolError("closed"), "matching cannot be reached (RemoteProtocolError)"),
    (httpx.InvalidURL("a misconfigured LINLI_MATCHING_URL"), "matching cannot be reached (InvalidURL)"),
])
def test_a_service_that_does_not_answer_is_named_without_its_address(error, says):
    reason = unreachable("matching", error)
    assert reason.startswith(says) and "http" not in reason


AREAS = Areas({"east-1": "S-east", "east-2": "S-east", "west-1": "S-west"},
              {"S-east": ("east-1", "east-2"), "S-west": ("west-1",)}, {"S-east": "东街道", "S-west": "西街道"})


@pytest.mark.parametrize("who, communities, streets, may_act", [
    (Caller(Role.COMMUNITY_STAFF, "s1", area="east-1"), ["east-1"], [], True),
    (Caller(Role.STREET_STAFF, "s2", area="S-east"), ["east-1", "east-2"], [{"code": "S-east", "name": "东街道"}], True),
    (Caller(Role.OPS, "ops"), ["east-1", "east-2", "west-1"],
     [{"code": "S-east", "name": "东街道"}, {"code": "S-west", "name": "西街道"}], False),
])
def test_the_page_learns_the_area_it_shows_and_whether_it_may_act(who, communities, streets, may_act):
    seen = seen_by(who, SimpleNamespace(areas=AREAS))
    assert seen == {"role": who.role.value, "area": who.area, "communities": communities, "streets": streets,
                    "may_act": may_act}


def test_the_services_are_at_their_ports_on_this_machine_unless_configured(monkeypatch):
    for name in ("LINLI_INTAKE_URL", "LINLI_MATCHING_URL", "LINLI_REPORTING_URL", "INTAKE_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert [settings.url_of(s) for s in ("intake", "matching", "reporting")] == [
        "http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8004"]
    monkeypatch.setenv("INTAKE_PORT", "9101")
    monkeypatch.setenv("LINLI_MATCHING_URL", "http://matching.linli.svc:8002/")
    settings = Settings()
    assert settings.url_of("intake") == "http://127.0.0.1:9101"
    assert settings.url_of("matching") == "http://matching.linli.svc:8002"


@pytest.mark.parametrize("page, action, title, role", [
    (DASHBOARD, 'action="/dashboard/login"', "邻里数据看板", "--role report_viewer"),
    (CONSOLE, 'action="/console/login"', "邻里社区工作台", "--role community_staff"),
])
def test_each_page_has_its_own_login_form_and_hint(page, action, title, role):
    response = login_page(DEV_ISSUER, None, "?community=east-1", page=page)
    html = response.body.decode()
    assert response.status_code == 401 and action in html and title in html and role in html
    assert f'href="{page.stylesheet}"' in html and 'value="?community=east-1"' in html
    assert "--role" not in login_page("https://sso.example.city", page=page).body.decode()


def test_the_dashboards_login_is_what_it_was_by_default():
    assert login_page(DEV_ISSUER).body == login_page(DEV_ISSUER, page=DASHBOARD).body
    assert 'action="/dashboard/login"' in login_page(DEV_ISSUER).body.decode()


def test_a_refused_login_shows_why_escaped_and_ends_the_session():
    response = login_page(DEV_ISSUER, "bad <token>", page=CONSOLE)
    assert "bad &lt;token&gt;" in response.body.decode() and "linli_session=" in response.headers["set-cookie"]


@pytest.mark.parametrize("page, next_query, to", [
    (CONSOLE, "", "/console"),
    (CONSOLE, "?tab=cases", "/console?tab=cases"),
    (CONSOLE, "//evil.example", "/console"),
    (CONSOLE, "?\\evil", "/console"),
    (DASHBOARD, "?period=all", "/dashboard?period=all"),
])
def test_a_login_leads_back_to_its_own_page_only(page, next_query, to):
    assert back_to(next_query, page) == to
