"""In which language, over which channels and at what hour a message reaches its recipient."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

INBOX, WEBHOOK, EMAIL, SMS = "inbox", "webhook", "email", "sms"
CHINESE, ENGLISH = "zh-CN", "en"
# Languages a profile may name that are read in Chinese script (方言 included).
CHINESE_READERS = ("zh", "minnan", "cantonese", "yue", "wu", "hakka", "mandarin", "chinese")


@dataclass(frozen=True)
class Contact:
    """How to reach a person, from their profile: a volunteer's registration, the staff directory,
    or (a resident) the beneficiary of their request. Residents have no app, so no inbox to read."""

    email: str | None = None
    phone: str | None = None
    languages: tuple[str, ...] = ()
    name: str | None = None
    has_app: bool = True


def language_for(contact: Contact | None) -> str:
    """The first language of the profile that linli writes in; Chinese when none is."""
    for language in (contact.languages if contact else ()):
        spoken = language.strip().lower()
        if spoken.startswith("en"):
            return ENGLISH
        if spoken.startswith(CHINESE_READERS):
            return CHINESE
    return CHINESE


def channels_for(contact: Contact | None, urgent: bool, private: bool,
                 available: frozenset[str]) -> dict[str, str | None]:
    """Channel -> the address it goes to.

    - the inbox, for everyone (residents' too: staff can read what a resident was told);
    - the webhook (a group robot everyone in the group reads) for what is not private;
    - email to whoever gave an address;
    - SMS to a resident always (it is their only channel), to others only when urgent (it
      costs, and it wakes people)."""
    chosen: dict[str, str | None] = {INBOX: None}
    if WEBHOOK in available and not private:
        chosen[WEBHOOK] = None
    if contact and EMAIL in available and contact.email:
        chosen[EMAIL] = contact.email
    if contact and SMS in available and contact.phone and (urgent or not contact.has_app):
        chosen[SMS] = contact.phone
    return chosen


def quiet_hours(text: str) -> tuple[time, time] | None:
    """"22:00-07:00" -> (22:00, 07:00); "" -> None (no quiet hours)."""
    if not text:
        return None
    start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    return start, end


def not_before(moment: datetime, urgent: bool, timezone: tzinfo, quiet: tuple[time, time] | None,
               deadline: datetime | None = None) -> datetime:
    """When a message due at `moment` may go out: then, or, when it can wait and the city is
    in its quiet hours, when they end. A reminder that would then come after what it reminds
    of (`deadline`) goes at its time: a late reminder is no reminder."""
    local = moment.astimezone(timezone)
    if urgent or quiet is None or not _within(local.time(), *quiet):
        return moment
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    end = end if end > local else end + timedelta(days=1)
    return moment if deadline is not None and end >= deadline else end


def _within(moment: time, start: time, end: time) -> bool:
    return start <= moment < end if start < end else (moment >= start or moment < end)
