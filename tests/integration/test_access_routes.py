"""Every HTTP route of the four services, called by every kind of caller (nobody, a volunteer and
another one, staff of the area and of another, street staff of the street and of another, ops, a
report viewer, a system and another system): who gets 200, who 401 (no credentials) and who 403
(outside their role or area), and no raw name or phone number in any answer to someone who may
not see people. A route that is missing from the table fails the test, so every new route has to
say who may call it."""
import asyncio
import contextlib
import json
import random
import uuid

import hypothesis
import pytest
import schemathesis

from services.intake.app import SERVICE as INTAKE
from services.matching.app import SERVICE as MATCHING
from services.notify.app import SERVICE as NOTIFY
from services.reporting.app import SERVICE as REPORTING
from shared.access import caller
from shared.events import RequestEscalated
from shared.privacy import MOBILE
from tests.builders.matching import case, registered
from tests.conftest import KEYS, isolated_settings
from tests.identities import OPS, as_, as_staff, as_volunteer
from tests.support import announce, enrol, event_tap, eventually, on_a_port, running

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:6]
C1, C2, C3 = f"a1-{TAG}", f"a2-{TAG}", f"b1-{TAG}"
S1, S2 = f"SA-{TAG}", f"SB-{TAG}"
# The people this module's services hold, by names and numbers no other test uses.
RESIDENT, RESIDENT_PHONE = f"王秀英{TAG}", f"139{random.randrange(10**8):08d}"
VOLUNTEER, VOLUNTEER_PHONE = f"李志愿{TAG}", f"137{random.randrange(10**8):08d}"
PERSONAL = (RESIDENT, RESIDENT_PHONE, VOLUNTEER, VOLUNTEER_PHONE)
VOLUNTEER_EXT = f"v-{TAG}"

CALLERS = {
    "nobody": {},
    "volunteer": as_volunteer(VOLUNTEER_EXT),
    "other volunteer": as_volunteer(f"v-other-{TAG}"),
    "staff": as_staff(C1),
    "other staff": as_staff(C3),
    "street staff": as_("street_staff", "st-1", area=S1),
    "other street staff": as_("street_staff", "st-2", area=S2),
    "ops": OPS,
    "viewer": as_("report_viewer", "viewer-1"),
    "source": {"X-Api-Key": KEYS["hotline-12345"]},
    "other source": {"X-Api-Key": KEYS["grid-platform"]},
}
PEOPLE = ("volunteer", "other volunteer", "staff", "other staff", "street staff", "other street staff", "ops",
          "viewer")
SYSTEMS = ("source", "other source")
AREA_STAFF = ("staff", "street staff")
FIGURES = ("viewer", "ops", "staff", "other staff", "street staff", "other street staff")
CONSOLE_USERS = ("ops", *AREA_STAFF, "other staff", "other street staff")
# reporting's pages (the dashboard, the staff console): a form login, a login page for a 401.
PAGES = ("dashboard", "console")


def rule(ok: tuple[str, ...] = (), *, service: str, status: int = 200, sees_people: tuple[str, ...] = ()) -> dict:
    """Each caller's status: `ok` get `status`; nobody (and a system's key where only intake knows
    keys) 401; everyone else 403. `sees_people`: who may find a name or phone in the answer."""
    statuses = {}
    for name in CALLERS:
        if name in ok:
            statuses[name] = status
        elif name == "nobody" or (name in SYSTEMS and service != "intake"):
            statuses[name] = 401
        else:
            statuses[name] = 403
    return {"statuses": statuses, "sees_people": sees_people}


def everyone(status: int) -> dict:
    return {"statuses": dict.fromkeys(CALLERS, status), "sees_people": ()}


# A submission over HTTP: only a system's key (a person's token is no key); an empty body is a 400.
BY_KEY = {"statuses": {**dict.fromkeys(CALLERS, 401), "source": 400, "other source": 400}, "sees_people": ()}


# (service, method, route path as the app declares it, the path asked, its body or None, rule)
def routes(seed: dict) -> list[tuple]:
    rid, ext, vid, aid, cid = seed["request_id"], seed["external_id"], seed["volunteer_id"], seed["assignment_id"], \
        seed["case_id"]
    table = []
    for service in ("intake", "matching", "notify", "reporting"):
        table += [
            (service, "GET", "/healthz", "/healthz", None, everyone(200)),
            (service, "GET", "/readyz", "/readyz", None, everyone(200)),
            (service, "GET", "/asyncapi.json", "/asyncapi.json", None, everyone(200)),
            (service, "GET", "/asyncapi.html", "/asyncapi.html", None, everyone(200)),
            (service, "GET", "/metrics", "/metrics", None, rule(("ops",), service=service)),
            (service, "GET", "/openapi.json", "/openapi.json", None, everyone(200)),
            (service, "GET", "/docs", "/docs", None, everyone(200)),
            (service, "GET", "/docs/oauth2-redirect", "/docs/oauth2-redirect", None, everyone(200)),
            (service, "GET", "/redoc", "/redoc", None, everyone(200)),
        ]
    i = "intake"
    readers = ("staff", "street staff", "ops", "source")
    table += [
        (i, "GET", "/api/v1/requests/{request_id}", f"/api/v1/requests/{rid}", None, rule(readers, service=i)),
        (i, "GET", "/api/v1/requests", f"/api/v1/requests?source=hotline-12345&external_id={ext}", None,
         rule(readers, service=i)),
        (i, "GET", "/api/v1/rejections", "/api/v1/rejections", None, rule(("ops", *SYSTEMS), service=i)),
        (i, "GET", "/api/v1/rejections", "/api/v1/rejections?source=hotline-12345", None,
         rule(("ops", "source"), service=i)),
        (i, "POST", "/api/v1/requests", "/api/v1/requests", b"{}", BY_KEY),
        (i, "POST", "/api/v1/cancellations", "/api/v1/cancellations", b"{}", BY_KEY),
        (i, "GET", "/api/v1/households", f"/api/v1/households?community={C1}", None,
         rule((*AREA_STAFF, "ops"), service=i, sees_people=AREA_STAFF)),
        (i, "GET", "/api/v1/households/{household_id}", f"/api/v1/households/{seed['household_id']}", None,
         rule((*AREA_STAFF, "ops"), service=i, sees_people=AREA_STAFF)),
        (i, "GET", "/api/v1/search", f"/api/v1/search?q={RESIDENT_PHONE}", None,
         rule((*AREA_STAFF, "ops", "other staff", "other street staff"), service=i, sees_people=AREA_STAFF)),
        # Staff act (an empty body is a 422, in any area); ops read, not act.
        (i, "POST", "/api/v1/households", "/api/v1/households", b"{}",
         rule((*AREA_STAFF, "other staff", "other street staff"), service=i, status=422)),
        (i, "POST", "/api/v1/campaigns", "/api/v1/campaigns", b"{}",
         rule((*AREA_STAFF, "other staff", "other street staff"), service=i, status=422)),
        (i, "GET", "/open311/v2/services.{fmt}", "/open311/v2/services.json", None, everyone(200)),
        (i, "GET", "/open311/v2/services/{code}.{fmt}", "/open311/v2/services/elder_care.meals.xml", None,
         everyone(200)),
        (i, "GET", "/open311/v2/requests.{fmt}", "/open311/v2/requests.json", None, everyone(200)),
        (i, "GET", "/open311/v2/requests/{request_id}.{fmt}", f"/open311/v2/requests/{rid}.json", None,
         everyone(200)),
        (i, "POST", "/open311/v2/requests.{fmt}", "/open311/v2/requests.json", b"", everyone(403)),
        (i, "GET", "/open311/v2/{path:path}", "/open311/v2/nothing.json", None, everyone(404)),
        (i, "POST", "/open311/v2/{path:path}", "/open311/v2/nothing.json", b"", everyone(404)),
    ]
    m = "matching"
    mine = ("volunteer", *AREA_STAFF, "ops")
    table += [
        (m, "GET", "/api/v1/volunteers", f"/api/v1/volunteers?community={C1}", None,
         rule(("other volunteer", *mine), service=m, sees_people=("volunteer", *AREA_STAFF))),
        (m, "GET", "/api/v1/volunteers/{volunteer_id}", f"/api/v1/volunteers/{vid}", None,
         rule(mine, service=m, sees_people=("volunteer", *AREA_STAFF))),
        (m, "GET", "/api/v1/teams", f"/api/v1/teams?community={C1}", None,
         rule((*AREA_STAFF, "ops", "viewer"), service=m)),
        (m, "GET", "/api/v1/assignments/{assignment_id}", f"/api/v1/assignments/{aid}", None,
         rule(mine, service=m, sees_people=("volunteer", *AREA_STAFF))),
        (m, "GET", "/api/v1/requests/{request_id}", f"/api/v1/requests/{rid}", None,
         rule((*AREA_STAFF, "ops"), service=m)),
        (m, "GET", "/api/v1/cases/{case_id}", f"/api/v1/cases/{cid}", None, rule((*AREA_STAFF, "ops"), service=m)),
        # The staff's actions: bodies the area's staff are refused for (the seed stays as it is).
        (m, "GET", "/api/v1/requests/{request_id}/candidates", f"/api/v1/requests/{rid}/candidates", None,
         rule((*AREA_STAFF, "ops"), service=m, sees_people=AREA_STAFF)),
        (m, "POST", "/api/v1/requests/{request_id}/assign", f"/api/v1/requests/{rid}/assign",
         json.dumps({"volunteer_id": str(uuid.uuid4())}).encode(), rule(AREA_STAFF, service=m, status=409)),
        (m, "POST", "/api/v1/requests/{request_id}/reopen", f"/api/v1/requests/{rid}/reopen", b"",
         rule(AREA_STAFF, service=m, status=409)),
        (m, "POST", "/api/v1/requests/{request_id}/handled", f"/api/v1/requests/{rid}/handled",
         b'{"hours": 0, "people_served": 1}', rule(AREA_STAFF, service=m, status=422)),
        (m, "POST", "/api/v1/requests/{request_id}/cancel", f"/api/v1/requests/{rid}/cancel", b"{}",
         rule(AREA_STAFF, service=m, status=422)),
        (m, "POST", "/api/v1/requests/{request_id}/duplicate", f"/api/v1/requests/{rid}/duplicate",
         json.dumps({"duplicate_of": rid}).encode(), rule(AREA_STAFF, service=m, status=409)),
        (m, "POST", "/api/v1/cases/{case_id}/escalate", f"/api/v1/cases/{cid}/escalate", b'{"note": 5}',
         rule(AREA_STAFF, service=m, status=422)),
        (m, "POST", "/api/v1/cases/{case_id}/close", f"/api/v1/cases/{cid}/close", b'{"outcome": "maybe"}',
         rule(AREA_STAFF, service=m, status=422)),
        (m, "POST", "/api/v1/cases/{case_id}/return-visit", f"/api/v1/cases/{cid}/return-visit",
         b'{"satisfaction": "satisfied"}', rule(AREA_STAFF, service=m, status=409)),
        # the staff console's reads: a household or campaign nobody filed is not found, whoever asks
        (m, "GET", "/api/v1/work", f"/api/v1/work?community={C1}", None,
         rule((*AREA_STAFF, "ops"), service=m, sees_people=AREA_STAFF)),
        (m, "GET", "/api/v1/households/{household_id}/history", f"/api/v1/households/{uuid.uuid4()}/history", None,
         rule((*AREA_STAFF, "other staff", "other street staff", "ops"), service=m, status=404)),
        (m, "GET", "/api/v1/campaigns", f"/api/v1/campaigns?community={C1}", None,
         rule((*AREA_STAFF, "ops"), service=m)),
        (m, "GET", "/api/v1/campaigns/{campaign_id}", f"/api/v1/campaigns/{uuid.uuid4()}", None,
         rule((*AREA_STAFF, "other staff", "other street staff", "ops"), service=m, status=404)),
    ]
    n = "notify"
    table += [
        (n, "GET", "/api/v1/inbox/{recipient}", f"/api/v1/inbox/volunteer:volunteer-app:{VOLUNTEER_EXT}", None,
         rule(("volunteer",), service=n, sees_people=("volunteer",))),
        (n, "GET", "/api/v1/inbox/{recipient}", f"/api/v1/inbox/staff:{C1}", None,
         rule(AREA_STAFF, service=n, sees_people=AREA_STAFF)),
        (n, "GET", "/api/v1/inbox/{recipient}", f"/api/v1/inbox/resident:hotline-12345:{ext}", None,
         rule((), service=n)),
        (n, "GET", "/api/v1/notifications", "/api/v1/notifications", None,
         rule(PEOPLE[:-2] + ("ops",), service=n)),
        (n, "GET", "/api/v1/notifications", f"/api/v1/notifications?recipient=staff:{C1}", None,
         rule((*AREA_STAFF, "ops"), service=n)),
    ]
    r = "reporting"
    table += [
        (r, "GET", "/api/v1/reports/summary", "/api/v1/reports/summary", None, rule(FIGURES, service=r)),
        (r, "GET", "/api/v1/reports/summary", f"/api/v1/reports/summary?community={C1}&format=csv", None,
         rule(("viewer", "ops", *AREA_STAFF), service=r)),
        (r, "GET", "/api/v1/reports/groups/{group}", "/api/v1/reports/groups/community?format=xlsx", None,
         rule(FIGURES, service=r)),
        (r, "GET", "/api/v1/reports/disputes", "/api/v1/reports/disputes", None, rule(FIGURES, service=r)),
        (r, "GET", "/api/v1/reports/escalations", "/api/v1/reports/escalations", None, rule(FIGURES, service=r)),
        (r, "GET", "/api/v1/reports/campaigns", "/api/v1/reports/campaigns", None, rule(FIGURES, service=r)),
        (r, "GET", "/api/v1/reports/staff-actions", "/api/v1/reports/staff-actions", None, rule(FIGURES, service=r)),
        (r, "GET", "/api/v1/reports/labels", "/api/v1/reports/labels", None, rule(FIGURES, service=r)),
        (r, "GET", "/api/v1/reports/volunteers", "/api/v1/reports/volunteers", None,
         rule(FIGURES[1:], service=r, sees_people=("staff", "other staff", "street staff", "other street staff"))),
        (r, "GET", "/api/v1/reports/volunteers", f"/api/v1/reports/volunteers?community={C1}", None,
         rule(("ops", *AREA_STAFF), service=r, sees_people=AREA_STAFF)),
        # A stream answered 200 stays open: only the refusals are asked here.
        (r, "GET", "/api/v1/reports/stream", "/api/v1/reports/stream", None, rule(FIGURES, service=r, status=0)),
        # Without a session that opens it (a volunteer's does not), the login page, as a 401.
        (r, "GET", "/dashboard", "/dashboard", None, {"statuses": {
            **rule(FIGURES, service=r)["statuses"], "volunteer": 401, "other volunteer": 401}, "sees_people": ()}),
        (r, "GET", "/", "/", None, everyone(307)),
        (r, "GET", "/dashboard/{asset}", "/dashboard/dashboard.js", None, everyone(200)),
        (r, "POST", "/dashboard/login", "/dashboard/login", b"token=", everyone(401)),
        (r, "POST", "/dashboard/logout", "/dashboard/logout", b"", everyone(303)),
        # The staff console: its page (else the login page, as a 401), and the relay (here to a
        # service it does not relay: refused before any call, 404).
        (r, "GET", "/console", "/console", None, {"statuses": {
            **everyone(401)["statuses"], **dict.fromkeys(CONSOLE_USERS, 200)}, "sees_people": ()}),
        (r, "GET", "/console/{asset}", "/console/console.js", None, everyone(200)),
        (r, "POST", "/console/login", "/console/login", b"token=", everyone(401)),
        (r, "POST", "/console/logout", "/console/logout", b"", everyone(303)),
        (r, "GET", "/console/me", "/console/me", None, rule(CONSOLE_USERS, service=r)),
        *((r, method, "/console/api/{service}/{path:path}", "/console/api/notify/inbox", None,
           rule(CONSOLE_USERS, service=r, status=404)) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")),
    ]
    return table


@pytest.fixture(scope="module")
async def system(servers, tmp_path_factory):
    """The four services in this process, in a database and vhost of this module's own (their
    queues, left behind, would fill with the other tests' events), with areas of its own, and
    what they hold: a volunteer offered a request, a second request escalated, a case, two
    rejections, a key household."""
    areas = tmp_path_factory.mktemp("areas") / "areas.json"
    areas.write_text(json.dumps({"streets": {S1: {"communities": [C1, C2]}, S2: {"communities": [C3]}}}))
    with isolated_settings(servers) as own:
        mine = own.model_copy(update={"matching_areas_file": str(areas)})
        async with seeded(mine) as held:
            yield held


@contextlib.asynccontextmanager
async def seeded(mine):
    async with running(INTAKE, mine, headers={}) as intake, running(MATCHING, mine, headers={}) as matching, \
            running(NOTIFY, mine, headers={}) as notify, running(REPORTING, mine, headers={}) as reporting, \
            event_tap(mine) as tap:
        clients = {"intake": intake, "matching": matching, "notify": notify, "reporting": reporting}
        volunteer = registered(C1, "cooking", name=VOLUNTEER).model_copy(
            update={"external_id": VOLUNTEER_EXT, "phone": VOLUNTEER_PHONE})
        matching.headers.update(OPS)
        await enrol(matching, mine, volunteer)
        matching.headers.clear()
        key = {"X-Api-Key": KEYS["hotline-12345"]}
        external_id = f"h-{TAG}"
        meals = {"source": "hotline-12345", "external_id": external_id, "category": "elder_care.meals",
                 "description": f"独居老人,女儿电话 {RESIDENT_PHONE}", "community_code": C1,
                 "beneficiary": {"name": RESIDENT, "phone": RESIDENT_PHONE}}
        created = await intake.post("/api/v1/requests", json=meals, headers=key)
        assert created.status_code == 202, created.text
        [offered] = await tap.wait_for("assignment.offered")
        await announce(mine, RequestEscalated(correlation_id="c", request_id=uuid.uuid4(), source="hotline-12345",
                                              external_id=f"e-{TAG}", category="legal.consultation",
                                              community_code=C1, reason="nobody", urgency="normal"))
        household = await intake.post("/api/v1/households", headers=CALLERS["staff"], json={
            "beneficiary": {"name": RESIDENT, "phone": RESIDENT_PHONE}, "community_code": C1, "address": "幸福路1号",
            "tags": ["living_alone"], "consent": {"given": True}})
        assert household.status_code == 200, household.text
        dispute = case(C1, None)
        await announce(mine, dispute)
        for source in ("hotline-12345", "grid-platform"):
            bad = {**meals, "source": source, "external_id": f"bad-{source}", "category": "dentistry"}
            assert (await intake.post("/api/v1/requests", json=bad,
                                      headers={"X-Api-Key": KEYS[source]})).status_code == 400

        async def held():
            inbox = await notify.get(f"/api/v1/inbox/volunteer:volunteer-app:{VOLUNTEER_EXT}",
                                     headers=CALLERS["volunteer"])
            staff = await notify.get(f"/api/v1/inbox/staff:{C1}", headers=CALLERS["staff"])
            known = await matching.get(f"/api/v1/cases/{dispute.case_id}", headers=OPS)
            return inbox.json() and staff.json() and known.status_code == 200
        await eventually(held)
        yield clients, {"request_id": created.json()["request_id"], "external_id": external_id,
                        "volunteer_id": str(volunteer.volunteer_id), "assignment_id": offered["assignment_id"],
                        "case_id": str(dispute.case_id), "household_id": household.json()["household_id"]}


async def test_every_route_answers_each_caller_as_its_rule_says(system):
    clients, seed = system
    wrong, leaks = [], []
    for service, method, _, path, body, expected in routes(seed):
        for name, status in expected["statuses"].items():
            if status == 0:  # a stream: its 200 is not waited for
                continue
            headers = {**CALLERS[name], **({"Content-Type": "application/x-www-form-urlencoded"}
                                           if body is not None and path.split("/")[1] in PAGES else {})}
            response = await clients[service].request(method, path, headers=headers, content=body)
            if response.status_code != status:
                wrong.append(f"{service} {method} {path} as {name}: {response.status_code}, not {status} "
                             f"({response.text[:120]})")
            if status == 401 and response.status_code == 401 and path.split("/")[1] not in PAGES \
                    and not path.startswith("/open311"):
                assert response.headers.get("www-authenticate") == "Bearer", path
            if status == 403 and response.status_code == 403 and not path.startswith("/open311"):
                assert response.json()["error"], path  # with the reason
            if name not in expected["sees_people"]:
                text = response.content.decode("utf-8", "replace")
                leaks += [f"{service} {path} as {name} shows {marker}" for marker in PERSONAL if marker in text]
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)


def declared(app) -> list[tuple[str, str, object]]:
    """(method, path, dependant or None) of every route the app serves, included routers too."""
    found = []
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            found += [(method, context.path, getattr(context, "dependant", None))
                      for method in context.methods or () if method != "HEAD"]
    return found


def asks_who(dependant) -> bool:
    """Whether the route depends, however deeply, on shared.access.caller."""
    return dependant is not None and (dependant.call is caller or any(asks_who(d) for d in dependant.dependencies))


# The /api routes that tell their caller without shared.access.caller: a submission's own API key.
BY_KEY_ROUTES = {("intake", "POST", "/api/v1/requests"), ("intake", "POST", "/api/v1/cancellations")}


async def test_every_route_of_every_service_is_in_the_table_and_every_api_route_asks_who_calls(system):
    clients, seed = system
    listed = {(service, method, route) for service, method, route, *_ in routes(seed)}
    served = {(service, method, path): dependant for service, client in clients.items()
              for method, path, dependant in declared(client.app)}
    assert len(served) > 40
    assert set(served) - listed == set(), "routes that do not say who may call them"
    unasked = {key for key, dependant in served.items()
               if key[2].startswith("/api/") and not asks_who(dependant)} - BY_KEY_ROUTES
    assert unasked == set()


async def test_lists_are_narrowed_to_what_the_caller_may_see(system):
    clients, seed = system
    intake, matching, notify, reporting = (clients[s] for s in ("intake", "matching", "notify", "reporting"))
    own = (await intake.get("/api/v1/rejections", headers=CALLERS["source"])).json()
    assert own and {row["source"] for row in own} == {"hotline-12345"}
    masked = [row for row in (await intake.get("/api/v1/rejections", headers=OPS)).json()
              if row["external_id"] == "bad-hotline-12345"]
    assert masked and RESIDENT not in masked[0]["body_excerpt"] and RESIDENT_PHONE not in masked[0]["body_excerpt"]
    assert f"139****{RESIDENT_PHONE[-4:]}" in masked[0]["body_excerpt"] and "王*" in masked[0]["body_excerpt"]
    [me] = (await matching.get("/api/v1/volunteers", headers=CALLERS["volunteer"])).json()
    assert me["external_id"] == VOLUNTEER_EXT and me["name"] == VOLUNTEER
    assert (await matching.get("/api/v1/volunteers", headers=CALLERS["other volunteer"])).json() == []
    assert all(row["community_code"] in (C1, C2)
               for row in (await matching.get("/api/v1/volunteers", headers=CALLERS["street staff"])).json())
    assert not any(row["community_code"] == C1
                   for row in (await matching.get("/api/v1/volunteers", headers=CALLERS["other staff"])).json())
    ops_view = (await matching.get(f"/api/v1/assignments/{seed['assignment_id']}", headers=OPS)).json()
    assert "volunteer_name" not in ops_view and ops_view["volunteer_external_id"] == VOLUNTEER_EXT
    theirs = (await notify.get("/api/v1/notifications", headers=CALLERS["volunteer"])).json()
    assert theirs and {row["recipient"] for row in theirs} == {f"volunteer:volunteer-app:{VOLUNTEER_EXT}"}
    staffs = (await notify.get("/api/v1/notifications", headers=CALLERS["street staff"])).json()
    assert staffs and {row["recipient"] for row in staffs} <= {f"staff:{S1}", f"staff:{C1}", f"staff:{C2}"}
    everything = (await notify.get("/api/v1/notifications", headers=OPS)).json()
    assert all("body" not in row and "subject" not in row for row in everything)

    async def figures(headers, **params):
        return (await reporting.get("/api/v1/reports/summary", params=params, headers=headers)).json()["figures"]

    async def counted():
        return (await figures(OPS, community=C1))["received"] >= 1
    await eventually(counted)
    assert await figures(CALLERS["staff"]) == await figures(OPS, community=C1)  # narrowed to their community
    assert (await figures(CALLERS["other staff"]))["received"] == (await figures(OPS, community=C3))["received"]


# --- schemathesis: each service's OpenAPI, fuzzed with and without credentials ---------------

# Allowed, the stream stays open (15 s a call); its refusals are in the table above.
NOT_FUZZED = {("reporting", "/api/v1/reports/stream")}
# Who may not see any of this module's people, whatever they ask: nobody, the roles that read no
# people (ops, report viewers), and people of another area.
SEE_NO_ONE = ("nobody", "ops", "viewer", "other volunteer", "other staff", "other street staff")
FUZZED_AS = (*SEE_NO_ONE, "volunteer", "staff", "source")
EXAMPLES = 6


def fuzzed(service: str, url: str) -> tuple[int, list[str]]:
    """Every operation of the service's OpenAPI with schemathesis' generated parameters, as each
    caller of FUZZED_AS: (calls made, what went wrong)."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    calls, problems = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (service, operation.path) in NOT_FUZZED:
            continue

        @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(hypothesis.HealthCheck))
        @hypothesis.given(case=operation.as_strategy())
        def each(case):
            nonlocal calls
            for name in FUZZED_AS:
                response = case.call(base_url=url, headers=CALLERS[name], timeout=30)
                calls += 1
                asked = f"{service} {case.method} {case.formatted_path} {case.query or ''} as {name}"
                if response.status_code >= 500:
                    problems.append(f"{asked}: {response.status_code} {response.text[:200]}")
                if name in SEE_NO_ONE:
                    text = response.content.decode("utf-8", "replace")
                    problems.extend(f"{asked} shows {marker}" for marker in PERSONAL if marker in text)
                    if operation.path.startswith(("/api/", "/open311/")) and MOBILE.search(text):
                        problems.append(f"{asked} shows a phone number: {MOBILE.search(text)[0]}")
        each()
    return calls, problems


async def test_schemathesis_finds_no_5xx_and_no_person_shown_to_anyone_without_the_role(system):
    clients, _ = system
    report = {}
    for service, client in clients.items():
        async with on_a_port(client.app) as url:
            report[service] = await asyncio.to_thread(fuzzed, service, url)
    problems = [problem for _, found in report.values() for problem in found]
    assert not problems, "\n".join(sorted(set(problems))[:50])
    assert all(calls > 100 for calls, _ in report.values()), report


ODD_KEYS = [b"", b" ", b"\xff\xfe\xfd", b"\x00", b"A" * 60_000, "密钥".encode(), b"test-key-hotline\t",
            b"%ff%00", KEYS["hotline-12345"].upper().encode()]


@pytest.mark.parametrize("key", ODD_KEYS, ids=lambda key: repr(key[:12]))
async def test_a_key_in_any_encoding_or_length_is_refused_never_an_error(system, key):
    intake = system[0]["intake"]
    for method, path in (("POST", "/api/v1/requests"), ("POST", "/api/v1/cancellations"),
                         ("GET", "/api/v1/rejections"), ("GET", "/open311/v2/requests.json")):
        response = await intake.request(method, path, headers=[(b"x-api-key", key)], content=b"{}")
        public = path.startswith("/open311") and not key  # no key: the public's view
        assert response.status_code in ((200,) if public else (401, 403)), (path, response.status_code,
                                                                           response.text[:200])
    as_form = b"api_key=" + b"".join(b"%%%02x" % b for b in key[:2000]) + b"&service_code=elder_care.meals"
    posted = await intake.post("/open311/v2/requests.json", content=as_form,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status_code in (400, 403), posted.text[:200]
    read = await intake.get("/open311/v2/requests.json", params={"api_key": key.decode("latin-1")})
    assert read.status_code == (200 if not key else 403), read.text[:200]
