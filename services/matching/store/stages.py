"""When each request first reached each stage (domain/stages.py), kept on its row."""
from datetime import datetime
from uuid import UUID

import asyncpg

from services.matching.domain.stages import Stage


async def reach(conn: asyncpg.Connection, stage: Stage, reached: list[tuple[UUID, datetime]]) -> list[float]:
    """Record that each request reached `stage` at its time, in one statement; the seconds since
    the stage before, for each that had not reached this one already (and had reached the one
    before: not a request that came before the stages were kept)."""
    column, since = f"{stage.value}_at", f"{stage.since}_at"  # from the enum, never from input
    return [seconds for (seconds,) in await conn.fetch(
        f"UPDATE service_request s SET {column} = r.at FROM unnest($1::uuid[], $2::timestamptz[]) AS r(id, at) "
        f"WHERE s.request_id = r.id AND s.{column} IS NULL AND s.{since} IS NOT NULL "
        f"RETURNING extract(epoch FROM r.at - s.{since})::float8",
        [request_id for request_id, _ in reached], [at for _, at in reached])]
