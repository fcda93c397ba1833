"""What matching's handlers, timers and API are given."""
from dataclasses import dataclass
from datetime import datetime

from services.matching.domain.policy import Policy
from shared.areas import Areas
from shared.service import Runtime
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Matching:
    runtime: Runtime
    policy: Policy

    @classmethod
    def of(cls, runtime: Runtime) -> "Matching":
        settings = runtime.settings
        return cls(runtime, Policy.of(settings, Areas.load(settings.matching_areas_file)))

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    def now(self) -> datetime:
        """The time every rule of matching is decided at: the runtime's clock (a test sets it)."""
        return self.runtime.clock.now()
