"""The tables the API serves, each as named columns and rows: figures by group, disputes by
mediation level, each volunteer's hours, the escalation backlog, the staff's actions and the
visit campaigns' coverage."""
from dataclasses import dataclass

import asyncpg

from services.reporting.context import Reporting
from services.reporting.domain.figures import FIGURES, coverage, finish, percentile, residents
from services.reporting.domain.periods import GRAINS, periods
from services.reporting.domain.increments import DISPUTE_COUNTS, RETURN_VISIT_COUNTS, STAFF_ACTION_KINDS
from services.reporting.domain.scope import BadQuery, Scope
from services.reporting.store import reports, sketches
from shared.reasons import rendered


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
    by_key = await sketches.figures(conn, group, scope, reporting.areas.street_of_community, keys)
    rows = [{group: key, **_row(reporting, group, key, scope, counts)}
            for key, counts in sorted(by_key.items(), key=lambda item: str(item[0]))]
    return Table(f"by-{group}", (group, *FIGURES), rows)


async def summary(conn: asyncpg.Connection, reporting: Reporting, scope: Scope) -> dict:
    by_key = await sketches.figures(conn, "all", scope, reporting.areas.street_of_community, ["all"])
    return _row(reporting, "all", "all", scope, by_key["all"])


async def disputes(conn: asyncpg.Connection, scope: Scope) -> Table:
    """Disputes received, escalated, closed and mediated with agreement, and their return visits
    by satisfaction, per mediation level."""
    by_level = await reports.disputes_by_level(conn, scope)
    return Table("disputes-by-level", ("level", *DISPUTE_COUNTS, *RETURN_VISIT_COUNTS),
                 [{"level": level, **counts} for level, counts in sorted(by_level.items())])


async def volunteers(conn: asyncpg.Connection, scope: Scope) -> tuple[Table, dict]:
    """Each volunteer's hours, most first (recognition), and how evenly they are spread (fairness)."""
    rows = [dict(record) for record in await reports.volunteer_hours(conn, scope)]
    hours = [row["hours"] for row in rows]
    fairness = {"volunteers": len(rows), "median_hours": percentile(hours, 0.5),
                "p90_hours": percentile(hours, 0.9), "max_hours": max(hours, default=None)}
    columns = ("volunteer_id", "source", "external_id", "team", "community_code", "participations", "hours")
    return Table("volunteer-hours", columns, rows), fairness


async def escalations(conn: asyncpg.Connection, scope: Scope, language: str) -> Table:
    """The escalation backlog: occurrences with the community's staff, oldest first, each with
    its reason for the reader (`reason`, from `reason_code` and `reason_params` where the event
    carried them, else the English `escalation_reason`). CSV and XLSX leave the parameters out."""
    rows = [{**record, "reason": rendered({**record, "reason": record["escalation_reason"]}, language)}
            for record in map(dict, await reports.escalation_backlog(conn, scope))]
    columns = ("request_id", "occurrence", "community_code", "category", "escalated_at", "escalation_reason",
               "reason_code", "reason")
    return Table("escalation-backlog", columns, rows)


async def staff_actions(conn: asyncpg.Connection, scope: Scope) -> Table:
    """What staff did by hand in the period, per kind (with its Chinese name) and community."""
    if scope.team is not None:
        raise BadQuery("staff actions belong to no volunteer team: ask without team")
    rows = [{"kind": record["kind"], "kind_name": STAFF_ACTION_KINDS.get(record["kind"], record["kind"]),
             "community_code": record["community_code"], "count": record["count"]}
            for record in await reports.staff_actions(conn, scope)]
    return Table("staff-actions", ("kind", "kind_name", "community_code", "count"), rows)


async def campaigns(conn: asyncpg.Connection, scope: Scope) -> Table:
    """Each visit campaign of the scope's communities, newest first: the households targeted,
    those visited (a visit completed or handled by staff) and the coverage, visited/targeted."""
    rows = [{**record, "community_codes": list(record["community_codes"]),
             "coverage": coverage(record["visited"], record["targeted"])}
            for record in map(dict, await reports.campaigns(conn, scope))]
    columns = ("campaign_id", "title", "community_codes", "window_start", "window_end", "targeted", "visited",
               "coverage")
    return Table("campaigns", columns, rows)
