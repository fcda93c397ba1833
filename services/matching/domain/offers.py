"""The offer cycle: an assignment's states, what an answer does to it, and how many offers a
task should have out."""
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from shared.quiet_hours import not_before
from shared.submissions import Urgency


class Status(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"
    MISSED = "missed"


# States that hold a share of the volunteer's capacity.
HOLDING = frozenset({Status.OFFERED, Status.ACCEPTED})
MOVES = {
    Status.OFFERED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN}),
    Status.ACCEPTED: frozenset({Status.COMPLETED, Status.WITHDRAWN, Status.MISSED}),
}


def can_move(current: Status, to: Status) -> bool:
    return to in MOVES.get(current, frozenset())


def refusal(current: Status, to: Status) -> str | None:
    """Why an assignment in `current` cannot become `to`, in words the volunteer can read."""
    if can_move(current, to):
        return None
    if current == Status.OFFERED:
        return f"the offer is still open: it must be accepted before it is {to}"
    return f"the offer was already {current}"


def offers_wanted(needed: int, accepted: int, pending: int, urgency: str, fan_out: int) -> int:
    """New offers a task should get now: one per unfilled place, or `fan_out` per place in an
    emergency (first to accept wins), less the offers still pending."""
    unfilled = needed - accepted
    if unfilled <= 0:
        return 0
    return max(0, unfilled * (fan_out if urgency == Urgency.EMERGENCY else 1) - pending)


def is_exhausted(needed: int, accepted: int, pending: int) -> bool:
    """After a decision made every offer it could: some place is held by nobody, not even by a
    pending offer. Escalate (the places already held stay held)."""
    return accepted + pending < needed


def answer_by(offered_at: datetime, timeout: timedelta, urgent: bool, timezone: tzinfo,
              quiet: tuple[time, time] | None) -> datetime:
    """When an offer expires. Its time runs from when the volunteer is told: notify holds an
    offer that can wait through the city's quiet hours, so one made at 23:00 runs from 07:00
    rather than expiring, unseen, down the whole roster overnight."""
    return not_before(offered_at, urgent, timezone, quiet) + timeout
