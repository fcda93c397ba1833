"""Where a dispute is settled (小事不出网格,大事不出社区): in its grid, else its community, else
its street; above the street, the street's own staff take it over. Intake places a case,
matching moves it up, notify and reporting name the levels."""
from enum import StrEnum


class Level(StrEnum):
    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    STREET_STAFF = "street_staff"  # not a mediators' level: the street's staff, past every level


# The levels mediators work at, lowest first.
LEVELS = (Level.GRID, Level.COMMUNITY, Level.STREET)


def starting_level(grid_code: str | None, severity: str, placed: str | None = None) -> Level:
    """A minor dispute with a grid starts in its grid; a serious one, or one with no grid, in
    its community. A case already `placed` (case.received says where) stays there unless that
    is lower than the rule allows."""
    lowest = Level.GRID if grid_code and severity == "minor" else Level.COMMUNITY
    if placed is None or LEVELS.index(Level(placed)) < LEVELS.index(lowest):
        return lowest
    return Level(placed)


def next_level(level: str) -> Level:
    """The level above `level`: past the street, its staff."""
    index = LEVELS.index(Level(level)) + 1
    return LEVELS[index] if index < len(LEVELS) else Level.STREET_STAFF
