"""What reporting's handlers and API are given."""
import logging
from dataclasses import dataclass, field

from services.reporting.live import Changes, SingleFlight
from shared.areas import Areas
from shared.service import Runtime, ServiceContext
from shared.settings import Settings

log = logging.getLogger(__name__)
DEVELOPMENT_PERSON_KEY = b"linli-development-person-key"


def person_key_of(settings: Settings) -> bytes:
    """The key of reporting's HMAC of a beneficiary (REPORTING_PERSON_KEY): a city's own secret,
    kept as long as the figures are; without one reporting refuses to start, unless LINLI_DEVELOPMENT."""
    if settings.reporting_person_key:
        return settings.reporting_person_key.encode()
    if not settings.linli_development:
        raise ValueError("REPORTING_PERSON_KEY is not set: reporting counts distinct people by an HMAC under "
                         "that key (set LINLI_DEVELOPMENT=true to use a development key)")
    log.warning("REPORTING_PERSON_KEY is not set: using the development key (never in production)")
    return DEVELOPMENT_PERSON_KEY


@dataclass(frozen=True)
class Reporting(ServiceContext):
    areas: Areas
    changes: Changes = field(default_factory=Changes)
    answers: SingleFlight = field(default_factory=SingleFlight)
    person_key: bytes = DEVELOPMENT_PERSON_KEY

    @classmethod
    def of(cls, runtime: Runtime) -> "Reporting":
        settings = runtime.settings
        return cls(runtime, Areas.load(settings.areas_file), Changes(settings.reporting_live_seconds),
                   person_key=person_key_of(settings))

    @property
    def city_timezone(self) -> str:
        return self.runtime.settings.linli_timezone
