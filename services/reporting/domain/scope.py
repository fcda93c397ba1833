"""What a report may be asked for: a period, a place, a category, a team, a grouping."""
from dataclasses import dataclass
from datetime import date

from services.reporting.domain.periods import GRAINS, period_count

GROUPS = ("community", "street", "team", "category", *GRAINS)
# The city days a report may name: the statistics begin long after the first, and a trend's
# calendar arithmetic must never run off the end of Python's.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
# The rows a trend may have: a day-by-day table of three years, weeks of 21, months of 91.
MAX_TREND_ROWS = 1100


class BadQuery(ValueError):
    """A report asked for something that cannot be: the message says why, for a 400."""


@dataclass(frozen=True)
class Scope:
    """The rows a report reads: city days from `first` to `last` (inclusive, either open), the
    communities (None: all), a category and a team (None: all)."""

    first: date | None = None
    last: date | None = None
    communities: tuple[str, ...] | None = None
    category: str | None = None
    team: str | None = None

    def __post_init__(self):
        for name, day in (("from", self.first), ("to", self.last)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise BadQuery(f"{name} ({day}) is outside the days linli counts ({FIRST_DAY} to {LAST_DAY})")
        if self.first and self.last and self.first > self.last:
            raise BadQuery(f"from ({self.first}) is after to ({self.last})")


def check_group(group: str, scope: Scope) -> str:
    """A known grouping; a trend (day, week, month) of a bounded period has a row per period, so
    it may not have more than MAX_TREND_ROWS."""
    if group not in GROUPS:
        raise BadQuery(f"unknown group {group!r}; one of {', '.join(GROUPS)}")
    if group in GRAINS and scope.first and scope.last:
        rows = period_count(scope.first, scope.last, group)
        if rows > MAX_TREND_ROWS:
            raise BadQuery(f"a trend by {group} has at most {MAX_TREND_ROWS} rows; "
                           f"from {scope.first} to {scope.last} has {rows}: ask for a shorter period or a longer grain")
    return group
