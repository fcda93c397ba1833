"""matching's stored timers over the real servers, on a clock the test moves: an unanswered
offer expires and the next volunteer is asked, exhaustion escalates, an offer's timer survives
a restart, one made in the quiet hours runs from their end, a window that ends unserved is
missed, a closed case's return visit falls due, a row that fails is set aside while the others
go on, and an accepted assignment without a window lapses at its deadline. Nothing waits for
the wall clock."""
import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.matching.app import SERVICE
from services.matching.timers import tick
from tests.builders.matching import answer, case, community, done, received, registered
from tests.clock import SetClock
from tests.support import announce, enrol, event_tap, eventually, metric, running

pytestmark = pytest.mark.integration

TIMEOUT = timedelta(seconds=60)
# Long enough for the timers (every 0.2 s) to have looked several times.
LOOKS = 1.0


def timed(settings, **changes):
    return settings.model_copy(update={"matching_offer_timeout_seconds": TIMEOUT.total_seconds(),
                                       "matching_clock_seconds": 0.2, **changes})


async def test_unanswered_offers_expire_one_after_another_then_the_request_is_escalated(fresh_settings):
    settings, clock, place = timed(fresh_settings), SetClock(), community()
    async with running(SERVICE, settings, clock=clock) as matching:
        await enrol(matching, settings, registered(place, "employment"), registered(place, "employment"))
        async with event_tap(settings) as tap:
            await announce(settings, received(place, "employment.guidance"))
            [first] = await tap.wait_for("assignment.offered")
            assert datetime.fromisoformat(first["expires_at"]) == clock.now() + TIMEOUT
            clock.advance(TIMEOUT - timedelta(seconds=1))
            await asyncio.sleep(LOOKS)
            assert tap.of("assignment.expired") == []  # a second to go
            clock.advance(timedelta(seconds=2))
            await tap.wait_for("assignment.offered", 2)
            clock.advance(TIMEOUT + timedelta(seconds=1))
            [escalated] = await tap.wait_for("request.escalated")
    offered, expired = tap.of("assignment.offered"), tap.of("assignment.expired")
    assert len(offered) == 2 and [e["assignment_id"] for e in expired] == [o["assignment_id"] for o in offered]
    assert escalated["reason"].endswith("2 already offered this task (declined, expired or pending)")


async def test_an_offer_s_timer_survives_a_restart_of_matching(fresh_settings):
    settings, clock, place = timed(fresh_settings), SetClock(), community()
    async with event_tap(settings) as tap:
        async with running(SERVICE, settings, clock=clock) as matching:
            await enrol(matching, settings, registered(place, "cleanup"))
            await announce(settings, received(place, "environment.cleanup"))
            [offer] = await tap.wait_for("assignment.offered")
        clock.advance(TIMEOUT + timedelta(seconds=1))  # the offer runs out while matching is down
        await asyncio.sleep(LOOKS)
        assert tap.of("assignment.expired") == []
        async with running(SERVICE, settings, clock=clock):
            [expired] = await tap.wait_for("assignment.expired")
    assert expired["assignment_id"] == offer["assignment_id"]


async def test_an_offer_made_in_the_quiet_hours_runs_from_their_end(fresh_settings):
    """notify holds it until morning, so matching's timer starts then, not now."""
    settings = timed(fresh_settings, notify_quiet_hours="22:00-07:00")
    clock, place = SetClock(datetime(2026, 3, 1, 15, 30, tzinfo=UTC)), community()  # 23:30 in the city
    async with running(SERVICE, settings, clock=clock) as matching, event_tap(settings) as tap:
        await enrol(matching, settings, registered(place, "cooking"))
        await announce(settings, received(place, "elder_care.meals"))
        [offer] = await tap.wait_for("assignment.offered")
        clock.advance(TIMEOUT * 2)
        await asyncio.sleep(LOOKS)
        assert tap.of("assignment.expired") == []  # the night does not count
    assert datetime.fromisoformat(offer["expires_at"]) == datetime(2026, 3, 1, 23, 0, tzinfo=UTC) + TIMEOUT  # 07:00


async def test_an_occurrence_not_served_by_the_end_of_its_window_is_missed(fresh_settings):
    settings, clock, place = timed(fresh_settings), SetClock(), community()
    window = {"start": clock.now(), "end": clock.now() + timedelta(hours=2)}
    async with running(SERVICE, settings, clock=clock) as matching:
        await enrol(matching, settings, registered(place, "tutoring"))
        request = received(place, "child.tutoring", window=window)
        async with event_tap(settings) as tap:
            await announce(settings, request)
            [offer] = await tap.wait_for("assignment.offered")
            await announce(settings, answer(offer, accept=True))
            await tap.wait_for("assignment.accepted")
            clock.set(window["end"])
            await asyncio.sleep(LOOKS)
            assert tap.of("request.missed") == []  # the window's last moment
            clock.advance(timedelta(seconds=1))
            [missed] = await tap.wait_for("request.missed")
        view = (await matching.get(f"/api/v1/requests/{request.request_id}")).json()
    assert missed["occurrence"] == 1 and missed["volunteers"][0]["assignment_id"] == offer["assignment_id"]
    assert view["occurrences"][0]["status"] == "missed"
    assert view["occurrences"][0]["assignments"][0]["status"] == "missed"


async def test_a_closed_case_s_return_visit_falls_due_after_the_follow_up_days(fresh_settings):
    settings, clock, place = timed(fresh_settings, matching_follow_up_days=7), SetClock(), community()
    async with running(SERVICE, settings, clock=clock) as matching:
        await enrol(matching, settings, registered(place, "mediation"))
        async with event_tap(settings) as tap:
            await announce(settings, case(place, None))
            [offer] = await tap.wait_for("assignment.offered")
            await announce(settings, answer(offer, accept=True))
            await announce(settings, done(offer, hours=2, people=2, outcome="agreement"))
            [closed] = await tap.wait_for("case.closed")
            clock.advance(timedelta(days=7) - timedelta(seconds=1))
            await asyncio.sleep(LOOKS)
            assert tap.of("case.follow_up_due") == []
            clock.advance(timedelta(seconds=1))
            [due] = await tap.wait_for("case.follow_up_due")
    assert closed["follow_up_at"] == due["follow_up_at"] and due["outcome"] == "agreement"
    assert datetime.fromisoformat(due["follow_up_at"]) == clock.now()


async def test_a_timer_row_that_fails_is_set_aside_while_the_others_go_on_then_retried(fresh_settings):
    """The broken row's offer runs out first; its request can no longer be read (as a bug or a
    bad row would make it), so expiring it raises at every look."""
    settings, clock = timed(fresh_settings), SetClock()
    broken, sound = received(community(), "elder_care.meals"), received(community(), "elder_care.meals")
    async with running(SERVICE, settings, clock=clock) as matching, event_tap(settings) as tap:
        await enrol(matching, settings, *(registered(r.community_code, "cooking") for r in (broken, sound)))
        await announce(settings, broken)
        [first] = await tap.wait_for("assignment.offered")
        clock.advance(timedelta(seconds=1))
        await announce(settings, sound)
        await tap.wait_for("assignment.offered", 2)
        pool = matching.app.state.deps.runtime.pool
        stored = await pool.fetchval("SELECT received FROM service_request WHERE request_id = $1", broken.request_id)
        await pool.execute("UPDATE service_request SET received = '{\"request_id\": \"?\"}' WHERE request_id = $1",
                           broken.request_id)
        failures = await metric(matching, "linli_matching_timer_failures_total", timer="expire")
        clock.advance(TIMEOUT + timedelta(seconds=1))
        [expired] = await tap.wait_for("assignment.expired")  # past the broken row
        assert expired["request_id"] == str(sound.request_id)
        set_aside = await pool.fetchrow("SELECT attempts, retry_at FROM timer_setback WHERE timer = 'expire' "
                                        "AND key = $1", first["assignment_id"])
        assert (set_aside["attempts"], set_aside["retry_at"]) == (1, clock.now() + timedelta(seconds=30))
        assert await metric(matching, "linli_matching_timer_failures_total", timer="expire") == failures + 1
        await pool.execute("UPDATE service_request SET received = $2 WHERE request_id = $1", broken.request_id,
                           stored)  # mended
        clock.advance(timedelta(seconds=30))
        await tap.wait_for("assignment.expired", 2)

        async def gone():
            return await pool.fetchval("SELECT count(*) = 0 FROM timer_setback")
        await eventually(gone)
    assert tap.of("assignment.expired")[1]["assignment_id"] == first["assignment_id"]


async def test_an_accepted_assignment_without_a_window_unreported_by_its_deadline_goes_to_the_staff(fresh_settings):
    settings = timed(fresh_settings, matching_accepted_deadline_hours=24, matching_clock_seconds=3600)
    clock, place = SetClock(), community()
    volunteer = registered(place, "cooking")
    async with running(SERVICE, settings, clock=clock) as matching, event_tap(settings) as tap:
        await enrol(matching, settings, volunteer)
        request = received(place, "elder_care.meals")  # no window
        await announce(settings, request)
        [offer] = await tap.wait_for("assignment.offered")
        await announce(settings, answer(offer, accept=True))
        await tap.wait_for("assignment.accepted")
        deps, assignment = matching.app.state.deps, f"/api/v1/assignments/{offer['assignment_id']}"
        clock.advance(timedelta(hours=24) - timedelta(seconds=1))
        await tick(deps)  # a look just before the deadline
        assert (await matching.get(assignment)).json()["status"] == "accepted"
        clock.advance(timedelta(seconds=1))
        await tick(deps)
        [escalated] = await tap.wait_for("request.escalated")
        assert (await matching.get(assignment)).json()["status"] == "missed"
        profile = (await matching.get(f"/api/v1/volunteers/{volunteer.volunteer_id}")).json()
    assert escalated["reason"] == "a volunteer accepted but not reported done within 24 hours"
    assert (escalated["request_id"], escalated["accepted"]) == (str(request.request_id), 0)
    assert profile["open_assignments"] == 0 and tap.of("assignment.expired") == []


async def test_a_request_that_finds_every_volunteer_busy_waits_for_a_freed_place_then_for_its_time(fresh_settings):
    """B waits while the only volunteer holds A's offer, and is offered to them once they decline
    A; C waits behind B's offer and goes to the staff when its wait is over, with the reason."""
    wait = TIMEOUT / 2  # B's offer stays open all along
    settings = timed(fresh_settings, matching_max_open_assignments=1,
                     matching_wait_for_free_seconds=wait.total_seconds())
    clock, place = SetClock(), community()
    first, second, third = (received(place, "employment.guidance") for _ in range(3))
    async with running(SERVICE, settings, clock=clock) as matching, event_tap(settings) as tap:
        await enrol(matching, settings, registered(place, "employment"))
        await announce(settings, first)
        [offer] = await tap.wait_for("assignment.offered")
        await announce(settings, second)
        await asyncio.sleep(LOOKS)
        assert tap.of("request.escalated") == [] and len(tap.of("assignment.offered")) == 1
        await announce(settings, answer(offer, accept=False))
        offered = await tap.wait_for("assignment.offered", 2)
        await announce(settings, third)
        await asyncio.sleep(LOOKS)  # decided: its wait begins now
        clock.advance(wait - timedelta(seconds=1))
        await asyncio.sleep(LOOKS)
        escalated = [e["request_id"] for e in tap.of("request.escalated")]
        assert escalated == [str(first.request_id)]  # declined by the only volunteer: nobody else
        clock.advance(timedelta(seconds=2))
        [*_, late] = await tap.wait_for("request.escalated", 2)
    assert offered[1]["request_id"] == str(second.request_id)
    assert (late["request_id"], late["reason_code"], late["reason_params"]["failures"]) == (
        str(third.request_id), "nobody_able", {"open_cap": 1})
