"""notify's wiring: its queues, its channels, its delivery worker, its API."""
from pathlib import Path

from services.notify import api
from services.notify.channels import Channel, EmailChannel, InboxChannel, SmsChannel, WebhookChannel
from services.notify.delivery import DeliveryWorker
from services.notify.handlers import Notifier, notifying, on_volunteer_registered
from shared.events import VolunteerRegistered
from shared.consumer import Consumers
from services.notify.domain import COMPOSERS
from shared.service import Runtime, ServiceDefinition

consumers = Consumers()
for event_type in COMPOSERS:  # notify.assignment-offered, notify.request-escalated, …
    consumers.on_event("notify", event_type, notifying(event_type))
consumers.on_event("notify", VolunteerRegistered, on_volunteer_registered)


def notifier(runtime: Runtime) -> Notifier:
    settings = runtime.settings
    channels: list[Channel] = [InboxChannel()]
    if settings.notify_webhook_url:  # truthy: an empty NOTIFY_WEBHOOK_URL means no webhook
        channels.append(WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_secret))
    if settings.notify_sms_url:
        channels.append(SmsChannel(settings.notify_sms_url, settings.notify_sms_secret))
    if settings.notify_smtp_host:
        channels.append(EmailChannel(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_sender))
    return Notifier(runtime, DeliveryWorker(runtime, {channel.name: channel for channel in channels}))


SERVICE = ServiceDefinition(name="notify", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=notifier,
                            background=lambda notifier: [notifier.worker.run()])
