"""Bookings: a volunteer is never booked into two windows that overlap. An offer is not made to
a volunteer who holds an accepted assignment in an overlapping window, and an acceptance that
would overlap one is refused. Windows are half-open: one that ends at 10:00 does not overlap
one that starts at 10:00. A task without a window overlaps nothing."""
from collections.abc import Iterable
from datetime import datetime

Window = tuple[datetime, datetime]


def overlaps(one: Window, other: Window) -> bool:
    return one[0] < other[1] and other[0] < one[1]


def clash(window: Window | None, booked: Iterable[Window]) -> Window | None:
    """The first booked window that `window` overlaps, or None."""
    if window is None:
        return None
    return next((held for held in booked if overlaps(window, held)), None)


def booking_refusal(window: Window | None, booked: Iterable[Window]) -> str | None:
    """Why an offer for `window` cannot be accepted by a volunteer booked in `booked`, or None."""
    held = clash(window, booked)
    if held is None:
        return None
    return (f"the volunteer already accepted an assignment from {held[0].isoformat()} to {held[1].isoformat()}, "
            "which this window overlaps")
