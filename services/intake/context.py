"""What intake's handlers, API and status webhooks are given."""
from dataclasses import dataclass

from services.intake.sources import Sources, load_sources
from services.intake.status_webhooks import StatusWebhooks
from shared.service import Runtime, ServiceContext


@dataclass(frozen=True)
class Intake(ServiceContext):
    sources: Sources
    status_webhooks: StatusWebhooks

    @classmethod
    def of(cls, runtime: Runtime) -> "Intake":
        settings = runtime.settings
        sources = load_sources(settings.intake_sources_file, settings.intake_accept_unknown_sources)
        sources.require_webhook_secrets(settings.linli_development)
        return cls(runtime, sources, StatusWebhooks(runtime, sources))
