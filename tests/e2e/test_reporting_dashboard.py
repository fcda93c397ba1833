"""reporting's dashboard in a real headless Chromium (Debian's, driven by Playwright): it asks for
a login, the figures on the page are then the API's, and an event published through the broker
changes the page without a reload."""
import json
import os
import shutil
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import async_playwright

from shared.events import RequestReceived
from tests.e2e.processes import system
from tests.identities import OPS, token
from tests.builders.reporting import EXPECTED, at, off_bounds, station_week
from tests.support import announce, eventually

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Never a browser of Playwright's own: the machines fetch nothing but packages (scripts/ensure-browser.sh).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AREAS = "tests/areas.json"


async def figures_of(url: str, **scope) -> dict:
    async with httpx.AsyncClient(headers=OPS) as client:
        return (await client.get(f"{url}/api/v1/reports/summary", params=scope)).json()["figures"]


async def shown_on(page) -> dict:
    return {name: json.loads(value) for name, value in await page.eval_on_selector_all(
        "[data-figure]", "cards => cards.map(card => [card.dataset.figure, card.dataset.value])")}


async def test_the_dashboard_shows_the_apis_figures_and_follows_new_events(fresh_settings, tmp_path):
    assert shutil.which(CHROMIUM), f"no {CHROMIUM}: run scripts/ensure-browser.sh (make test does)"
    events = station_week()
    with system(fresh_settings, tmp_path, ("reporting",), LINLI_AREAS_FILE=AREAS) as services:
        url = services["reporting"].url
        for event in events:
            await announce(fresh_settings, event)

        async def all_counted():
            return not off_bounds(await figures_of(url))  # an open period: distinct people are estimates
        await eventually(all_counted)

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
            # Opened plainly, it shows this month on the city's clock (the page's): the month after the
            # station week's. Just after midnight in the city, while UTC is still on the last day of March.
            await page.clock.set_fixed_time(datetime(2026, 4, 1, 0, 30, tzinfo=ZoneInfo(fresh_settings.linli_timezone)))
            login = await page.goto(f"{url}/dashboard")
            assert login.status == 401 and await page.locator("[data-figure]").count() == 0  # no session: no figures
            await page.fill("#token", "not a token")
            await page.click("#login button")
            assert "the token is not valid" in await page.text_content("#problem")
            async with httpx.AsyncClient() as nobody:
                assert (await nobody.get(f"{url}/api/v1/reports/summary")).status_code == 401
            await page.fill("#token", token("report_viewer", "viewer-1"))
            await page.click("#login button")  # the server checks it and keeps it as an HttpOnly cookie
            await page.wait_for_selector("[data-figure=received]")
            [cookie] = await page.context.cookies()
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert await page.evaluate("document.cookie") == ""  # scripts never see the token
            this_month = "2026-04-01"
            assert (await page.text_content("#scope")).startswith(f"{this_month} 至 今")
            month = await shown_on(page)
            assert month == {name: (await figures_of(url, **{"from": this_month}))[name] for name in month}
            assert month["received"] != EXPECTED["received"]

            await page.click("#periods a[data-period=all]")
            await page.wait_for_selector("#live[data-state=open]")
            await page.wait_for_selector(f"[data-figure=received][data-value='{EXPECTED['received']}']")
            assert await page.text_content("#scope") == "全部时间 · 全部社区"
            shown = await shown_on(page)
            from_api = await figures_of(url)
            assert len(shown) >= 15 and shown == {name: from_api[name] for name in shown}
            assert await page.text_content("[data-figure=service_hours]") == "8.5"
            assert "受理需求" in await page.text_content("#headline")
            assert "上门走访/慰问探访" in await page.text_content("#categories")
            assert await page.text_content("#backlog-count") == "共 1 件"
            await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

            loaded = await page.evaluate("performance.timeOrigin")
            one_more = RequestReceived(correlation_id="c", occurred_at=at(3, 18), request_id=uuid.uuid4(),
                                       source="hotline-12345", external_id=uuid.uuid4().hex,
                                       category="elder_care.meals", description="助餐", community_code="east-3")
            await announce(fresh_settings, one_more)
            await page.wait_for_selector(f"[data-figure=received][data-value='{EXPECTED['received'] + 1}']")
            assert await page.evaluate("performance.timeOrigin") == loaded  # the same page: not reloaded
            assert (await figures_of(url))["received"] == EXPECTED["received"] + 1
            assert "east-3" in await page.text_content("#communities")
            await browser.close()
