"""A real HTTP endpoint for webhook tests: records every call, fails the first ones on demand."""
import asyncio
import contextlib
import hashlib
import hmac
import json

import uvicorn
from fastapi import FastAPI, Request, Response

from tests.e2e.processes import free_port
from tests.support import eventually

SECRET = "test-secret"


class Receiver:
    """A webhook endpoint that fails its first `failures` calls, then answers 200, each after
    `delay` seconds (a slow gateway)."""

    def __init__(self):
        self.calls: list[tuple[bytes, str | None]] = []  # the exact body and its signature header
        self.failures = 0
        self.echo = False  # a failure answers 400 with the body it was sent, as some gateways do
        self.delay = 0.0
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request):
            self.calls.append((await request.body(), request.headers.get("x-linli-signature")))
            await asyncio.sleep(self.delay)
            if len(self.calls) <= self.failures:
                return Response(self.calls[-1][0], status_code=400) if self.echo else Response("busy", status_code=503)
            return {"ok": True}

    def bodies(self) -> list[dict]:
        return [json.loads(body) for body, _ in self.calls]


@contextlib.asynccontextmanager
async def receiving():
    receiver, port = Receiver(), free_port()
    server = uvicorn.Server(uvicorn.Config(receiver.app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


def signed_by_secret(body: bytes, header: str | None) -> bool:
    """The check a receiver makes, written out here rather than borrowed from shared/webhooks.py."""
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(header, expected)
