"""A notification's id follows from what it is: the fact (event), recipient, channel, kind and a
reminder's lead. Whoever computes it gets the same, so two copies can never be two notifications."""
import uuid
from datetime import UTC, datetime, timedelta

from services.notify.domain.messages import Message, notification_id

EVENT = uuid.uuid4()
AT = datetime(2026, 5, 1, 9, tzinfo=UTC)


def message(**changes) -> Message:
    return Message(**{"recipient": "volunteer:app:v-1", "kind": "offer", "fields": {}, **changes})


def test_the_same_fact_recipient_and_channel_make_the_same_id_whatever_the_text():
    assert notification_id(EVENT, message(), "sms") == notification_id(EVENT, message(fields={"x": 1}), "sms")


def test_another_event_recipient_channel_kind_or_lead_makes_another_id():
    reminder = {"kind": "window_reminder", "send_at": AT, "deadline": AT + timedelta(hours=24)}
    ids = {notification_id(EVENT, message(), "sms"), notification_id(uuid.uuid4(), message(), "sms"),
           notification_id(EVENT, message(recipient="staff:c-1"), "sms"), notification_id(EVENT, message(), "inbox"),
           notification_id(EVENT, message(kind="withdrawal"), "sms"),
           notification_id(EVENT, message(**reminder), "sms"),
           notification_id(EVENT, message(**{**reminder, "deadline": AT + timedelta(hours=1)}), "sms")}
    assert len(ids) == 7
