"""Two notify processes handling the same event at once (it was re-published, or delivered twice
to two consumers): one notification per recipient and channel, under one id, sent once."""
import uuid

import pytest

from services.notify.app import SERVICE
from services.notify.handlers import notify as handle
from tests.builders.notify import offer
from tests.support import eventually, racing, running, sent
from tests.webhook_receiver import SECRET, receiving

pytestmark = pytest.mark.integration


async def test_two_handlers_racing_on_one_event_make_one_notification_per_channel(settings):
    async with receiving() as receiver, running(SERVICE, settings.model_copy(update={
            "notify_webhook_url": receiver.url, "notify_webhook_secret": SECRET})) as client:
        notifier = client.app.state.deps
        event = offer(f"v-{uuid.uuid4().hex[:6]}")
        await racing(notifier, handle, event, event)
        await eventually(lambda: sent(client, event, "webhook"))
        rows = (await client.get("/api/v1/notifications", params={"about_event_id": str(event.event_id)})).json()
    assert sorted(row["channel"] for row in rows) == ["inbox", "webhook"]
    assert [body["notification_id"] for body in receiver.bodies()] == [
        next(row["notification_id"] for row in rows if row["channel"] == "webhook")]
