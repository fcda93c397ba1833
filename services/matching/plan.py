"""From a request or a case to the task that staffs it, and from a task's row to the domain's Task."""
from uuid import UUID, uuid4

import asyncpg

from shared.areas import Areas
from services.matching.domain.mediation import HELPFUL_SKILLS, MEDIATOR_SKILLS
from services.matching.domain.model import Task
from services.matching.domain.series import occurrence_window
from shared.catalogue import skills_for
from shared.events import RequestReceived
from shared.settings import Settings


def request_task(event: RequestReceived, occurrence: int, settings: Settings) -> dict:
    """Occurrence `occurrence` of the request, searched in its community first."""
    window = occurrence_window((event.window.start, event.window.end) if event.window else None,
                               event.occurred_at, event.recurrence.every if event.recurrence else None, occurrence)
    hours = settings.matching_service_hours
    if window:
        hours = min(hours, (window[1] - window[0]).total_seconds() / 3600)
    return {"task_id": uuid4(), "request_id": event.request_id, "occurrence": occurrence,
            "community_code": event.community_code, "grid_code": event.grid_code,
            "search_area": [event.community_code], "skills": list(skills_for(event.category)),
            "needed": event.volunteers_needed, "urgency": event.urgency.value,
            "window_start": window[0] if window else None, "window_end": window[1] if window else None,
            "planned_hours": hours, "lat": event.location.lat if event.location else None,
            "lon": event.location.lon if event.location else None,
            "language": event.beneficiary.language if event.beneficiary else None, "status": "open"}


def case_task(case_id: UUID, community: str, grid: str | None, level: str, areas: Areas,
              settings: Settings) -> dict:
    """The case at `level`: a mediator of its grid, of its community, or of any community of its street."""
    area = [community, *areas.neighbours(community)] if level == "street" else [community]
    return {"task_id": uuid4(), "case_id": case_id, "level": level, "community_code": community,
            "grid_code": grid if level == "grid" else None, "search_area": area,
            "skills": list(MEDIATOR_SKILLS), "helpful_skills": list(HELPFUL_SKILLS), "needed": 1,
            "urgency": "high", "planned_hours": settings.matching_service_hours, "status": "open"}


def as_task(row: asyncpg.Record, offered: set[UUID], paired: set[UUID]) -> Task:
    return Task(task_id=row["task_id"], community_code=row["community_code"], skills=tuple(row["skills"]),
                needed=row["needed"], helpful_skills=tuple(row["helpful_skills"]), grid_code=row["grid_code"],
                window=(row["window_start"], row["window_end"]) if row["window_start"] else None,
                planned_hours=float(row["planned_hours"]),
                location=(row["lat"], row["lon"]) if row["lat"] is not None else None,
                language=row["language"], urgency=row["urgency"], paired=frozenset(paired),
                offered=frozenset(offered))
