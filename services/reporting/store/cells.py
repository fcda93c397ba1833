"""The cells the projections add to, and how a transaction's changes of them (domain.changes)
are written just before its commit: the rollups, then the reach sketches, then the duration
histograms, each table in one statement with its cells sorted by key (migration 0009 for the
sketches). Two transactions that touch the same cells then take them in the same order, and one
only waits for the other; written event after event, two batches deadlocked on them."""
import asyncpg

from services.reporting.domain.changes import CellChanges
from services.reporting.domain.increments import DISPUTE_COUNTS, REQUEST_COUNTS, RETURN_VISIT_COUNTS

# Each rollup: its kind column, its counts, and the rollup of the same cells per city month.
ROLLUPS = {"request_rollup": ("category", REQUEST_COUNTS, "request_month_rollup"),
           "dispute_rollup": ("level", DISPUTE_COUNTS + RETURN_VISIT_COUNTS, "dispute_month_rollup")}
# Every rollup table, in the order they are written: its key columns (a date first) and its counts.
TABLES = [table for day_table, (kind, counts, months) in ROLLUPS.items()
          for table in ((day_table, ("day", "community_code", kind), counts),
                        (months, ("month", "community_code", kind), counts))
          ] + [("staff_action_rollup", ("day", "community_code", "category", "kind"), ("actions",))]


def _add(table: str, key: tuple[str, ...], counts: tuple[str, ...]) -> str:
    """Add each cell's counts (one array a column) to its row, the rows taken in key order. Every
    cell comes once: ON CONFLICT DO UPDATE may not touch a row twice in one statement."""
    arrays = [f"${n}::{'date' if n == 1 else 'text'}[]" for n in range(1, len(key) + 1)]
    arrays += [f"${n}::numeric[]" for n in range(len(key) + 1, len(key) + len(counts) + 1)]
    columns = ", ".join((*key, *counts))
    return (f"INSERT INTO {table} AS cell ({columns}) SELECT * FROM unnest({', '.join(arrays)}) AS change({columns}) "
            f"ORDER BY {', '.join(key)} ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{name} = cell.{name} + EXCLUDED.{name}" for name in counts))


_ADD = {table: _add(table, key, counts) for table, key, counts in TABLES}


def _columns(rows: list[tuple]) -> list[list]:
    return [list(column) for column in zip(*rows)]


async def write(conn: asyncpg.Connection, changes: CellChanges) -> None:
    """Write the changes, one statement a table that has any."""
    for table, _, counts in TABLES:
        if rows := changes.rows(table, counts):
            await conn.execute(_ADD[table], *_columns(rows))
    if people := changes.people_rows():
        await conn.execute("SELECT reach_add_sorted($1, $2, $3, $4, $5)", *_columns(people))
    if durations := changes.duration_rows():
        await conn.execute("SELECT duration_add_sorted($1, $2, $3, $4, $5, $6)", *_columns(durations))
