"""matching's wiring: its queues, its handlers, its timers, its API."""
from pathlib import Path

from services.matching import api, handlers
from services.matching.context import Matching
from services.matching.timers import timers
from shared.consumer import Consumers
from shared.events import (AssignmentAccepted, AssignmentDeclined, AssignmentExpired, AssignmentOffered,
                           AssignmentResponded, AssignmentWithdrawn, CaseAssigned, CaseClosed, CaseEscalated,
                           CaseFollowUpDue, CaseReceived, CompletionRejected, CompletionReported, RequestAssigned,
                           RequestCancelled, RequestCompleted, RequestEscalated, RequestMissed, RequestReceived,
                           ResponseRejected, VolunteerRegistered)
from shared.service import ServiceDefinition

consumers = Consumers()
consumers.on_event("matching", VolunteerRegistered, handlers.on_volunteer_registered)
consumers.on_event("matching", RequestReceived, handlers.on_request_received)
consumers.on_event("matching", RequestCancelled, handlers.on_request_cancelled)
consumers.on_event("matching", CaseReceived, handlers.on_case_received)
consumers.on_event("matching", AssignmentResponded, handlers.on_assignment_responded)
consumers.on_event("matching", CompletionReported, handlers.on_completion_reported)

SERVICE = ServiceDefinition(name="matching", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=Matching.of,
                            background=lambda matching: [timers(matching).run()],
                            publishes=(AssignmentOffered, AssignmentAccepted, AssignmentDeclined, AssignmentExpired,
                                       AssignmentWithdrawn, RequestAssigned, RequestEscalated, RequestCompleted,
                                       RequestMissed, CaseAssigned, CaseEscalated, CaseClosed, CaseFollowUpDue,
                                       # the answers and reports it refuses (intake refuses bad input)
                                       ResponseRejected, CompletionRejected))
