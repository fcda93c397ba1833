"""matching's wiring: its queues, its handlers, its timers, its API."""
from pathlib import Path

from services.matching import api, erasure, handlers, households
from services.matching.context import Matching
from services.matching.decisions import lock_answered
from services.matching.timers import timers
from shared.consumer import Consumers
from shared.events import (AssignmentAccepted, AssignmentDeclined, AssignmentExpired, AssignmentOffered,
                           AssignmentResponded, AssignmentWithdrawn, CaseAssigned, CaseClosed, CaseEscalated,
                           CampaignStarted, CaseFollowUpDue, CaseReceived, CompletionRejected, CompletionReported,
                           ErasureDone, HouseholdRegistered, PersonErased, RequestAssigned, RequestCancelled,
                           RequestCompleted, RequestDuplicate, RequestEscalated, RequestHandledByStaff, RequestMissed,
                           RequestReceived, RequestReopened, RequestStaffAssigned, ResponseRejected,
                           ReturnVisitRecorded, VolunteerRegistered)
from shared.retention import Prune
from shared.service import ServiceDefinition

consumers = Consumers()
# Whole, from linli.personal: the roster's names and places, a request's address and description for its offers.
consumers.on_event("matching", VolunteerRegistered, handlers.on_volunteer_registered, personal=True,
                   prepare=handlers.lock_registered)
consumers.on_event("matching", RequestReceived, handlers.on_request_received, personal=True,
                   prepare=handlers.lock_received)
consumers.on_event("matching", RequestCancelled, handlers.on_request_cancelled)
consumers.on_event("matching", CaseReceived, handlers.on_case_received, personal=True)
consumers.on_event("matching", AssignmentResponded, handlers.on_assignment_responded, prepare=lock_answered)
consumers.on_event("matching", CompletionReported, handlers.on_completion_reported, prepare=lock_answered)
consumers.on_event("matching", PersonErased, erasure.on_person_erased)
# The public form: a household's place, tags and paired volunteer; a campaign's visits.
consumers.on_event("matching", HouseholdRegistered, households.on_household_registered)
consumers.on_event("matching", CampaignStarted, households.on_campaign_started)

SERVICE = ServiceDefinition(name="matching", consumers=consumers, api=api.router,
                            migrations=Path(__file__).parent / "migrations", make_deps=Matching.of,
                            background=lambda matching: [timers(matching).run()],
                            # a week's hours count for fairness over the 4 weeks after it (store/roster.py)
                            retention=(Prune("volunteer_week", "(week + 35)::timestamptz"),),
                            publishes=(AssignmentOffered, AssignmentAccepted, AssignmentDeclined, AssignmentExpired,
                                       AssignmentWithdrawn, RequestAssigned, RequestEscalated, RequestCompleted,
                                       RequestMissed, CaseAssigned, CaseEscalated, CaseClosed, CaseFollowUpDue,
                                       # the answers and reports it refuses (intake refuses bad input)
                                       ResponseRejected, CompletionRejected, ErasureDone,
                                       # the staff's actions (staff_api.py); intake publishes request.cancelled
                                       # and request.duplicate too
                                       RequestStaffAssigned, RequestReopened, RequestHandledByStaff,
                                       RequestCancelled, RequestDuplicate, ReturnVisitRecorded))
