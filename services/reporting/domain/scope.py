"""What a report may be asked for: a period, a place, a category, a team, a grouping."""
from dataclasses import dataclass
from datetime import date

from services.reporting.domain.periods import GRAINS

GROUPS = ("community", "street", "team", "category", *GRAINS)


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
        if self.first and self.last and self.first > self.last:
            raise BadQuery(f"from ({self.first}) is after to ({self.last})")


def check_group(group: str) -> str:
    if group not in GROUPS:
        raise BadQuery(f"unknown group {group!r}; one of {', '.join(GROUPS)}")
    return group
