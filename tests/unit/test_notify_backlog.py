"""Staff hear of a backlog, not of each request (services/notify/domain/backlog.py): which
escalations are told at once, which are held and in which window, and what the backlog message
says, in both languages, with no resident's personal data."""
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notify.domain.backlog import BACKLOG, Held, Turn, Window, backlog, turn
from services.notify.rendering import Renderer
from shared.events import RequestEscalated

NOW = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in the city
SPAN = timedelta(minutes=5)
MINUTE = timedelta(minutes=1)
RENDERER = Renderer(ZoneInfo("Asia/Shanghai"))


def escalated(urgency: str = "normal", category: str = "elder_care.meals", at: datetime = NOW) -> RequestEscalated:
    return RequestEscalated(correlation_id="c", occurred_at=at, request_id=uuid.uuid4(), source="hotline-12345",
                            external_id="h-1", category=category, community_code="c-north",
                            reason="王秀英 13912345678 nobody", urgency=urgency)


def window(opens_at: datetime, held: int = 0, told: bool = False) -> Window:
    return Window(opens_at, opens_at + SPAN, held, told)


OPENED = window(NOW - MINUTE)  # told an escalation a minute ago, held none since
BUSY = window(NOW - MINUTE, held=3)


@pytest.mark.parametrize("urgency, latest, now, span, expected", [
    # quiet: told now, and the window opens
    ("normal", None, NOW, SPAN, Turn(True, window(NOW))),
    ("high", None, NOW, SPAN, Turn(True, window(NOW))),  # the first of a burst goes at once, whatever its urgency
    # within the window: held in it
    ("normal", OPENED, NOW, SPAN, Turn(False, OPENED)),
    ("high", BUSY, NOW, SPAN, Turn(False, BUSY)),
    ("normal", OPENED, OPENED.closes_at - timedelta(microseconds=1), SPAN, Turn(False, OPENED)),
    # an emergency is always told at once and opens no window; so is every one with no windows
    ("emergency", BUSY, NOW, SPAN, Turn(True)),
    ("emergency", None, NOW, SPAN, Turn(True)),
    ("normal", BUSY, NOW, timedelta(0), Turn(True)),
    # the window closed with nothing held: quiet again
    ("normal", OPENED, OPENED.closes_at, SPAN, Turn(True, window(OPENED.closes_at))),
    # it closed having held some: the backlog goes on in the window that follows it
    ("normal", BUSY, BUSY.closes_at, SPAN, Turn(False, Window(BUSY.closes_at, BUSY.closes_at + SPAN))),
    ("normal", BUSY, BUSY.closes_at + SPAN - timedelta(microseconds=1), SPAN,
     Turn(False, Window(BUSY.closes_at, BUSY.closes_at + SPAN))),
    # its backlog message is made already (told): it holds no more, the next window does
    ("normal", window(NOW - MINUTE, held=3, told=True), NOW, SPAN,
     Turn(False, Window(BUSY.closes_at, BUSY.closes_at + SPAN))),
    # a whole window passed after it with nothing: quiet again
    ("normal", BUSY, BUSY.closes_at + SPAN, SPAN, Turn(True, window(BUSY.closes_at + SPAN))),
    ("normal", window(NOW - MINUTE, held=3, told=True), NOW + timedelta(hours=1), SPAN,
     Turn(True, window(NOW + timedelta(hours=1)))),
])
def test_an_escalation_is_told_at_once_or_held_for_its_community_s_backlog(urgency, latest, now, span, expected):
    assert turn(escalated(urgency), latest, now, span) == expected


def test_a_burst_makes_one_message_now_and_one_backlog_message_per_window():
    """A thousand escalations, one every second: told at once is only the first."""
    latest, told_now, windows = None, 0, set()
    for second in range(1000):
        at = NOW + timedelta(seconds=second)
        if latest and latest.closes_at <= at and latest.held:  # its backlog message is made when it closes
            latest = Window(latest.opens_at, latest.closes_at, latest.held, told=True)
        decided = turn(escalated(at=at), latest, at, SPAN)
        told_now += decided.now
        if not decided.now:
            windows.add(decided.window.opens_at)
            held = latest.held + 1 if decided.window.opens_at == latest.opens_at else 1
            latest = Window(decided.window.opens_at, decided.window.closes_at, held)
        else:
            latest = decided.window
    assert told_now == 1 and len(windows) == 4  # 1,000 s: the first window, then three that follow it


def held(category: str, urgency: str = "normal", waited: timedelta = MINUTE) -> Held:
    return Held(uuid.uuid4(), "c", category, urgency, NOW - waited)


BURST = [held("elder_care.meals"), held("elder_care.meals", "high"), held("health.checkup", waited=2 * MINUTE),
         held("elder_care.meals", waited=12 * MINUTE)]


def test_the_backlog_message_counts_what_was_held_by_service_and_urgency():
    message, about = backlog("c-north", BUSY, BURST, NOW)
    assert message.recipient == "staff:c-north" and message.kind == BACKLOG and not message.urgent
    assert message.fields["count"] == 4 and message.fields["high"] == 1
    assert message.fields["by_service"] == [("elder_care.meals", 3), ("health.checkup", 1)]  # most first
    assert message.fields["oldest_waiting"] == 12 * MINUTE
    # it goes as the oldest escalation it tells of, meant for when its window closed
    oldest = BURST[-1]
    assert (about.event_id, about.correlation_id, about.occurred_at) == (oldest.event_id, "c", BUSY.closes_at)
    assert about.routing_key == "request.escalated"


@pytest.mark.parametrize("language, subject, says", [
    ("zh-CN", "积压提醒:c-north 社区又有 4 项请求需要协调",
     ["2026-03-01 08:59 至 2026-03-01 09:04", "助餐 3 项、义诊/健康检查 1 项", "其中 1 项为紧急", "最早的一项已等待 12 分钟",
      "/dashboard?community=c-north", "/api/v1/reports/escalations?community=c-north"]),
    ("en", "Backlog: 4 more requests need you in community c-north",
     ["From 2026-03-01 08:59 to 2026-03-01 09:04", "meals 3, health check 1", "1 of them urgent",
      "The oldest has waited 12 minutes", "/dashboard?community=c-north"]),
])
def test_the_backlog_message_reads_in_the_staff_s_language(language, subject, says):
    message, _ = backlog("c-north", BUSY, BURST, NOW)
    rendered_subject, body = RENDERER.render(message.kind, language, message.fields)
    assert rendered_subject == subject
    assert all(part in body for part in says), body


def test_one_held_escalation_reads_in_the_singular_and_names_no_urgent_one():
    message, _ = backlog("c-north", BUSY, [held("health.checkup")], NOW)
    subject, body = RENDERER.render(message.kind, "en", message.fields)
    assert subject == "Backlog: 1 more request needs you in community c-north" and "urgent" not in body


def test_the_backlog_message_names_no_resident():
    """What it is made of has no name, phone or address to leak: only services, counts and times."""
    message, _ = backlog("c-north", BUSY, BURST, NOW)
    for language in ("zh-CN", "en"):
        text = "".join(RENDERER.render(message.kind, language, message.fields))
        assert "王" not in text and "1391" not in text and "h-1" not in text
