"""notify's wiring: its queues, its channels, its delivery worker, its API."""
from pathlib import Path

from services.notify import api
from services.notify.channels import Channel, InboxChannel, WebhookChannel
from services.notify.delivery import DeliveryWorker
from services.notify.handlers import Notifier, notifying
from shared.consumer import Consumers
from services.notify.domain import COMPOSERS
from shared.service import Runtime, ServiceDefinition

consumers = Consumers()
for event_type in COMPOSERS:  # notify.assignment-offered, notify.request-escalated, …
    consumers.on_event("notify", event_type, notifying(event_type))


def notifier(runtime: Runtime) -> Notifier:
    settings = runtime.settings
    channels: list[Channel] = [InboxChannel()]
    if settings.notify_webhook_url:
        channels.append(WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_secret))
    return Notifier(runtime, DeliveryWorker(runtime, {channel.name: channel for channel in channels}))


SERVICE = ServiceDefinition(name="notify", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=notifier,
                            background=lambda notifier: [notifier.worker.run()])
