"""When each request first reached each stage (domain/stages.py), kept on its row."""
from datetime import datetime
from uuid import UUID

import asyncpg

from services.matching.domain.stages import Stage


async def reach(conn: asyncpg.Connection, request_id: UUID, stage: Stage, at: datetime) -> float | None:
    """Record that the request reached `stage` at `at`; the seconds since the stage before, or
    None if it had reached this one already (or not the one before, e.g. a request that came
    before the stages were kept)."""
    column, since = f"{stage.value}_at", f"{stage.since}_at"  # from the enum, never from input
    return await conn.fetchval(
        f"UPDATE service_request SET {column} = $2 WHERE request_id = $1 AND {column} IS NULL "
        f"AND {since} IS NOT NULL RETURNING extract(epoch FROM $2 - {since})::float8", request_id, at)
