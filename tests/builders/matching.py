"""The events matching's tests send it: volunteers, requests, cases, answers and reports of
service, each unique unless told otherwise."""
import uuid

from shared.events import AssignmentResponded, CaseReceived, CompletionReported, RequestReceived, VolunteerRegistered
from shared.mediation import starting_level


def community() -> str:
    """A community of the test's own, so that no other test's volunteers are candidates."""
    return f"c-{uuid.uuid4().hex[:6]}"


def registered(community: str, *skills: str, name: str = "志愿者", **fields) -> VolunteerRegistered:
    return VolunteerRegistered(correlation_id="c", volunteer_id=uuid.uuid4(), source="volunteer-app",
                               external_id=f"v-{uuid.uuid4().hex[:6]}", name=name, phone="13800000000",
                               community_code=community, skills=skills, **{"max_weekly_hours": 40, **fields})


def received(community: str, category: str, **fields) -> RequestReceived:
    return RequestReceived(correlation_id=f"corr-{uuid.uuid4().hex[:6]}", request_id=uuid.uuid4(),
                           source="hotline-12345", external_id=f"r-{uuid.uuid4().hex[:6]}", category=category,
                           description="需要帮助", community_code=community, address="幸福路 1 号", **fields)


def case(place: str, grid: str | None, severity: str = "minor") -> CaseReceived:
    """A noise dispute, placed as intake places it."""
    return CaseReceived(correlation_id=f"case-{uuid.uuid4().hex[:6]}", case_id=uuid.uuid4(), source="grid-platform",
                        external_id=f"k-{uuid.uuid4().hex[:6]}", community_code=place, grid_code=grid,
                        dispute_type="noise", summary="楼上装修噪音扰民", severity=severity,
                        parties=[{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}],
                        level=starting_level(grid, severity))


def answer(offer: dict, accept: bool, reason: str | None = None) -> AssignmentResponded:
    """The answer of the volunteer an `assignment.offered` (as heard) was made to."""
    volunteer = offer["volunteer"]
    return AssignmentResponded(correlation_id="answer", assignment_id=offer["assignment_id"], accept=accept,
                               source=volunteer["source"], volunteer_external_id=volunteer["external_id"],
                               reason=reason)


def done(offer: dict, hours: float = 1.5, people: int = 1, outcome: str | None = None) -> CompletionReported:
    """The report of the volunteer's own source (intake's `reported_by`, the publisher)."""
    return CompletionReported(correlation_id="done", assignment_id=offer["assignment_id"], hours=hours,
                              people_served=people, outcome=outcome, reported_by=offer["volunteer"]["source"])


def about(events: list[dict], request: RequestReceived) -> list[dict]:
    """The events heard about `request`."""
    return [e for e in events if e.get("request_id") == str(request.request_id)]
