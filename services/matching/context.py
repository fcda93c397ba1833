"""What matching's handlers, clock and API are given."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.areas import Areas
from services.matching.domain.candidates import Limits
from services.matching.domain.offers import answer_by
from shared.quiet_hours import quiet_hours
from shared.service import Runtime
from shared.settings import Settings
from shared.submissions import Urgency
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Matching:
    runtime: Runtime
    areas: Areas
    limits: Limits
    quiet: tuple[time, time] | None = None  # the city's quiet hours (NOTIFY_QUIET_HOURS)

    @classmethod
    def of(cls, runtime: Runtime) -> "Matching":
        settings = runtime.settings
        return cls(runtime, Areas.load(settings.matching_areas_file),
                   Limits(settings.matching_max_open_assignments, ZoneInfo(settings.linli_timezone)),
                   quiet_hours(settings.notify_quiet_hours))

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def unit_of_work(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    def offer_expires(self, now: datetime, urgency: str) -> datetime:
        emergency = urgency == Urgency.EMERGENCY
        seconds = (self.settings.matching_emergency_offer_timeout_seconds if emergency
                   else self.settings.matching_offer_timeout_seconds)
        return answer_by(now, timedelta(seconds=seconds), emergency, self.limits.timezone, self.quiet)
