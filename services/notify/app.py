"""notify's wiring: its queues, its handlers, its delivery worker, its API."""
from pathlib import Path

from services.notify import api, erasure
from services.notify.context import Notifier
from services.notify.domain.messages import COMPOSERS, SETTLING
from services.notify.handlers import (held_events, notify, on_request_received, on_volunteer_registered,
                                     staff_backlogs, take_turns)
from shared.consumer import Consumers
from shared.events import (ErasureDone, NotificationFailed, NotificationSent, PersonErased, RequestReceived,
                           VolunteerRegistered)
from shared.retention import Prune
from shared.service import ServiceDefinition

# notify reaches people: every event it reads that has personal fields comes whole, from linli.personal.
consumers = Consumers()
for event_type in (*COMPOSERS, *SETTLING):  # notify.assignment-offered, notify.request-escalated, …
    consumers.on_event("notify", event_type, notify, personal=True, prepare=take_turns)
consumers.on_event("notify", VolunteerRegistered, on_volunteer_registered, personal=True, prepare=take_turns)
consumers.on_event("notify", RequestReceived, on_request_received, personal=True, prepare=take_turns)
consumers.on_event("notify", PersonErased, erasure.on_person_erased)

SERVICE = ServiceDefinition(name="notify", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=Notifier.of,
                            background=lambda notifier: [notifier.worker.run(), held_events(notifier).run(),
                                                        staff_backlogs(notifier).run()],
                            # inbox messages first: a notification is pruned only once its inbox message is
                            retention=(Prune("inbox_message", "created_at"),
                                       Prune("notification", "COALESCE(sent_at, created_at)",
                                             "status NOT IN ('pending', 'sending') AND "
                                             "NOT EXISTS (SELECT 1 FROM inbox_message i WHERE "
                                             "i.notification_id = notification.notification_id)"),
                                       Prune("settled_message", "settled_at"),  # held events go once released
                                       # a told or empty window; its escalations go with it (ON DELETE CASCADE)
                                       Prune("staff_backlog", "closes_at", "told_at IS NOT NULL OR held = 0")),
                            publishes=(NotificationSent, NotificationFailed, ErasureDone))
