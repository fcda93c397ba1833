"""notify's HTTP API (port 8003): the inbox, and the state of every notification."""
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.notify import store
from services.notify.context import Notifier
from shared.service import deps_of

router = APIRouter(prefix="/api/v1", tags=["notify"])


@router.get("/inbox/{recipient}")
async def inbox(recipient: str, limit: int = Query(50, ge=1, le=500), notifier: Notifier = Depends(deps_of)):
    """A recipient's messages, newest first."""
    async with notifier.pool.acquire() as conn:
        return [dict(row) for row in await store.inbox(conn, recipient, limit)]


@router.get("/notifications")
async def notifications(status: Literal["pending", "sent", "failed", "cancelled"] | None = None,
                        recipient: str | None = None, about_event_id: UUID | None = None,
                        assignment_id: UUID | None = None, limit: int = Query(100, ge=1, le=1000),
                        notifier: Notifier = Depends(deps_of)):
    """Each notification's state: pending (reminders and held messages show when they will go),
    sent, failed, or cancelled (no longer applies), with its attempts and last error."""
    async with notifier.pool.acquire() as conn:
        rows = await store.notifications(conn, status, recipient, about_event_id, assignment_id, limit)
    return [dict(row) for row in rows]
