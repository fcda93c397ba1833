"""What notify's handlers, delivery worker and API are given: the runtime, the delivery
worker, and the rules' configuration, read once at start-up."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.notify.channels import Channel, EmailChannel, InboxChannel, SmsChannel, WebhookChannel
from services.notify.delivery import DeliveryWorker
from services.notify.directory import load_staff
from services.notify.domain.reminders import duration, durations
from services.notify.domain.routing import Contact
from services.notify.rendering import Renderer
from shared.quiet_hours import quiet_hours
from shared.service import Runtime, ServiceContext
from shared.settings import Settings
from shared.webhooks import require_secret


@dataclass(frozen=True)
class Notifier(ServiceContext):
    worker: DeliveryWorker
    renderer: Renderer
    staff: dict[str, Contact]  # the staff directory, by recipient
    timezone: tzinfo
    quiet: tuple[time, time] | None
    offer_reminder: timedelta | None
    window_reminders: tuple[timedelta, ...]
    staff_digest: timedelta  # a community's backlog window (domain/backlog.py)

    @classmethod
    def of(cls, runtime: Runtime) -> "Notifier":
        settings = runtime.settings
        timezone = ZoneInfo(settings.linli_timezone)
        return cls(runtime, DeliveryWorker(runtime, {channel.name: channel for channel in channels(settings)}),
                   Renderer(timezone), load_staff(settings.notify_staff_file), timezone, *timing(settings),
                   timedelta(seconds=settings.notify_staff_digest_seconds))

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool


def channels(settings: Settings) -> list[Channel]:
    """The inbox, and each channel the settings configure."""
    configured: list[Channel] = [InboxChannel()]
    if settings.notify_webhook_url:  # truthy: an empty NOTIFY_WEBHOOK_URL means no webhook
        require_secret(settings.notify_webhook_secret, "NOTIFY_WEBHOOK_SECRET", settings.linli_development)
        configured.append(WebhookChannel(settings.notify_webhook_url, settings.notify_webhook_secret,
                                         settings.delivery_call_seconds))
    if settings.notify_sms_url:
        require_secret(settings.notify_sms_secret, "NOTIFY_SMS_SECRET", settings.linli_development)
        configured.append(SmsChannel(settings.notify_sms_url, settings.notify_sms_secret, settings.delivery_call_seconds))
    if settings.notify_smtp_host:
        configured.append(EmailChannel(settings.notify_smtp_host, settings.notify_smtp_port,
                                       settings.notify_smtp_sender, settings.delivery_call_seconds))
    return configured


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
