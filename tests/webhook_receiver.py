"""A real HTTP endpoint for webhook tests: records every call, fails the first ones on demand."""
import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from typing import NamedTuple

import uvicorn
from fastapi import FastAPI, Request, Response

from tests.e2e.processes import free_port
from tests.support import eventually

SECRET = "test-secret"
REPLAY_WINDOW_SECONDS = 300


class Signed(NamedTuple):
    """What a call's headers say of it: X-Linli-Signature and X-Linli-Timestamp."""

    signature: str | None
    timestamp: str | None


class Receiver:
    """A webhook endpoint that fails its first `failures` calls, then answers 200, each after
    `delay` seconds (a slow gateway); while `stalled`, a call it has recorded gets no answer (a
    sender can be killed between its call and its confirmation)."""

    def __init__(self):
        self.calls: list[tuple[bytes, Signed]] = []  # the exact body and its signature headers
        self.keys: list[str | None] = []  # each call's Idempotency-Key
        self.stalled = False
        self.failures = 0
        self.echo = False  # a failure answers 400 with the body it was sent, as some gateways do
        self.delay = 0.0
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request):
            self.calls.append((await request.body(), Signed(request.headers.get("x-linli-signature"),
                                                            request.headers.get("x-linli-timestamp"))))
            self.keys.append(request.headers.get("idempotency-key"))
            await asyncio.sleep(self.delay)
            while self.stalled:
                await asyncio.sleep(0.05)
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


def signed_by_secret(body: bytes, signed: Signed, now: float | None = None) -> bool:
    """The check a receiver makes, written out here rather than borrowed from shared/webhooks.py:
    the HMAC of "<timestamp>.<body>", and a timestamp within the replay window of the clock."""
    if signed.signature is None or not (signed.timestamp or "").isdigit():
        return False
    if abs((time.time() if now is None else now) - int(signed.timestamp)) > REPLAY_WINDOW_SECONDS:
        return False
    expected = hmac.new(SECRET.encode(), signed.timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signed.signature, "sha256=" + expected)
