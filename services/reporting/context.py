"""What reporting's handlers and API are given."""
from dataclasses import dataclass, field

from services.reporting.live import Changes, SingleFlight
from shared.areas import Areas
from shared.service import Runtime, ServiceContext


@dataclass(frozen=True)
class Reporting(ServiceContext):
    areas: Areas
    changes: Changes = field(default_factory=Changes)
    answers: SingleFlight = field(default_factory=SingleFlight)

    @classmethod
    def of(cls, runtime: Runtime) -> "Reporting":
        settings = runtime.settings
        return cls(runtime, Areas.load(settings.areas_file), Changes(settings.reporting_live_seconds))

    @property
    def city_timezone(self) -> str:
        return self.runtime.settings.linli_timezone
