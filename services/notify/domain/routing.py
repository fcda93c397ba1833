"""In which language and over which channels a message reaches its recipient (at what hour:
shared/quiet_hours.py)."""
from dataclasses import dataclass

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
