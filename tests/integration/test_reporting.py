"""reporting against the real RabbitMQ and PostgreSQL: events in through the broker, figures out
of the API, in any order, once each, and the same again after a rebuild from the archive."""
import csv
import io
import random
import uuid

import psycopg
import pytest
from openpyxl import load_workbook

from services.reporting.app import SERVICE
from services.reporting.live import LISTENER
from services.reporting.rebuild import rebuild
from tests.conftest import isolated_settings
from tests.builders.reporting import DAYS, EXPECTED, off_bounds, station_week
from tests.support import announce, eventually, handled, metric, running, until_handled

pytestmark = pytest.mark.integration

AREAS = "tests/areas.json"
WEEK = {"from": DAYS[0], "to": DAYS[-1]}


@pytest.fixture(scope="module")
def own_settings(servers):
    """A database and vhost of this module's own: the figures count everything in them."""
    with isolated_settings(servers) as settings:
        yield settings.model_copy(update={"matching_areas_file": AREAS})


@pytest.fixture(scope="module")
async def reporting(own_settings):
    events = station_week()
    async with running(SERVICE, own_settings) as client:
        before = await handled(client, "reporting")
        for event in reversed(events):  # the last first: no figure may depend on the order
            await announce(own_settings, event)
        await until_handled(client, "reporting", before, len(events))
        client.events = events
        yield client


async def get(reporting, path: str, **params) -> dict:
    response = await reporting.get(f"/api/v1/reports/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def everything(reporting) -> dict:
    """Every table the API serves, for comparing before and after."""
    tables = {"summary": await get(reporting, "summary", **WEEK)}
    for group in ("community", "street", "team", "category", "day", "week", "month"):
        tables[group] = await get(reporting, f"groups/{group}", **WEEK)
    for name in ("disputes", "volunteers", "escalations"):
        tables[name] = await get(reporting, name)
    return tables


async def test_the_summary_gives_every_figure_as_defined(reporting):
    assert off_bounds((await get(reporting, "summary"))["figures"]) == {}  # all time: from the sketches
    assert (await get(reporting, "summary", **WEEK))["figures"] == EXPECTED


async def test_a_copy_of_any_event_changes_nothing(reporting, own_settings):
    before = await everything(reporting)
    handled_before = await handled(reporting, "reporting")
    projected_before = await metric(reporting, "linli_reporting_events_projected_total")
    for event in reporting.events:
        await announce(own_settings, event)  # redelivered: the same message id
        await announce(own_settings, event, message_id=str(uuid.uuid4()))  # re-published: a new message id
    await until_handled(reporting, "reporting", handled_before, 2 * len(reporting.events))
    assert await everything(reporting) == before
    assert await metric(reporting, "linli_reporting_events_projected_total") == projected_before


async def test_figures_by_place_team_category_and_time(reporting):
    def column(table, key, figure):
        return {row[key]: row[figure] for row in table["rows"]}

    communities = await get(reporting, "groups/community", **WEEK)
    assert column(communities, "community", "received") == {"east-1": 3, "east-2": 2, "west-1": 1, "unknown": 0}
    assert column(communities, "community", "rejected") == {"east-1": 0, "east-2": 0, "west-1": 1, "unknown": 1}
    assert column(communities, "community", "registered_volunteers") == {"east-1": 2, "east-2": 1, "west-1": 0,
                                                                         "unknown": 0}
    assert column(communities, "community", "volunteer_share_of_residents")["east-1"] == 0.002
    streets = await get(reporting, "groups/street", **WEEK)
    assert column(streets, "street", "received") == {"S-east": 5, "S-west": 1, "unknown": 0}
    assert column(streets, "street", "active_volunteers") == {"S-east": 3, "S-west": 1, "unknown": 0}
    assert column(streets, "street", "residents") == {"S-east": 3500, "S-west": 500, "unknown": None}
    teams = await get(reporting, "groups/team", **WEEK)
    assert column(teams, "team", "volunteer_hours") == {"康乃馨": 5.0, "映山红": 1.5, "君子兰": 1.5}
    assert column(teams, "team", "participations") == {"康乃馨": 4, "映山红": 1, "君子兰": 1}
    assert column(teams, "team", "registered_volunteers") == {"康乃馨": 2, "映山红": 1, "君子兰": 0}
    assert column(teams, "team", "received") == {"康乃馨": None, "映山红": None, "君子兰": None}  # no team's own
    categories = await get(reporting, "groups/category", **WEEK)
    assert column(categories, "category", "households_visited")["elder_care.home_visit"] == 2
    assert column(categories, "category", "completed")["elder_care.companionship"] == 2
    assert {key: n for key, n in column(categories, "category", "disputes_received").items() if n} == {"mediation": 2}
    days = await get(reporting, "groups/day", **WEEK)
    assert column(days, "day", "received") == {DAYS[0]: 3, DAYS[1]: 3, DAYS[2]: 0}
    assert column(days, "day", "completed") == {DAYS[0]: 1, DAYS[1]: 3, DAYS[2]: 1}
    assert column(days, "day", "median_minutes_to_assign") == {DAYS[0]: 60.0, DAYS[1]: 90.0, DAYS[2]: None}
    weeks = await get(reporting, "groups/week", **WEEK)
    assert column(weeks, "week", "service_hours") == {DAYS[0]: 8.5}
    months = await get(reporting, "groups/month", **{"from": "2026-02-01", "to": DAYS[-1]})
    assert column(months, "month", "received") == {"2026-02-01": 0, "2026-03-01": 6}


@pytest.mark.parametrize("first, last, days", [
    ("2026-03-01", "2026-03-31", DAYS), ("2026-02-15", "2026-04-10", DAYS), ("2025-12-01", "2026-03-02", DAYS[:1]),
    ("2026-03-03", "2026-05-31", DAYS[1:]),
])
async def test_whole_months_read_from_the_month_rollups_count_as_the_days_do(reporting, first, last, days):
    """A period's whole months read the month rows, the days at its ends the day rows: the
    counts are those of the station's days in the period, read from the day rows alone."""
    counted = ("received", "assigned", "completed", "rejected", "missed", "cancelled", "service_hours",
               "disputes_received", "disputes_agreed", "return_visits")
    by_days = (await get(reporting, "summary", **{"from": days[0], "to": days[-1]}))["figures"]
    by_months = (await get(reporting, "summary", **{"from": first, "to": last}))["figures"]
    assert {name: by_months[name] for name in counted} == {name: by_days[name] for name in counted}
    grouped = await get(reporting, "groups/community", **{"from": first, "to": last})
    assert sum(row["received"] for row in grouped["rows"]) == by_days["received"]


async def test_filters_narrow_every_figure(reporting):
    east_1 = (await get(reporting, "summary", community="east-1", **WEEK))["figures"]
    assert (east_1["received"], east_1["completed"], east_1["case_files"], east_1["residents"]) == (3, 4, 2, 1000)
    west = (await get(reporting, "summary", street="S-west", **WEEK))["figures"]
    assert (west["received"], west["households_visited"], west["disputes_escalated"]) == (1, 1, 2)
    day_2 = (await get(reporting, "summary", **{"from": DAYS[1], "to": DAYS[1]}))["figures"]
    assert (day_2["received"], day_2["completed"], day_2["within_window_share"]) == (3, 3, 0.0)
    carnations = (await get(reporting, "summary", team="康乃馨", **WEEK))["figures"]
    assert (carnations["volunteer_hours"], carnations["active_volunteers"], carnations["received"]) == (5.0, 2, None)
    visits = (await get(reporting, "summary", category="elder_care.home_visit", **WEEK))["figures"]
    assert (visits["completed"], visits["households_visited"], visits["person_times"]) == (2, 2, 3)


async def test_disputes_volunteers_and_the_escalation_backlog(reporting):
    levels = {row["level"]: row for row in (await get(reporting, "disputes"))["rows"]}
    assert {level: (row["disputes_received"], row["disputes_escalated"], row["disputes_agreed"])
            for level, row in levels.items()} == {"grid": (1, 1, 0), "community": (1, 1, 1), "street": (0, 1, 0)}
    volunteers = await get(reporting, "volunteers")
    assert [(row["external_id"], row["team"], row["participations"], row["hours"]) for row in volunteers["rows"]][:2] \
        == [("v1", "康乃馨", 2, 3.0), ("v4", "康乃馨", 2, 2.0)]
    assert volunteers["fairness"] == {"volunteers": 4, "median_hours": 1.75, "p90_hours": 2.7, "max_hours": 3.0}
    [open_escalation] = (await get(reporting, "escalations"))["rows"]  # the cancelled one is not waiting
    assert (open_escalation["community_code"], open_escalation["category"]) == ("east-2", "health.checkup")
    assert open_escalation["escalation_reason"] == "nobody can take it"


async def test_every_table_exports_as_csv_and_xlsx(reporting):
    for path in ("summary", "groups/community", "disputes", "volunteers", "escalations"):
        answer = await get(reporting, path, **WEEK)
        rows = answer.get("rows") or [answer["figures"]]
        as_csv = await reporting.get(f"/api/v1/reports/{path}", params={**WEEK, "format": "csv"})
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
        read = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
        assert read == [{key: "" if row[key] is None else str(row[key]) for key in read[0]} for row in rows]
        as_xlsx = await reporting.get(f"/api/v1/reports/{path}", params={**WEEK, "format": "xlsx"})
        assert as_xlsx.headers["content-disposition"].endswith('.xlsx"')
        header, *cells = list(load_workbook(io.BytesIO(as_xlsx.content)).active.values)
        assert [dict(zip(header, values)) for values in cells] == [{key: row[key] for key in header} for row in rows]
    summary = await reporting.get("/api/v1/reports/summary", params={"format": "xlsx"})
    header, values = list(load_workbook(io.BytesIO(summary.content)).active.values)
    assert off_bounds(dict(zip(header, values))) == {}


@pytest.mark.parametrize(("path", "params", "reason"), [
    ("summary", {"from": DAYS[2], "to": DAYS[0]}, f"from ({DAYS[2]}) is after to ({DAYS[0]})"),
    ("groups/fortnight", {}, "unknown group 'fortnight'; one of community, street, team, category, day, week, month"),
    ("summary", {"street": "S-north"}, "unknown street 'S-north'; known: S-east, S-west"),
    ("summary", {"street": "S-west", "community": "east-1"}, "community 'east-1' is not in street 'S-west'"),
    ("volunteers", {"category": "fortune_telling"}, "unknown category 'fortune_telling'; see the catalogue"),
    ("groups/day", {"from": "0001-01-01", "to": "9999-12-31"},
     "from (0001-01-01) is outside the days linli counts (1970-01-01 to 2999-12-31)"),
    ("groups/day", {"from": "2000-01-01", "to": "2026-12-31"},
     "a trend by day has at most 1100 rows; from 2000-01-01 to 2026-12-31 has 9862: "
     "ask for a shorter period or a longer grain"),
])
async def test_a_question_that_cannot_be_answered_is_refused_with_its_reason(reporting, path, params, reason):
    response = await reporting.get(f"/api/v1/reports/{path}", params=params)
    assert response.status_code == 422
    assert response.json() == {"detail": reason}


async def test_a_malformed_parameter_is_refused_by_name(reporting):
    for params, name in (({"from": "2026-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"format": "pdf"}, "format")):
        response = await reporting.get("/api/v1/reports/summary", params=params)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", name]


async def test_a_rebuild_from_the_archive_gives_the_same_figures(reporting, own_settings):
    before = await everything(reporting)
    async with reporting.app.state.runtime.pool.acquire() as conn:  # figures gone astray must come back
        await conn.execute("DELETE FROM request_rollup WHERE community_code = 'east-1'; DELETE FROM volunteer")
    assert (await get(reporting, "summary", **WEEK))["figures"]["received"] == 3
    locks = []

    def locks_held(done: int, total: int) -> None:
        if done == total:  # every event replayed, in the rebuild's one transaction
            locks.append(advisory_locks(own_settings.database_url))
    assert await rebuild(own_settings, locks_held) == len(reporting.events)
    assert await everything(reporting) == before
    # none per request: one each, in one transaction, ran PostgreSQL's lock table out after 12,000
    assert locks == [0]


def advisory_locks(database_url: str) -> int:
    """Advisory locks held in the database now, by any session."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                            ).fetchone()[0]


async def test_events_in_any_order_give_the_same_figures(servers):
    """Another database, the same week shuffled: received after assigned, completion before all."""
    with isolated_settings(servers) as settings:
        settings = settings.model_copy(update={"matching_areas_file": AREAS})
        events = station_week()
        random.Random(6).shuffle(events)
        async with running(SERVICE, settings) as client:
            before = await handled(client, "reporting")
            for event in events:
                await announce(settings, event)
            await until_handled(client, "reporting", before, len(events))
            assert off_bounds((await get(client, "summary"))["figures"]) == {}


async def test_commits_reach_the_live_streams_again_after_the_listening_connection_is_lost(reporting, own_settings):
    changes = reporting.app.state.deps.changes
    async with reporting.app.state.runtime.pool.acquire() as conn:
        killed = await conn.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE application_name = $1 AND datname = current_database()", LISTENER)
    assert killed == 1
    seen = changes.version
    await eventually(lambda: changes.version > seen)  # listening again: the streams are told to redraw
    seen = changes.version
    await announce(own_settings, station_week()[0])  # a new volunteer
    await eventually(lambda: changes.version > seen)
