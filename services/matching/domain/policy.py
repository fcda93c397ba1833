"""What matching's rules read from the settings and the city's map, as one plain value."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.matching.domain.candidates import Limits
from services.matching.domain.offers import answer_by
from shared.areas import Areas
from shared.quiet_hours import quiet_hours
from shared.settings import Settings
from shared.submissions import Urgency


@dataclass(frozen=True)
class Policy:
    limits: Limits
    areas: Areas
    offer_timeout: timedelta
    emergency_offer_timeout: timedelta
    emergency_fan_out: int  # offers per place at once in an emergency
    service_hours: float  # booked per offer, unless the window is shorter
    widen_to_street: bool
    follow_up: timedelta  # from a case's closing to its return visit (回访)
    quiet: tuple[time, time] | None = None  # the city's quiet hours (NOTIFY_QUIET_HOURS)
    # From its acceptance, how long an assignment without a window may go unreported before
    # the volunteer's place is released and the staff are told (domain/lifecycle.lapse).
    accepted_deadline: timedelta = timedelta(hours=72)
    # How long a request that finds every able volunteer busy waits for one (0: not at all).
    wait_for_free: timedelta = timedelta(0)

    @classmethod
    def of(cls, settings: Settings, areas: Areas) -> "Policy":
        return cls(limits=Limits(settings.matching_max_open_assignments, ZoneInfo(settings.linli_timezone)),
                   areas=areas, offer_timeout=timedelta(seconds=settings.matching_offer_timeout_seconds),
                   emergency_offer_timeout=timedelta(seconds=settings.matching_emergency_offer_timeout_seconds),
                   emergency_fan_out=settings.matching_emergency_fan_out,
                   service_hours=settings.matching_service_hours, widen_to_street=settings.matching_widen_to_street,
                   follow_up=timedelta(days=settings.matching_follow_up_days),
                   quiet=quiet_hours(settings.notify_quiet_hours),
                   accepted_deadline=timedelta(hours=settings.matching_accepted_deadline_hours),
                   wait_for_free=timedelta(seconds=settings.matching_wait_for_free_seconds))

    def offer_expires(self, offered_at: datetime, urgency: Urgency) -> datetime:
        emergency = urgency == Urgency.EMERGENCY
        timeout = self.emergency_offer_timeout if emergency else self.offer_timeout
        return answer_by(offered_at, timeout, emergency, self.limits.timezone, self.quiet)
