"""Timer rows set aside after they raised (timers.py): each timer's query leaves out a row
until its `retry_at`, so the rows behind it go on."""
from datetime import datetime

import asyncpg

# Joined into a timer's query, whose $1 is now and $3 the timer's name: `s.attempts` is how
# often the row failed (NULL: never, or not since it last went through).
SETBACK = "LEFT JOIN timer_setback s ON s.timer = $3 AND s.key = {key}::text "
NOT_SET_ASIDE = "(s.retry_at IS NULL OR s.retry_at <= $1)"


async def set_aside(conn: asyncpg.Connection, timer: str, key: str, attempts: int, retry_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO timer_setback (timer, key, attempts, retry_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (timer, key) DO UPDATE SET attempts = EXCLUDED.attempts, retry_at = EXCLUDED.retry_at",
        timer, key, attempts, retry_at)


async def clear(conn: asyncpg.Connection, timer: str, key: str) -> None:
    await conn.execute("DELETE FROM timer_setback WHERE timer = $1 AND key = $2", timer, key)
