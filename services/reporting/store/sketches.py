"""The figures read from the sketches (migration 0008, domain.sketches) instead of the period's
facts: distinct people and duration percentiles, for a period that holds whole months (or is open)
grouped by anything but day, week and team. The whole months read the month rows (`_level`: each
community's row over every category, or each category's over every community, or the cells of both);
the days at the ends of the period are read from the facts and merged in. Any other report reads the facts (`reports`), exactly."""
import dataclasses

import asyncpg

from services.reporting.domain.periods import whole_months
from services.reporting.domain.scope import Scope
from services.reporting.domain.sketches import ESTIMATES, Histogram, distinct, registers_of
from services.reporting.store import reports
from services.reporting.store.reports import HOME_VISIT, SERVED, VOLUNTEERS_AT_WORK, Source

GROUPS = ("all", "community", "street", "category", "month")
# What the sketches answer instead of the facts (the hours and participations: the rollups).
REPLACED = (reports.VOLUNTEERS_AT_WORK, reports.SERVED, reports.TIMES_TO_ASSIGN, reports.TIMES_TO_COMPLETE)
SLOTS = {"slots": "array_agg(hll_slot(person::text))"}
RECEIVED = "t.received_at IS NOT NULL"  # the sketches count a case file once its receipt is known


def answers(group: str, scope: Scope) -> bool:
    return group in GROUPS and scope.team is None and whole_months(scope.first, scope.last)[0] is not None


def estimates(group: str, scope: Scope) -> dict[str, str]:
    """The figures of the report that are estimates, with their bounds (none when it reads the facts)."""
    return ESTIMATES if answers(group, scope) else {}


def _month_rows(table: str, column: str, condition: str) -> Source:
    return Source(f"{table} t", "t.month", {"stored": f"array_agg(t.{column})"}, category="t.category",
                  condition=condition)


def _level(scope: Scope, group: str, category: str | None = None) -> str:
    """The month rows a report reads: per category (`category` alone, if given) for a report by or
    for a category, over every community unless it is by or for places; else each community's over
    every category."""
    by_category = category is not None or scope.category is not None or group == "category"
    citywide = scope.communities is None and group not in ("community", "street")
    communities = "t.community_code = '*'" if by_category and citywide else "t.community_code <> '*'"
    categories = (f"t.category = '{category}'" if category else "t.category <> '*'") if by_category else (
        "t.category = '*'")
    return f"{communities} AND {categories}"


def _people(scope: Scope, group: str) -> dict[str, tuple[Source, Source]]:
    """Each distinct count: its month rows and, for the ends, its facts (each person's slot)."""
    level, visits = _level(scope, group), f"t.category = '{HOME_VISIT}'"
    served = dataclasses.replace(SERVED, figures=SLOTS, per_person={}, condition=f"{SERVED.condition} AND {RECEIVED}")
    return {
        "active_volunteers": (_month_rows("reach_sketch", "registers", f"t.kind = 'volunteer' AND {level}"),
                              dataclasses.replace(VOLUNTEERS_AT_WORK, figures=SLOTS, per_person={})),
        "case_files": (_month_rows("reach_sketch", "registers", f"t.kind = 'beneficiary' AND {level}"), served),
        "households_visited": (_month_rows("reach_sketch", "registers",
                                           f"t.kind = 'beneficiary' AND {_level(scope, group, HOME_VISIT)}"),
                               dataclasses.replace(served, condition=f"{served.condition} AND {visits}")),
    }


def _durations(scope: Scope, group: str) -> dict[str, tuple[Source, Source]]:
    level = _level(scope, group)
    return {f"seconds_to_{step}": (_month_rows("duration_histogram", "counts", f"t.step = '{step}' AND {level}"),
                                   facts)
            for step, facts in (("assign", reports.TIMES_TO_ASSIGN), ("complete", reports.TIMES_TO_COMPLETE))}


async def _read(conn: asyncpg.Connection, source: Source, group: str, scope: Scope,
                streets: dict[str, str]) -> dict[object, list]:
    query, parameters = reports.query_of(source, group, scope, streets)
    return {record["key"]: record[1] for record in await conn.fetch(query, *parameters)}


async def _merged(conn: asyncpg.Connection, group: str, scope: Scope, streets: dict[str, str]) -> dict[object, dict]:
    """Each sketched figure by group key: the whole months' rows merged with the ends' facts."""
    (first, last), ends = whole_months(scope.first, scope.last)
    in_months = dataclasses.replace(scope, first=first, last=last)
    by_key: dict[object, dict] = {}
    for figures, merge in ((_people(scope, group), lambda months, facts: distinct(registers_of(facts, months))),
                           (_durations(scope, group), lambda months, facts: Histogram(months, facts))):
        for name, (months, facts) in figures.items():
            stored = await _read(conn, months, group, in_months, streets)
            told: dict[object, list] = {}
            for end in ends:
                for key, values in (await _read(conn, facts, group, dataclasses.replace(scope, first=end[0],
                                                                                         last=end[1]), streets)).items():
                    told.setdefault(key, []).extend(values)
            for key in stored.keys() | told.keys():
                by_key.setdefault(key, {})[name] = merge(stored.get(key, []), told.get(key, []))
    return by_key


async def figures(conn: asyncpg.Connection, group: str, scope: Scope, streets: dict[str, str],
                  keys=()) -> dict[object, dict]:
    """As reports.figures, the distinct people and durations from the sketches where they answer."""
    if not answers(group, scope):
        return await reports.figures(conn, group, scope, streets, keys)
    by_key = await reports.figures(conn, group, scope, streets, keys,
                                   sources=[source for source in reports.SOURCES if source not in REPLACED])
    sketched = await _merged(conn, group, scope, streets)
    nothing = {"active_volunteers": 0, "case_files": 0, "households_visited": 0,
               "seconds_to_assign": [], "seconds_to_complete": []}
    return {key: counts | nothing | sketched.get(key, {}) for key, counts in by_key.items()}
