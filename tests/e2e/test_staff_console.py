"""The staff console in a real headless Chromium on a phone-sized screen (Debian's, driven by
Playwright), the four services running as processes: a community's staff member signs in; a
request nobody can take appears live under 待处理升级 with its reason in Chinese; the staff assign
a volunteer registered meanwhile, whose notify inbox then holds the offer, and the backlog shrinks;
then the staff file key households, start a visit campaign and watch its progress reach 100% as
the volunteers accept and report done on the bus, and find a household's visit on its page. And
every queue's actions, from the page: handled, duplicate (a refusal shows matching's reason),
cancelled, a case closed, its return visit recorded."""
import re
import shutil
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.e2e.processes import system
from tests.e2e.test_reporting_dashboard import CHROMIUM, CHROMIUM_ARGS
from tests.identities import as_volunteer, token
from tests.support import event_tap, eventually, publish

pytestmark = pytest.mark.e2e

AREAS = "tests/areas.json"
COMMUNITY = "east-2"
PHONE = (390, 844)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
TIMEOUT = 60
HOUSEHOLDS = [("林阿婆", "13912345678"), ("郑阿公", "13987654321")]
PHONES_GIVEN = ("13700000000", "13800000001")  # the volunteers' and the resident's


def volunteer(name: str, *skills: str) -> dict:
    return {"source": "volunteer-app", "external_id": f"v-{uuid.uuid4().hex[:8]}", "name": name,
            "phone": "13700000000", "community_code": COMMUNITY, "team": "康乃馨", "skills": list(skills),
            "max_weekly_hours": 40}


async def visited_by_volunteers(settings, tap, visits: set[str]) -> None:
    """The volunteers take the campaign's visits one by one from their app: accept an offer, report
    it done (one at a time: a volunteer is never booked into two overlapping windows)."""
    done: set[str] = set()
    while done != visits:
        [offer, *_] = await eventually(lambda: [o for o in tap.of("assignment.offered")
                                                if o["request_id"] in visits - done], TIMEOUT)
        volunteer = offer["volunteer"]
        await publish(settings, "assignment.respond", {"assignment_id": offer["assignment_id"], "accept": True,
                                                       "source": volunteer["source"],
                                                       "volunteer_external_id": volunteer["external_id"]})
        await eventually(lambda: heard(tap, "assignment.accepted", offer) or heard(tap, "response.rejected", offer,
                                                                                   key="external_id"), TIMEOUT)
        assert heard(tap, "assignment.accepted", offer), tap.of("response.rejected")
        await publish(settings, "service.complete", {"assignment_id": offer["assignment_id"], "hours": 1.0,
                                                     "people_served": 1})
        await eventually(lambda: heard(tap, "request.completed", offer, key="request_id"), TIMEOUT)
        done.add(offer["request_id"])


def heard(tap, routing_key: str, offer: dict, key: str = "assignment_id") -> bool:
    wanted = offer["volunteer"]["external_id"] if key == "external_id" else offer[key]
    return any(event.get(key) == wanted for event in tap.of(routing_key))


async def test_staff_see_an_escalation_live_assign_it_and_watch_a_campaign_reach_every_household(fresh_settings, tmp_path):
    assert shutil.which(CHROMIUM), f"no {CHROMIUM}: run scripts/ensure-browser.sh (make test does)"
    settings = fresh_settings
    staff_token = token("community_staff", f"staff-{COMMUNITY}", area=COMMUNITY)
    with system(settings, tmp_path, LINLI_AREAS_FILE=AREAS) as services:
        async with event_tap(settings) as tap, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport=dict(zip(("width", "height"), PHONE)), locale="zh-CN",
                                          is_mobile=True, has_touch=True)
            page.set_default_timeout(TIMEOUT * 1000)
            login = await page.goto(f"{services['reporting'].url}/console")
            assert login.status == 401 and await page.locator("[data-list]").count() == 0
            await page.fill("#token", staff_token)
            await page.click("#login button")
            await page.wait_for_selector("#live[data-state=open]")
            assert COMMUNITY in await page.text_content("#who")
            assert await page.text_content("[data-count=escalated]") == "0"

            # A request nobody can take: it appears live under 待处理升级, with why in Chinese.
            meals = {"source": "hotline-12345", "external_id": f"h-{uuid.uuid4().hex[:8]}", "category": "elder_care.meals",
                     "description": "独居老人需要送餐", "community_code": COMMUNITY,
                     "beneficiary": {"name": "张奶奶", "phone": "13800000001"}}
            await publish(settings, "request.submit", meals)
            [escalated] = await tap.wait_for("request.escalated", 1, TIMEOUT)
            item = page.locator(f"[data-list=escalated] article[data-key^='{escalated['request_id']}']")
            await item.wait_for()
            assert await page.text_content("[data-count=escalated]") == "1"
            reason = await item.locator(".reason").text_content()
            assert CHINESE.search(reason), reason
            assert "助餐" in await item.locator("h3").text_content()

            # A volunteer registers meanwhile; the staff pick them and the offer is in their inbox.
            cook = volunteer("陈志愿", "cooking", "companionship")
            await publish(settings, "volunteer.register", cook)
            [registered] = await tap.wait_for("volunteer.registered", 1, TIMEOUT)
            await item.locator("[data-open=assign]").click()
            picker = item.locator("form[data-action=assign] select[name=volunteer_id]")
            await picker.locator(f"option[value='{registered['volunteer_id']}']").wait_for(state="attached")
            await picker.select_option(registered["volunteer_id"])
            await item.locator("form[data-action=assign] button[type=submit]").click()
            await page.wait_for_selector("[data-count=escalated]:text-is('0')")
            assert await page.locator(f"article[data-key^='{escalated['request_id']}']").count() == 0

            async def offered_in_inbox():
                async with httpx.AsyncClient(headers=as_volunteer(cook["external_id"])) as client:
                    inbox = await client.get(f"{services['notify'].url}/api/v1/inbox/volunteer:volunteer-app:"
                                             f"{cook['external_id']}")
                return inbox.status_code == 200 and any("助餐" in str(message) for message in inbox.json())
            await eventually(offered_in_inbox, TIMEOUT)

            # The staff file two key households, then visit them in a campaign.
            await publish(settings, "volunteer.register", volunteer("黄志愿", "companionship"))
            await page.click("#register summary")
            for name, phone in HOUSEHOLDS:
                form = page.locator("#register-form")
                await form.locator("[name=name]").fill(name)
                await form.locator("[name=phone]").fill(phone)
                await form.locator("[name=community_code]").select_option(COMMUNITY)
                await form.locator("[name=tags][value=living_alone]").check()
                await form.locator("[name=consent]").check()
                await form.locator("button[type=submit]").click()
                await page.locator("#household-list article", has_text=name).wait_for()
            listed = await page.text_content("#household-list")
            assert "139****5678" in listed and "13912345678" not in await page.content()

            start = datetime.now() + timedelta(minutes=5)
            campaign = page.locator("#campaign-form")
            await page.click("#campaign-start summary")
            await campaign.locator("[name=title]").fill("春节前走访")
            await campaign.locator("[name=area]").select_option(f"community:{COMMUNITY}")
            await campaign.locator("[name=campaign_tags][value=living_alone]").check()
            await campaign.locator("[name=start]").fill(start.strftime("%Y-%m-%dT%H:%M"))
            await campaign.locator("[name=end]").fill((start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
            await campaign.locator("button[type=submit]").click()
            [started] = await tap.wait_for("campaign.started", 1, TIMEOUT)
            progress = page.locator(f".progress[data-campaign='{started['campaign_id']}']")
            await progress.wait_for()
            assert await progress.get_attribute("data-targeted") == str(len(HOUSEHOLDS))

            await visited_by_volunteers(settings, tap, {str(visit["request_id"]) for visit in started["visits"]})
            await page.wait_for_selector(f".progress[data-campaign='{started['campaign_id']}'][data-percent='100']")
            assert await progress.get_attribute("data-visited") == str(len(HOUSEHOLDS))

            # Search finds a household by its phone (shown masked); its page holds its visit.
            await page.fill("#q", "139 1234 5678")
            await page.click("#search-form button")
            found = page.locator("#search-results article[data-household]", has_text=HOUSEHOLDS[0][0])
            await found.wait_for()
            assert "139****5678" in await found.text_content()
            await found.locator("[data-history]").click()
            await page.locator("#history h3", has_text=HOUSEHOLDS[0][0]).wait_for()
            assert "走访" in await page.text_content("#history")

            # A phone's screen: one column, nothing wider than it; never the token or a full phone.
            assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
            html = await page.content()
            assert staff_token not in html
            # No phone the test gave, nor any other mobile number standing alone (ids hold digits too).
            assert not any(phone in html for phone in (*PHONES_GIVEN, *(phone for _, phone in HOUSEHOLDS)))
            assert not re.search(r"(?<![0-9A-Za-z-])1[3-9]\d{9}(?![0-9A-Za-z])", html)
            assert await page.evaluate("document.cookie") == ""
            await page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
            await browser.close()


def consultation() -> dict:
    return {"source": "hotline-12345", "external_id": f"h-{uuid.uuid4().hex[:8]}", "category": "legal.consultation",
            "description": "法律咨询", "community_code": COMMUNITY, "beneficiary": {"name": "张奶奶", "phone": "13800000001"}}


async def acted(item, action: str, **fields) -> None:
    """Open `action`'s form on the item, fill it (`<name>_choice`: the radio of that value) and send it."""
    await item.locator(f"[data-open={action}]").click()
    form = item.locator(f"form[data-action={action}]")
    for name, value in fields.items():
        if name.endswith("_choice"):
            await form.locator(f"[name={name.removesuffix('_choice')}][value={value}]").check()
        else:
            await form.locator(f"[name={name}]").fill(value)
    await form.locator("button[type=submit]").click()


async def test_each_queues_actions_work_from_the_page_and_a_refusal_says_why(fresh_settings, tmp_path):
    settings = fresh_settings
    with system(settings, tmp_path, LINLI_AREAS_FILE=AREAS, MATCHING_FOLLOW_UP_DAYS="0") as services:
        async with event_tap(settings) as tap, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport=dict(zip(("width", "height"), PHONE)), locale="zh-CN")
            page.set_default_timeout(TIMEOUT * 1000)
            await page.goto(f"{services['reporting'].url}/console")
            await page.fill("#token", token("community_staff", f"staff-{COMMUNITY}", area=COMMUNITY))
            await page.click("#login button")
            await page.wait_for_selector("#live[data-state=open]")
            for _ in range(3):
                await publish(settings, "request.submit", consultation())
            handled, duplicate, cancelled = [e["request_id"] for e in await tap.wait_for("request.escalated", 3, TIMEOUT)]
            await page.wait_for_selector("[data-count=escalated]:text-is('3')")

            def item(request_id):
                return page.locator(f"[data-list=escalated] article[data-key^='{request_id}']")
            await acted(item(handled), "handled", hours="1.5", people_served="2", note="电话解答")
            await page.wait_for_selector("[data-count=escalated]:text-is('2')")
            await acted(item(duplicate), "duplicate", duplicate_of=duplicate)
            refusal = item(duplicate).locator("form[data-action=duplicate] .problem:not([hidden])")
            assert CHINESE.search(await refusal.text_content())  # matching's reason, in Chinese
            await item(duplicate).locator("form[data-action=duplicate] [name=duplicate_of]").fill(cancelled)
            await item(duplicate).locator("form[data-action=duplicate] button[type=submit]").click()
            await page.wait_for_selector("[data-count=escalated]:text-is('1')")
            await acted(item(cancelled), "cancel", reason="居民已不需要")
            await page.wait_for_selector("[data-count=escalated]:text-is('0')")

            # A dispute nobody mediates climbs to the street's staff, who close it, then call back.
            await publish(settings, "case.submit", {
                "source": "grid-platform", "external_id": f"k-{uuid.uuid4().hex[:6]}", "community_code": COMMUNITY,
                "dispute_type": "noise", "summary": "楼上噪音", "severity": "serious",
                "parties": [{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}]})
            await page.click("[data-tab=cases]")
            await page.wait_for_selector("[data-list=cases] h4[data-level=street_staff]")
            case = page.locator("[data-list=cases] article").first
            assert "噪音纠纷" in await case.text_content() and await case.locator(".steps li").count() >= 2
            await acted(case, "close", outcome_choice="agreement", hours="2")
            await page.wait_for_selector("[data-count=cases]:text-is('0')")
            await page.click("[data-tab=return_visits]")
            await page.wait_for_selector("[data-count=return_visits]:text-is('1')")
            await acted(page.locator("[data-list=return_visits] article").first, "return_visit",
                        satisfaction_choice="basically_satisfied", note="居民表示基本满意")
            await page.wait_for_selector("[data-count=return_visits]:text-is('0')")
            [visited] = await tap.wait_for("case.return_visited", 1, TIMEOUT)
            assert visited["satisfaction"] == "basically_satisfied"
            await browser.close()
