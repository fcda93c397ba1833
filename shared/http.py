"""Small HTTP helpers the services' APIs share."""
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


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"{what} not found")
