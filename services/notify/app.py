"""notify's wiring: its queues, its handlers, its delivery worker, its API."""
from pathlib import Path

from services.notify import api
from services.notify.context import Notifier
from services.notify.domain.messages import COMPOSERS, SETTLING
from services.notify.handlers import notify, on_request_received, on_volunteer_registered
from shared.consumer import Consumers
from shared.events import NotificationFailed, NotificationSent, RequestReceived, VolunteerRegistered
from shared.service import ServiceDefinition

consumers = Consumers()
for event_type in (*COMPOSERS, *SETTLING):  # notify.assignment-offered, notify.request-escalated, …
    consumers.on_event("notify", event_type, notify)
consumers.on_event("notify", VolunteerRegistered, on_volunteer_registered)
consumers.on_event("notify", RequestReceived, on_request_received)

SERVICE = ServiceDefinition(name="notify", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=Notifier.of,
                            background=lambda notifier: [notifier.worker.run()],
                            publishes=(NotificationSent, NotificationFailed))
