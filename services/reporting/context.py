"""What reporting's handlers and API are given."""
from dataclasses import dataclass, field

from services.reporting.live import Changes
from shared.areas import Areas
from shared.service import Runtime


@dataclass(frozen=True)
class Reporting:
    runtime: Runtime
    areas: Areas
    changes: Changes = field(default_factory=Changes)

    @classmethod
    def of(cls, runtime: Runtime) -> "Reporting":
        return cls(runtime, Areas.load(runtime.settings.areas_file))

    @property
    def city_timezone(self) -> str:
        return self.runtime.settings.linli_timezone
