"""Small HTTP helpers the services' APIs share."""
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import HTTPException, Request


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read no further than `limit` + 1 bytes: enough to tell it is too large
    without holding a huge upload in memory."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


async def one_or_404(pool: asyncpg.Pool, what: str,
                     fetch: Callable[..., Awaitable[asyncpg.Record | None]], *args) -> dict:
    """The row `fetch(connection, *args)` finds, or a 404 that says what was not found."""
    async with pool.acquire() as conn:
        row = await fetch(conn, *args)
    if row is None:
        raise HTTPException(status_code=404, detail=f"{what} not found")
    return dict(row)
