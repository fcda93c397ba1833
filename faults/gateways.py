"""A fake SMS gateway and group webhook receiver for notify to deliver to: each answers 200 and
counts every delivery by its notification id (the `Idempotency-Key` header notify sends, else
the body's `notification_id`), so the suite can tell a delivery sent again. A real gateway
drops a repeat by that key; notify sends one at most once more, after a crash mid-call."""
import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI, Request

from tests.e2e.processes import free_port

START_TIMEOUT_SECONDS = 10


@dataclass
class Gateway:
    """Deliveries received per channel ("sms", "webhook") and notification id."""

    url: str = ""
    counts: dict[str, Counter] = field(default_factory=lambda: {"sms": Counter(), "webhook": Counter()})
    unidentified: int = 0

    def resent(self) -> dict[str, dict[str, int]]:
        """Per channel: the notification ids delivered more than once, and how many times."""
        return {channel: {nid: n for nid, n in counts.items() if n > 1} for channel, counts in self.counts.items()}


def _app(gateway: Gateway) -> FastAPI:
    app = FastAPI()

    @app.post("/{channel}")
    async def deliver(channel: str, request: Request):
        body = await request.body()
        identifier = request.headers.get("idempotency-key")
        if identifier is None:
            with contextlib.suppress(ValueError, AttributeError):
                identifier = json.loads(body).get("notification_id")
        if identifier is None or channel not in gateway.counts:
            gateway.unidentified += 1
        else:
            gateway.counts[channel][identifier] += 1
        return {"ok": True}

    return app


@contextlib.asynccontextmanager
async def gateway() -> AsyncIterator[Gateway]:
    """Both endpoints on one port: `{url}/sms` and `{url}/webhook`."""
    found, port = Gateway(), free_port()
    server = uvicorn.Server(uvicorn.Config(_app(found), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(START_TIMEOUT_SECONDS):
        while not server.started:
            await asyncio.sleep(0.05)
    found.url = f"http://127.0.0.1:{port}"
    try:
        yield found
    finally:
        server.should_exit = True
        await task
