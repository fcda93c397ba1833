"""When a community's staff hear of escalated requests: at once while the community is quiet, then
one backlog message per window, so that a burst does not bury them under a message per request.

- An escalation that finds no window open is told at once, as it always was, and opens a window
  of NOTIFY_STAFF_DIGEST_SECONDS: a lone escalation is never delayed.
- Further escalations within the window are held. When it closes, its backlog message tells how
  many came, by service and how many were `high`, how long the oldest has waited, and where the
  backlog is listed (the dashboard, reporting's /api/v1/reports/escalations). It names no resident.
- While escalations keep coming, the windows follow one another: one that comes after a window
  that held some is held for the next window, which starts where that one ended. Once a whole
  window passes with nothing held, the community is quiet again and the next escalation goes at once.
- An `emergency` always goes at once, by SMS too, and is not counted in the backlog message: someone
  may be in danger, and staff must be woken for each. A `high` one is held like the rest. The first
  of a burst reaches staff at once, whatever its urgency, and every one is on the dashboard's backlog
  as it comes. A held `high` one is named within the window, and the message counts the `high` ones.
  In a typhoon the urgent requests are the ones that come in thousands.
- A window of 0 tells every escalation at once."""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from services.notify.domain.messages import Message, staff
from shared.events import RequestEscalated
from shared.submissions import Urgency

BACKLOG = "backlog"  # the message's kind (its template)


@dataclass(frozen=True)
class Window:
    """A community's window: the escalations that come in it are held for its backlog message."""

    opens_at: datetime
    closes_at: datetime
    held: int = 0
    told: bool = False  # its backlog message is made: it holds no more


@dataclass(frozen=True)
class Turn:
    """What becomes of an escalation: told now or held. `window` is the window it opens (told now)
    or the one it is held in; it is None when it is told now and opens none (an emergency, or no windows)."""

    now: bool
    window: Window | None = None


@dataclass(frozen=True)
class Held:
    """An escalation held for a backlog message. No personal data, only the service, its urgency and time."""

    event_id: UUID
    correlation_id: str
    category: str
    urgency: Urgency
    escalated_at: datetime


@dataclass(frozen=True)
class Backlog:
    """What a backlog message tells of: the window's held escalations. It goes as the first of them
    (`event_id`, `correlation_id`: the notification's about_event_id), meant for when the window closed."""

    event_id: UUID
    correlation_id: str
    occurred_at: datetime
    routing_key: str = RequestEscalated.routing_key


def turn(event: RequestEscalated, latest: Window | None, now: datetime, span: timedelta) -> Turn:
    """The escalation's turn, given its community's latest window (None: it has had none)."""
    if not span or event.urgency == Urgency.EMERGENCY:
        return Turn(now=True)
    if latest and now < latest.closes_at and not latest.told:
        return Turn(now=False, window=latest)
    if latest and latest.held and now < latest.closes_at + span:  # the backlog goes on
        return Turn(now=False, window=Window(latest.closes_at, latest.closes_at + span))
    return Turn(now=True, window=Window(now, now + span))


def backlog(community_code: str, window: Window, held: list[Held], now: datetime) -> tuple[Message, Backlog]:
    """The backlog message for a closed window that held escalations, and what it tells of."""
    first = min(held, key=lambda escalation: (escalation.escalated_at, str(escalation.event_id)))
    by_service = sorted(Counter(escalation.category for escalation in held).items(), key=lambda item: (-item[1],
                                                                                                          item[0]))
    fields = {"community": community_code, "count": len(held), "by_service": by_service,
              "high": sum(escalation.urgency == Urgency.HIGH for escalation in held),
              "since": window.opens_at, "until": window.closes_at,
              "oldest_waiting": max(now - first.escalated_at, timedelta(0)),
              "dashboard": f"/dashboard?community={community_code}",
              "report": f"/api/v1/reports/escalations?community={community_code}"}
    return (Message(staff(community_code), BACKLOG, fields),
            Backlog(first.event_id, first.correlation_id, window.closes_at))
