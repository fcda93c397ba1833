"""The tables the API serves, each as named columns and rows: figures by group, disputes by
mediation level, each volunteer's hours, the escalation backlog."""
from dataclasses import dataclass

import asyncpg

from services.reporting.context import Reporting
from services.reporting.domain.figures import FIGURES, finish, percentile, residents
from services.reporting.domain.periods import GRAINS, periods
from services.reporting.domain.increments import DISPUTE_COUNTS
from services.reporting.domain.scope import Scope
from services.reporting.store import reports


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: list[dict]


def _communities(reporting: Reporting, group: str, key, scope: Scope) -> list[str] | None:
    """The communities a row is about, for its residents (None: a row not about places)."""
    areas = reporting.areas
    if group == "all":
        return list(scope.communities if scope.communities is not None else areas.street_of_community)
    if group == "community":
        return [key]
    if group == "street":
        return list(areas.communities_of_street.get(key, ()))
    return None


def _row(reporting: Reporting, group: str, key, scope: Scope, counts: dict) -> dict:
    durations = {step: counts.pop(f"seconds_to_{step}") for step in ("assign", "complete")
                 if f"seconds_to_{step}" in counts}
    communities = _communities(reporting, group, key, scope)
    if communities is not None and scope.category is None and scope.team is None:
        counts["residents"] = residents(reporting.areas.residents_of_community, communities)
    return finish(counts, durations)


async def figures(conn: asyncpg.Connection, reporting: Reporting, group: str, scope: Scope) -> Table:
    """Every figure per group key; a trend (day, week, month) has a row for every period of a
    bounded scope, quiet ones too."""
    keys = periods(scope.first, scope.last, group) if group in GRAINS and scope.first and scope.last else ()
    by_key = await reports.figures(conn, group, scope, reporting.areas.street_of_community, keys)
    rows = [{group: key, **_row(reporting, group, key, scope, counts)}
            for key, counts in sorted(by_key.items(), key=lambda item: str(item[0]))]
    return Table(f"by-{group}", (group, *FIGURES), rows)


async def summary(conn: asyncpg.Connection, reporting: Reporting, scope: Scope) -> dict:
    by_key = await reports.figures(conn, "all", scope, reporting.areas.street_of_community, ["all"])
    return _row(reporting, "all", "all", scope, by_key["all"])


async def disputes(conn: asyncpg.Connection, scope: Scope) -> Table:
    """Disputes received, escalated, closed and mediated with agreement, per mediation level."""
    by_level = await reports.disputes_by_level(conn, scope)
    return Table("disputes-by-level", ("level", *DISPUTE_COUNTS),
                 [{"level": level, **counts} for level, counts in sorted(by_level.items())])


async def volunteers(conn: asyncpg.Connection, scope: Scope) -> tuple[Table, dict]:
    """Each volunteer's hours, most first (recognition), and how evenly they are spread (fairness)."""
    rows = [dict(record) for record in await reports.volunteer_hours(conn, scope)]
    hours = [row["hours"] for row in rows]
    fairness = {"volunteers": len(rows), "median_hours": percentile(hours, 0.5),
                "p90_hours": percentile(hours, 0.9), "max_hours": max(hours, default=None)}
    columns = ("volunteer_id", "source", "external_id", "team", "community_code", "participations", "hours")
    return Table("volunteer-hours", columns, rows), fairness


async def escalations(conn: asyncpg.Connection, scope: Scope) -> Table:
    """The escalation backlog: occurrences with the community's staff, oldest first."""
    rows = [dict(record) for record in await reports.escalation_backlog(conn, scope)]
    columns = ("request_id", "occurrence", "community_code", "category", "escalated_at", "escalation_reason")
    return Table("escalation-backlog", columns, rows)
