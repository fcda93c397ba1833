"""Mediation levels (小事不出网格,大事不出社区): a dispute is settled in its grid, else its
community, else its street."""
LEVELS = ("grid", "community", "street")
MEDIATOR_SKILLS = ("mediation",)
HELPFUL_SKILLS = ("legal",)


def first_level(level: str, severity: str) -> str:
    """Where a case starts: as intake placed it, but a serious dispute at community level at least."""
    if severity == "serious" and LEVELS.index(level) < LEVELS.index("community"):
        return "community"
    return level


def next_level(level: str) -> str | None:
    """The level above, or None above the street (its staff take it over)."""
    index = LEVELS.index(level) + 1
    return LEVELS[index] if index < len(LEVELS) else None
