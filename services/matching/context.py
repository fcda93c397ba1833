"""What matching's handlers, timers and API are given."""
from dataclasses import dataclass

from services.matching.domain.policy import Policy
from shared.areas import Areas
from shared.service import Runtime, ServiceContext


@dataclass(frozen=True)
class Matching(ServiceContext):
    policy: Policy

    @classmethod
    def of(cls, runtime: Runtime) -> "Matching":
        settings = runtime.settings
        return cls(runtime, Policy.of(settings, Areas.load(settings.matching_areas_file)))
