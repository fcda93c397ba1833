"""notify's wiring: its queues, its channels, its delivery worker, its rules' settings, its API."""
from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from services.notify import api
from services.notify.channels import Channel, EmailChannel, InboxChannel, SmsChannel, WebhookChannel
from services.notify.delivery import DeliveryWorker
from services.notify.directory import load_staff
from services.notify.domain.messages import COMPOSERS, SETTLING
from services.notify.domain.reminders import duration, durations
from services.notify.handlers import Notifier, notify, on_request_received, on_volunteer_registered
from services.notify.rendering import Renderer
from shared.consumer import Consumers
from shared.events import RequestReceived, VolunteerRegistered
from shared.quiet_hours import quiet_hours
from shared.service import Runtime, ServiceDefinition
from shared.settings import Settings

consumers = Consumers()
for event_type in (*COMPOSERS, *SETTLING):  # notify.assignment-offered, notify.request-escalated, …
    consumers.on_event("notify", event_type, notify)
consumers.on_event("notify", VolunteerRegistered, on_volunteer_registered)
consumers.on_event("notify", RequestReceived, on_request_received)


def notifier(runtime: Runtime) -> Notifier:
    settings = runtime.settings
    channels: list[Channel] = [InboxChannel()]
    if settings.notify_webhook_url:  # truthy: an empty NOTIFY_WEBHOOK_URL means no webhook
        channels.append(WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_secret))
    if settings.notify_sms_url:
        channels.append(SmsChannel(settings.notify_sms_url, settings.notify_sms_secret))
    if settings.notify_smtp_host:
        channels.append(EmailChannel(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_sender))
    timezone = ZoneInfo(settings.linli_timezone)
    return Notifier(runtime, DeliveryWorker(runtime, {channel.name: channel for channel in channels}),
                    Renderer(timezone), load_staff(settings.notify_staff_file), timezone, *timing(settings))


def timing(settings: Settings) -> tuple[tuple[time, time] | None, timedelta | None, tuple[timedelta, ...]]:
    """The quiet hours, the offer reminder's lead (none when empty) and the window reminders'
    leads; a bad setting stops notify at start-up, naming it."""
    offer = settings.notify_offer_reminder
    return (_read("NOTIFY_QUIET_HOURS", quiet_hours, settings.notify_quiet_hours),
            _read("NOTIFY_OFFER_REMINDER", duration, offer) if offer.strip() else None,
            _read("NOTIFY_WINDOW_REMINDERS", durations, settings.notify_window_reminders))


def _read(name: str, parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from error


SERVICE = ServiceDefinition(name="notify", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=notifier,
                            background=lambda notifier: [notifier.worker.run()])
