"""The staff directory: how each community's (or street's) staff are reached, from a JSON file
(NOTIFY_STAFF_FILE), e.g.
    {"c-north": {"email": "north@station.example", "phone": "13800000009", "languages": ["zh"]}}
Staff without an entry read their inbox (and the group webhook) only."""
from pathlib import Path

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from services.notify.domain.routing import Contact
from shared.submissions import Code, Email, Phone
from shared.validation import describe


class StaffProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    email: Email | None = None
    phone: Phone | None = None
    languages: tuple[str, ...] = ()


DIRECTORY = TypeAdapter(dict[Code, StaffProfile])


def load_staff(path: str | None) -> dict[str, Contact]:
    """recipient (staff:<code>) -> contact; a bad file stops notify at start-up, saying why."""
    if not path:
        return {}
    try:
        profiles = DIRECTORY.validate_json(Path(path).read_bytes())
    except OSError as error:
        raise ValueError(f"NOTIFY_STAFF_FILE {path}: {error}") from error
    except ValidationError as error:
        raise ValueError(f"NOTIFY_STAFF_FILE {path}: {describe(error)}") from error
    return {f"staff:{code}": Contact(email=profile.email, phone=profile.phone, languages=profile.languages)
            for code, profile in profiles.items()}
