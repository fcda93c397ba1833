"""matching's stored timers over the real servers: an unanswered offer expires and the next
volunteer is asked, exhaustion escalates, an offer's timer survives a restart, and one made in
the quiet hours runs from their end."""
import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.matching.app import SERVICE
from tests.integration.test_matching import community, enrol, received, registered
from tests.support import announce, event_tap, running

pytestmark = pytest.mark.integration


def quick(settings, seconds: float):
    return settings.model_copy(update={"matching_offer_timeout_seconds": seconds, "matching_clock_seconds": 0.2})


async def test_unanswered_offers_expire_one_after_another_then_the_request_is_escalated(fresh_settings):
    settings = quick(fresh_settings, 1)
    place = community()
    async with running(SERVICE, settings) as matching:
        await enrol(matching, settings, registered(place, "employment"), registered(place, "employment"))
        async with event_tap(settings) as tap:
            await announce(settings, received(place, "employment.guidance"))
            [escalated] = await tap.wait_for("request.escalated")
    offered, expired = tap.of("assignment.offered"), tap.of("assignment.expired")
    assert len(offered) == 2 and [e["assignment_id"] for e in expired] == [o["assignment_id"] for o in offered]
    assert escalated["reason"].endswith("2 already offered this task (declined, expired or pending)")


async def test_an_offer_s_timer_survives_a_restart_of_matching(fresh_settings):
    settings = quick(fresh_settings, 2)
    place = community()
    async with event_tap(settings) as tap:
        async with running(SERVICE, settings) as matching:
            await enrol(matching, settings, registered(place, "cleanup"))
            await announce(settings, received(place, "environment.cleanup"))
            [offer] = await tap.wait_for("assignment.offered")
        await asyncio.sleep(3)  # the offer runs out while matching is down
        assert tap.of("assignment.expired") == []
        async with running(SERVICE, settings):
            [expired] = await tap.wait_for("assignment.expired")
    assert expired["assignment_id"] == offer["assignment_id"]


async def test_an_offer_made_in_the_quiet_hours_runs_from_their_end(fresh_settings):
    """notify holds it until morning, so matching's timer starts then, not now."""
    settings = fresh_settings
    city = datetime.now(UTC).astimezone(ZoneInfo(settings.linli_timezone))
    end = city + timedelta(hours=1)
    quiet = settings.model_copy(update={"notify_quiet_hours": f"{city - timedelta(hours=1):%H:%M}-{end:%H:%M}",
                                        "matching_offer_timeout_seconds": 600})
    place = community()
    async with running(SERVICE, quiet) as matching, event_tap(settings) as tap:
        await enrol(matching, settings, registered(place, "cooking"))
        request = received(place, "elder_care.meals")
        await announce(settings, request)
        [offer] = await tap.wait_for("assignment.offered")
    expected = end.replace(second=0, microsecond=0) + timedelta(seconds=600)
    assert datetime.fromisoformat(offer["expires_at"]) == expected
