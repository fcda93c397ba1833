"""notify's HTTP API (port 8003): the inbox, and the state of every notification.

Who may call (shared/access.py): a volunteer reads their own inbox, community staff their
community's `staff:<community>` inbox, street staff their street's and its communities'; nobody
reads a resident's (their messages go by SMS). The notifications' states (recipient keys, kinds,
attempts; never a message's text) are ops' queue, and each person's own rows."""
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.notify import store
from services.notify.context import Notifier
from shared.access import allow, areas, check_recipient, recipients_of
from shared.areas import Areas
from shared.identity import Caller, Role
from shared.service import deps_of

router = APIRouter(prefix="/api/v1", tags=["notify"])


@router.get("/inbox/{recipient}")
async def inbox(recipient: str, limit: int = Query(50, ge=1, le=500), notifier: Notifier = Depends(deps_of),
                who: Caller = Depends(allow(Role.VOLUNTEER, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.OPS)),
                known: Areas = Depends(areas)):
    """A recipient's messages, newest first: only the recipient's own (or their staff's)."""
    check_recipient(who, recipient, known)
    async with notifier.pool.acquire() as conn:
        return [dict(row) for row in await store.inbox(conn, recipient, limit)]


@router.get("/notifications")
async def notifications(status: Literal["pending", "sending", "sent", "failed", "cancelled"] | None = None,
                        recipient: str | None = None, about_event_id: UUID | None = None,
                        assignment_id: UUID | None = None, limit: int = Query(100, ge=1, le=1000),
                        notifier: Notifier = Depends(deps_of),
                        who: Caller = Depends(allow(Role.OPS, Role.VOLUNTEER, Role.COMMUNITY_STAFF,
                                                    Role.STREET_STAFF)),
                        known: Areas = Depends(areas)):
    """Each notification's state: pending (reminders and held messages show when they will go),
    sending (its call under way, or cut off by a crash: sent again once, same id),
    sent, failed, or cancelled (no longer applies), with its attempts and last error. Ops see
    every one; a person only those to their own inboxes."""
    mine = None if who.role == Role.OPS else sorted(recipients_of(who, known))
    if mine is not None and recipient is not None:
        check_recipient(who, recipient, known)
    async with notifier.pool.acquire() as conn:
        rows = await store.notifications(conn, status, recipient, about_event_id, assignment_id, limit, mine)
    return [dict(row) for row in rows]
