"""Events notify hears, as matching and intake announce them; a test changes what it needs."""
import uuid
from datetime import UTC, datetime, timedelta

from shared.events import AssignmentOffered, Event, RequestReceived, VolunteerRef, VolunteerRegistered


def offer(volunteer_id: str = "v-1", at: datetime | None = None,
          expires_in: timedelta = timedelta(0)) -> AssignmentOffered:
    """An offer to volunteer `volunteer_id` made `at` (now by default) that expires `expires_in`
    later (at once by default: no reminder)."""
    at = at or datetime.now(UTC)
    volunteer = VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id=volunteer_id)
    return AssignmentOffered(correlation_id="corr", occurred_at=at, request_id=uuid.uuid4(), source="hotline-12345",
                             external_id="h", category="housekeeping", community_code="c-north",
                             assignment_id=uuid.uuid4(), volunteer=volunteer, urgency="normal",
                             description="老人电话 13800000001,需要打扫", expires_at=at + expires_in)


def registered(external_id: str, **profile) -> VolunteerRegistered:
    """A volunteer's registration as intake announces it; `profile` changes the defaults."""
    return VolunteerRegistered(**{"correlation_id": "c", "volunteer_id": uuid.uuid4(), "source": "volunteer-app",
                                  "external_id": external_id, "name": "王芳", "phone": "13800000001",
                                  "community_code": "c-1", "skills": ("cleaning",), **profile})


def received(about: Event, **submission) -> RequestReceived:
    """The request.received of the request `about` (an offer, a step) is about: the request notify
    waits for before telling the resident or the volunteer who accepted (no beneficiary by default)."""
    return RequestReceived(correlation_id=about.correlation_id, request_id=about.request_id, source=about.source,
                           external_id=about.external_id, category=about.category,
                           community_code=about.community_code, **{"description": "需要帮助", **submission})
