"""What events about a task carry of the request or case it staffs, so that publishers,
notify and reporting can follow it. The shell loads the request (as its `request.received`)
or the case; these functions only pick the fields."""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.matching.domain.offers import AssignmentState
from services.matching.domain.tasks import TaskState
from shared.events import CaseReceived, RequestReceived
from shared.mediation import Level

MEDIATION = "mediation"  # the category of every event about a case


@dataclass(frozen=True)
class Case:
    """A mediation case as matching keeps it."""

    case_id: UUID
    correlation_id: str
    source: str
    external_id: str
    community_code: str
    grid_code: str | None
    dispute_type: str
    summary: str
    level: Level  # where it is now
    outcome: str | None = None  # once closed: agreement | no_agreement
    follow_up_at: datetime | None = None  # the return visit (回访), once closed
    follow_up_announced: bool = False

    @classmethod
    def received(cls, event: CaseReceived, level: Level) -> "Case":
        """The case as `case.received` tells it, starting at `level`."""
        return cls(case_id=event.case_id, correlation_id=event.correlation_id, source=event.source,
                   external_id=event.external_id, community_code=event.community_code, grid_code=event.grid_code,
                   dispute_type=event.dispute_type.value, summary=event.summary, level=level)


# What a task staffs.
Subject = RequestReceived | Case


def about_assignment(task: TaskState, subject: Subject, assignment: AssignmentState) -> dict:
    """What every assignment.* event carries."""
    common = {"assignment_id": assignment.assignment_id, "volunteer": assignment.volunteer,
              "community_code": task.community_code,
              "correlation_id": subject.correlation_id, "source": subject.source, "external_id": subject.external_id}
    if isinstance(subject, Case):
        return {**common, "case_id": subject.case_id, "level": task.level, "category": MEDIATION}
    return {**common, "request_id": subject.request_id, "occurrence": task.occurrence, "category": subject.category}


def about_occurrence(task: TaskState, request: RequestReceived) -> dict:
    """What every request.* event about one occurrence carries (a campaign's visit: its household and campaign)."""
    return {"correlation_id": request.correlation_id, "request_id": request.request_id, "source": request.source,
            "external_id": request.external_id, "category": request.category,
            "community_code": request.community_code, "household_id": request.household_id,
            "campaign_id": request.campaign_id, "occurrence": task.occurrence,
            "window_start": task.window_start, "window_end": task.window_end}


def about_case(case: Case, level: Level) -> dict:
    """What every case.* event carries, the case being at `level`."""
    return {"correlation_id": case.correlation_id, "case_id": case.case_id, "source": case.source,
            "external_id": case.external_id, "community_code": case.community_code, "grid_code": case.grid_code,
            "level": level}


def offer_details(task: TaskState, subject: Subject) -> dict:
    """What the volunteer offered reads: for a case only its type, as the details go to the
    mediator who accepts."""
    description = (f"矛盾纠纷调解 ({subject.dispute_type})" if isinstance(subject, Case) else subject.description)
    return {"urgency": task.urgency, "description": description, "address": address_of(subject),
            "window_start": task.window_start, "window_end": task.window_end}


def address_of(subject: Subject) -> str | None:
    return None if isinstance(subject, Case) else subject.address
