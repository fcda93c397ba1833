"""reporting counts the staff's work (issue 15) against the real RabbitMQ and PostgreSQL: a week of
staff events in through the broker (tests/builders/staff.py), the figures, the campaigns' coverage,
the staff's actions and the escalation backlog out of the API, and the same after a rebuild."""
import csv
import io

import pytest
from openpyxl import load_workbook

from services.reporting.app import SERVICE
from services.reporting.rebuild import rebuild
from shared.reasons import text
from tests.builders.staff import EXPECTED, NOBODY_ABLE, STAFF_ACTIONS, StaffWeek
from tests.conftest import isolated_settings
from tests.identities import as_, as_staff
from tests.support import announce, handled, running, until_handled

pytestmark = pytest.mark.integration

AREAS = "tests/areas.json"


@pytest.fixture(scope="module")
def own_settings(servers):
    with isolated_settings(servers) as settings:
        yield settings.model_copy(update={"matching_areas_file": AREAS})


async def publish(client, settings, events) -> None:
    before = await handled(client, "reporting")
    for event in events:
        await announce(settings, event)
    await until_handled(client, "reporting", before, len(events))


@pytest.fixture(scope="module")
async def reporting(own_settings):
    """The week up to before staff take over (`staff_taking_over`, published by the first test)."""
    week = StaffWeek()
    async with running(SERVICE, own_settings) as client:
        await publish(client, own_settings, list(reversed(week.events)))  # the last first: order must not matter
        client.week = week
        yield client


async def get(reporting, path: str, headers=None, **params) -> dict:
    response = await reporting.get(f"/api/v1/reports/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def backlog(reporting, **params) -> list[dict]:
    return (await get(reporting, "escalations", **params))["rows"]


async def test_staff_taking_over_shrinks_the_backlog_and_completes_the_campaign(reporting, own_settings):
    week = reporting.week
    waiting = {row["request_id"] for row in await backlog(reporting)}
    # the offer staff made waits for its answer; the cancelled and the linked ones wait no more
    assert waiting == {str(request.about["request_id"]) for request in (week.second_visit, week.checkup,
                                                                        week.reopened)}
    [campaign] = (await get(reporting, "campaigns"))["rows"]
    assert (campaign["title"], campaign["targeted"], campaign["visited"], campaign["coverage"]) == ("春节前走访", 2, 1, 0.5)
    await publish(reporting, own_settings, week.staff_taking_over())
    [still_waiting] = await backlog(reporting)  # the one staff re-opened for offers
    assert still_waiting["request_id"] == str(week.reopened.about["request_id"])
    [campaign] = (await get(reporting, "campaigns"))["rows"]
    assert (campaign["visited"], campaign["coverage"], campaign["community_codes"]) == (2, 1.0, ["east-1"])
    assert campaign["campaign_id"] == str(week.campaign_id)


async def test_every_figure_of_the_staffs_work(reporting):
    figures = (await get(reporting, "summary"))["figures"]
    assert {name: figures[name] for name in EXPECTED} == EXPECTED
    by_community = {row["community"]: row for row in (await get(reporting, "groups/community"))["rows"]}
    assert (by_community["east-1"]["households_registered"], by_community["east-2"]["households_registered"]) == (2, 1)
    assert (by_community["east-1"]["staff_actions"], by_community["east-2"]["staff_actions"]) == (10, 1)
    levels = {row["level"]: row for row in (await get(reporting, "disputes"))["rows"]}
    assert (levels["community"]["return_visits"], levels["community"]["return_visits_dissatisfied"]) == (3, 1)
    visits = (await get(reporting, "summary", category="elder_care.home_visit"))["figures"]
    assert (visits["staff_handled"], visits["households_visited"], visits["households_registered"]) == (1, 2, None)


async def test_the_staffs_actions_by_kind_and_community(reporting):
    rows = (await get(reporting, "staff-actions"))["rows"]
    assert {(row["kind"], row["community_code"]): row["count"] for row in rows} == STAFF_ACTIONS
    assert {row["kind"]: row["kind_name"] for row in rows}["agreed"] == "电话约定指派"
    east_2 = (await get(reporting, "staff-actions", headers=as_staff("east-2")))["rows"]
    assert [(row["kind"], row["community_code"], row["count"]) for row in east_2] == [("duplicate", "east-2", 1)]
    refused = await reporting.get("/api/v1/reports/staff-actions", params={"team": "康乃馨"})
    assert refused.status_code == 422
    assert refused.json() == {"detail": "staff actions belong to no volunteer team: ask without team"}


async def test_the_backlog_reads_its_reason_in_the_readers_language(reporting):
    [row] = await backlog(reporting)
    assert (row["reason_code"], row["reason_params"]) == (NOBODY_ABLE.code, NOBODY_ABLE.params)
    assert row["reason"] == text(NOBODY_ABLE.code, NOBODY_ABLE.params, "zh") and "无人能接" in row["reason"]
    assert row["escalation_reason"] == NOBODY_ABLE.text("en")
    [english] = await backlog(reporting, lang="en")
    assert english["reason"] == NOBODY_ABLE.text("en")
    reader = {"Authorization": as_("report_viewer")["Authorization"]}
    [for_a_viewer] = (await get(reporting, "escalations", headers=reader))["rows"]
    assert for_a_viewer["reason"] == row["reason"]  # no locale on the token: Chinese


async def test_the_new_tables_export_as_csv_and_xlsx(reporting):
    for path in ("campaigns", "staff-actions"):
        rows = (await get(reporting, path))["rows"]
        as_csv = await reporting.get(f"/api/v1/reports/{path}", params={"format": "csv"})
        read = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
        as_xlsx = await reporting.get(f"/api/v1/reports/{path}", params={"format": "xlsx"})
        header, *cells = list(load_workbook(io.BytesIO(as_xlsx.content)).active.values)
        assert len(read) == len(cells) == len(rows) and list(read[0]) == list(header)
    [campaign] = list(csv.DictReader(io.StringIO((await reporting.get(
        "/api/v1/reports/campaigns", params={"format": "csv"})).content.decode("utf-8-sig"))))
    assert (campaign["community_codes"], campaign["coverage"]) == ("east-1", "1.0")
    escalations = await reporting.get("/api/v1/reports/escalations", params={"format": "csv"})
    [row] = list(csv.DictReader(io.StringIO(escalations.content.decode("utf-8-sig"))))
    assert "reason_params" not in row and "无人能接" in row["reason"]


async def test_no_note_of_the_staffs_is_kept(reporting):
    async with reporting.app.state.runtime.pool.acquire() as conn:
        kept = await conn.fetch("SELECT routing_key FROM event_archive WHERE body::text ~ '家属已安排|老人说|送去米和油'")
    assert kept == []


async def test_a_rebuild_gives_the_same_staff_figures(reporting, own_settings):
    paths = ("summary", "groups/community", "disputes", "staff-actions", "campaigns", "escalations")
    before = {path: await get(reporting, path) for path in paths}
    async with reporting.app.state.runtime.pool.acquire() as conn:
        await conn.execute("DELETE FROM staff_action_rollup; DELETE FROM campaign_visit; DELETE FROM household")
    assert await rebuild(own_settings) == len(reporting.week.events) + 2
    assert {path: await get(reporting, path) for path in paths} == before
