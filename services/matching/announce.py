"""The fields that events about a task carry, so that publishers, notify and reporting can follow it."""
import asyncpg

from services.matching.store import tasks
from shared.events import RequestReceived, Staffed, VolunteerRef


class Subjects:
    """The requests and cases a unit of work speaks of, each read once."""

    def __init__(self, conn: asyncpg.Connection):
        self._conn, self._requests, self._cases = conn, {}, {}

    async def request(self, request_id) -> RequestReceived:
        if request_id not in self._requests:
            self._requests[request_id] = await tasks.request(self._conn, request_id)
        return self._requests[request_id]

    async def case(self, case_id) -> asyncpg.Record:
        if case_id not in self._cases:
            self._cases[case_id] = await tasks.case(self._conn, case_id)
        return self._cases[case_id]

    async def about_assignment(self, task: asyncpg.Record, assignment_id, volunteer: VolunteerRef) -> dict:
        """What every assignment.* event carries."""
        common = {"assignment_id": assignment_id, "volunteer": volunteer, "community_code": task["community_code"]}
        if task["request_id"]:
            request = await self.request(task["request_id"])
            return {**common, "correlation_id": request.correlation_id, "request_id": request.request_id,
                    "occurrence": task["occurrence"], "source": request.source, "external_id": request.external_id,
                    "category": request.category}
        case = await self.case(task["case_id"])
        return {**common, "correlation_id": case["correlation_id"], "case_id": case["case_id"],
                "level": task["level"], "source": case["source"], "external_id": case["external_id"],
                "category": "mediation"}

    async def about_occurrence(self, task: asyncpg.Record) -> dict:
        """What every request.* event about one occurrence carries."""
        request = await self.request(task["request_id"])
        return {"correlation_id": request.correlation_id, "request_id": request.request_id,
                "source": request.source, "external_id": request.external_id, "category": request.category,
                "community_code": request.community_code, "occurrence": task["occurrence"],
                "window_start": task["window_start"], "window_end": task["window_end"]}

    async def about_case(self, case_id, level: str) -> dict:
        case = await self.case(case_id)
        return {"correlation_id": case["correlation_id"], "case_id": case_id, "source": case["source"],
                "external_id": case["external_id"], "community_code": case["community_code"],
                "grid_code": case["grid_code"], "level": level}


def volunteer_of(assignment: asyncpg.Record) -> VolunteerRef:
    return VolunteerRef(volunteer_id=assignment["volunteer_id"], source=assignment["volunteer_source"],
                        external_id=assignment["volunteer_external_id"])


def staffed(assignment: asyncpg.Record) -> Staffed:
    return Staffed(assignment_id=assignment["assignment_id"], volunteer_id=assignment["volunteer_id"],
                   source=assignment["volunteer_source"], external_id=assignment["volunteer_external_id"])
