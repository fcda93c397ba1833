"""What intake's handlers, API and status webhooks are given."""
from dataclasses import dataclass
from datetime import datetime

from services.intake.sources import Sources, load_sources
from services.intake.status_webhooks import StatusWebhooks
from shared.service import Runtime
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Intake:
    runtime: Runtime
    sources: Sources
    status_webhooks: StatusWebhooks

    @classmethod
    def of(cls, runtime: Runtime) -> "Intake":
        settings = runtime.settings
        sources = load_sources(settings.intake_sources_file, settings.intake_accept_unknown_sources)
        return cls(runtime, sources, StatusWebhooks(runtime, sources))

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    def now(self) -> datetime:
        return self.runtime.clock.now()
