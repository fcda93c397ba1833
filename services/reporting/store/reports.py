"""The figures, read from the rollups and facts for a scope, grouped by one key.

Each source below is one query; a source that cannot be split by the asked group or filter
(e.g. requests by team: a request belongs to no team) is left out, and its figures are None.
Table and column names come from the constants here, never from the request; values are
parameters."""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg

from services.reporting.domain.increments import (DISPUTE_COUNTS, MEDIATION, REQUEST_COUNTS, RETURN_VISIT_COUNTS,
                                                  UNKNOWN)
from services.reporting.domain.periods import whole_months
from services.reporting.domain.scope import Scope

HOME_VISIT = "elder_care.home_visit"


@dataclass(frozen=True)
class Months:
    """A rollup kept per city month beside its day rollup (store.cells.ROLLUPS): a period's
    whole months read the month rows, the days at its ends the day rows."""
    table: str       # its `month` is the month's first day
    day_table: str
    columns: str     # the cell's columns but the period, and the counts: both tables have them


@dataclass(frozen=True)
class Source:
    table: str                    # the FROM clause; its main table is `t`
    day: str                      # the city day a row counts on
    figures: dict[str, str]       # name: SQL aggregate
    category: str | None = None   # None: cannot be split or filtered by category
    team: str | None = None       # None: cannot be split or filtered by team
    level: str | None = None      # None: cannot be split by mediation level
    condition: str = "true"
    as_of: bool = False           # counts everything up to the period's end (a stock, not a flow)
    # Figures that count people once: the rows are first grouped per `person` (with the
    # `per_person` aggregates), then `figures` are taken over those groups. PostgreSQL hashes
    # such a grouping, where count(DISTINCT …) sorts every row: half the time at a year's scale.
    person: str | None = None
    per_person: dict[str, str] = field(default_factory=dict)
    months: Months | None = None  # the month rollup, for any grouping but by day or week

    def selects(self) -> str:
        return ", ".join(f"{expression} AS {name}" for name, expression in self.figures.items())


def _sums(columns: Sequence[str]) -> dict[str, str]:
    return {name: f"sum({name})" for name in columns}


def _seconds_to(step: str, name: str) -> Source:
    """Seconds from request.received to the first occurrence's `step`, on the day of the step."""
    return Source("occurrence_fact t", f"t.{step}_day",
                  {f"seconds_to_{name}": f"array_agg(extract(epoch FROM t.{step}_at - t.received_at)::float8)"},
                  category="t.category", condition=f"t.occurrence = 1 AND t.{step}_at IS NOT NULL "
                                                   "AND t.received_at IS NOT NULL")


REQUESTS = Source("request_rollup t", "t.day", _sums(REQUEST_COUNTS), category="t.category",
                  months=Months("request_month_rollup", "request_rollup",
                                ", ".join(("community_code", "category", *REQUEST_COUNTS))))
DISPUTES = Source("dispute_rollup t", "t.day", _sums(DISPUTE_COUNTS + RETURN_VISIT_COUNTS), category=f"'{MEDIATION}'",
                  level="t.level", months=Months("dispute_month_rollup", "dispute_rollup", ", ".join(
                      ("community_code", "level", *DISPUTE_COUNTS, *RETURN_VISIT_COUNTS))))
VOLUNTEERS_AT_WORK = Source(
    "participation t LEFT JOIN volunteer v USING (volunteer_id) LEFT JOIN reported_hours h USING (assignment_id)",
    "t.day", {"active_volunteers": "count(*)", "participations": "sum(participations)::bigint",
              "volunteer_hours": "sum(volunteer_hours)"},
    category="t.category", team=f"COALESCE(v.team, '{UNKNOWN}')", person="t.volunteer_id",
    per_person={"participations": "count(*)", "volunteer_hours": "sum(COALESCE(h.hours, t.share_hours))"})
# An occurrence is served when its volunteers reported it done or staff handled it themselves.
SERVED_DAY = "COALESCE(t.completed_day, t.handled_day)"
SERVED = Source("occurrence_fact t", SERVED_DAY,
                {"case_files": "count(*)", "households_visited": "count(*) FILTER (WHERE visited)"},
                category="t.category", condition=f"{SERVED_DAY} IS NOT NULL",
                person="COALESCE(t.beneficiary, t.request_id::text)",
                per_person={"visited": f"bool_or(t.category = '{HOME_VISIT}')"})
REGISTERED = Source("volunteer t", "t.first_day", {"registered_volunteers": "count(*)"},
                    team=f"COALESCE(t.team, '{UNKNOWN}')", condition="t.active", as_of=True)
STAFF_ACTIONS = Source("staff_action_rollup t", "t.day", {"staff_actions": "sum(actions)"}, category="t.category")
HOUSEHOLDS = Source("household t", "t.first_day", {"households_registered": "count(*)"}, as_of=True)
TIMES_TO_ASSIGN, TIMES_TO_COMPLETE = _seconds_to("assigned", "assign"), _seconds_to("completed", "complete")
SOURCES = (REQUESTS, DISPUTES, VOLUNTEERS_AT_WORK, SERVED, TIMES_TO_ASSIGN, TIMES_TO_COMPLETE, REGISTERED,
           STAFF_ACTIONS, HOUSEHOLDS)

# The group key of each group name; {day}, {category}, {team} and {level} are the source's own.
KEYS = {"all": "'all'", "day": "{day}", "week": "date_trunc('week', {day})::date",
        "month": "date_trunc('month', {day})::date", "community": "t.community_code",
        "street": f"COALESCE(area.street, '{UNKNOWN}')", "category": "{category}", "team": "{team}",
        "level": "{level}"}


class _Parameters(list):
    def __call__(self, value) -> str:
        self.append(value)
        return f"${len(self)}"


def _filters(source: Source, scope: Scope, p: _Parameters) -> str:
    where = [source.condition]
    if scope.first and not source.as_of:
        where.append(f"{source.day} >= {p(scope.first)}")
    if scope.last:
        where.append(f"{source.day} <= {p(scope.last)}")
    if scope.communities is not None:
        where.append(f"t.community_code = ANY({p(list(scope.communities))}::text[])")
    if scope.category:
        where.append(f"{source.category} = {p(scope.category)}")
    if scope.team:
        where.append(f"{source.team} = {p(scope.team)}")
    return " AND ".join(where)


def _between(column: str, first, last, p: _Parameters) -> str:
    bounds = ([f"{column} >= {p(first)}"] if first else []) + ([f"{column} <= {p(last)}"] if last else [])
    return " AND ".join(bounds) or "true"


def _rows_of(source: Source, group: str, scope: Scope, p: _Parameters) -> str:
    """The FROM clause: the source's table, or for a rollup kept per month too (and a grouping
    the months keep), its whole months from the month rows and the ends from the day rows."""
    months, ends = whole_months(scope.first, scope.last) if source.months else (None, [])
    if months is None or group in ("day", "week"):
        return source.table
    rows = [f"SELECT month AS day, {source.months.columns} FROM {source.months.table} WHERE "
            f"{_between('month', *months, p)}"]
    rows += [f"SELECT day, {source.months.columns} FROM {source.months.day_table} WHERE {_between('day', *end, p)}"
             for end in ends]
    return f"({' UNION ALL '.join(rows)}) t"


def _answers(source: Source, group: str, scope: Scope) -> bool:
    """Whether the source can be split by `group` and narrowed by the scope's filters."""
    wanted = {part: getattr(scope, part, None) or group == part for part in ("category", "team", "level")}
    return not any(wanted[part] and getattr(source, part) is None for part in wanted) and not (
        source.as_of and group in ("day", "week", "month"))


def query_of(source: Source, group: str, scope: Scope, streets: dict[str, str]) -> tuple[str, list]:
    """The source's query for `scope`, grouped by `group`."""
    key = KEYS[group].format(day=source.day, category=source.category, team=source.team, level=source.level)
    p = _Parameters()
    table = _rows_of(source, group, scope, p)
    where = _filters(source, scope, p)
    join = "" if group != "street" else (
        f" LEFT JOIN unnest({p(list(streets))}::text[], {p(list(streets.values()))}::text[]) "
        "AS area(community_code, street) ON area.community_code = t.community_code")
    rows = f"FROM {table}{join} WHERE {where}"
    if source.person is None:
        return f"SELECT {key} AS key, {source.selects()} {rows} GROUP BY 1", list(p)
    per_person = "".join(f", {expression} AS {name}" for name, expression in source.per_person.items())
    return (f"SELECT key, {source.selects()} FROM (SELECT {key} AS key, {source.person} AS person{per_person} "
            f"{rows} GROUP BY 1, 2) AS per_person GROUP BY 1"), list(p)


async def figures(conn: asyncpg.Connection, group: str, scope: Scope, streets: dict[str, str], keys: Iterable = (),
                  sources: Sequence[Source] = SOURCES) -> dict[object, dict]:
    """The sources' figures for the scope by group key (`streets` maps community to street). Every
    key found or given in `keys` gets every figure of the sources that answer: 0 (or no
    durations) where nothing happened."""
    by_key: dict[object, dict] = {key: {} for key in keys}
    answering = [source for source in sources if _answers(source, group, scope)]
    for source in answering:
        query, parameters = query_of(source, group, scope, streets)
        for record in await conn.fetch(query, *parameters):
            values = {name: float(value) if isinstance(value, Decimal) else value for name, value in record.items()}
            by_key.setdefault(values.pop("key"), {}).update(values)
    nothing = {name: [] if name.startswith("seconds_to_") else 0 for source in answering for name in source.figures}
    return {key: {name: counts.get(name, zero) for name, zero in nothing.items()} for key, counts in by_key.items()}


async def disputes_by_level(conn: asyncpg.Connection, scope: Scope) -> dict[object, dict]:
    return await figures(conn, "level", scope, {}, sources=(DISPUTES,))


async def volunteer_hours(conn: asyncpg.Connection, scope: Scope) -> list[asyncpg.Record]:
    """Each volunteer's participations and hours (reported, else an equal share of the service's)."""
    p = _Parameters()
    where = _filters(VOLUNTEERS_AT_WORK, scope, p)
    return await conn.fetch(
        "SELECT t.volunteer_id, v.source, v.external_id, v.team, v.community_code, "
        "count(*) AS participations, sum(COALESCE(h.hours, t.share_hours))::float8 AS hours "
        f"FROM {VOLUNTEERS_AT_WORK.table} WHERE {where} GROUP BY 1, 2, 3, 4, 5 ORDER BY hours DESC, t.volunteer_id",
        *p)


async def escalation_backlog(conn: asyncpg.Connection, scope: Scope) -> list[asyncpg.Record]:
    """Occurrences escalated to staff and since neither assigned (by matching, or by staff with
    the volunteer's agreement), completed, handled by staff, missed, cancelled nor linked as a
    duplicate, oldest first (the period does not narrow a backlog: it is what is open now)."""
    return await conn.fetch(
        "SELECT t.request_id, t.occurrence, t.community_code, t.category, t.escalated_at, t.escalation_reason, "
        "t.escalation_reason_code AS reason_code, COALESCE(t.escalation_reason_params, '{}') AS reason_params "
        "FROM occurrence_fact t LEFT JOIN request_fact r USING (request_id) "
        "WHERE t.escalated_at IS NOT NULL AND t.assigned_at IS NULL AND t.completed_at IS NULL "
        "AND t.staff_agreed_at IS NULL AND t.handled_at IS NULL "
        "AND t.missed_at IS NULL AND r.cancelled_at IS NULL AND r.duplicate_at IS NULL "
        "AND ($1::text[] IS NULL OR t.community_code = ANY($1)) AND ($2::text IS NULL OR t.category = $2) "
        "ORDER BY t.escalated_at, t.request_id, t.occurrence",
        _communities_filter(scope), scope.category)


def _communities_filter(scope: Scope) -> list[str] | None:
    return list(scope.communities) if scope.communities is not None else None


async def staff_actions(conn: asyncpg.Connection, scope: Scope) -> list[asyncpg.Record]:
    """The staff's actions in the scope, per kind and community."""
    p = _Parameters()
    where = _filters(STAFF_ACTIONS, scope, p)
    return await conn.fetch(
        f"SELECT t.kind, t.community_code, sum(t.actions)::bigint AS count FROM staff_action_rollup t WHERE {where} "
        "GROUP BY 1, 2 ORDER BY 2, 1", *p)


async def campaigns(conn: asyncpg.Connection, scope: Scope) -> list[asyncpg.Record]:
    """Every campaign in a community of the scope, newest first, with the households it visited:
    a visit counts once any occurrence of its request was completed or handled by staff (the
    period does not narrow it: a campaign's coverage is what it is now)."""
    return await conn.fetch(
        "SELECT c.campaign_id, c.title, c.community_codes, c.window_start, c.window_end, c.targeted, "
        "(SELECT count(DISTINCT v.household_id) FROM campaign_visit v WHERE v.campaign_id = c.campaign_id "
        " AND EXISTS (SELECT FROM occurrence_fact o WHERE o.request_id = v.request_id "
        "             AND (o.completed_at IS NOT NULL OR o.handled_at IS NOT NULL))) AS visited "
        "FROM campaign c WHERE $1::text[] IS NULL OR c.community_codes && $1::text[] "
        "ORDER BY c.started_at DESC, c.campaign_id", _communities_filter(scope))
