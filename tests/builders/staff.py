"""A hand-made week of the staff's work in east-1 (tests/areas.json), as events, with the figures
it must give: key households filed, a visit campaign, escalations staff took over, cases moved up
and closed by staff, return visits. Used by reporting's unit and integration tests.

`staff_week()` leaves two things undone, which `staff_taking_over()` then does: the campaign's
second visit (handled by staff: coverage 100%) and the health check staff assigned with the
volunteer's agreement (it leaves the escalation backlog)."""
import uuid
from datetime import timedelta

from shared.events import (CampaignStarted, CampaignVisit, CaseClosed, CaseEscalated, CaseReceived,
                           HouseholdRegistered, RequestCancelled, RequestDuplicate, RequestHandledByStaff,
                           RequestReopened, RequestStaffAssigned, ReturnVisitRecorded, StaffRef, VolunteerRef)
from shared.reasons import Reason
from shared.submissions import Beneficiary, Consent
from tests.builders.reporting import Request, at

STAFF = StaffRef(subject="staff-east-1", role="community_staff", area="east-1")
STAFF_EAST_2 = StaffRef(subject="staff-east-2", role="community_staff", area="east-2")
NOBODY_ABLE = Reason(code="nobody_able", params={"task": "health.checkup", "places": ["east-1"],
                                                 "failures": {"lacks_skill": 2, "booked": 1}})
VOLUNTEER = VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app", external_id="v1")


def household(community: str, when, household_id=None, external_id=None) -> HouseholdRegistered:
    return HouseholdRegistered(
        correlation_id="c", occurred_at=when, household_id=household_id or uuid.uuid4(), source="staff",
        external_id=external_id or uuid.uuid4().hex, beneficiary=Beneficiary(name="王爷爷", phone="13900000009"),
        community_code=community, tags=("living_alone",), consent=Consent(given=True), registered_by=STAFF)


class Visit(Request):
    """A request of a campaign (an elder_care.home_visit with its campaign_id)."""

    def __init__(self, community, received, campaign_id, household_id):
        super().__init__(community, "elder_care.home_visit", received)
        self.about |= {"campaign_id": campaign_id, "household_id": household_id}
        self.received = self.received.model_copy(update={"campaign_id": campaign_id, "household_id": household_id})


def escalated(request: Request, when, reason: Reason = NOBODY_ABLE):
    return request.escalated(when).model_copy(update=reason.fields())


def staff_assigned(request: Request, when, agreed: bool) -> RequestStaffAssigned:
    return RequestStaffAssigned(**request.about, occurred_at=when, assignment_id=uuid.uuid4(), volunteer=VOLUNTEER,
                                agreed=agreed, staff=STAFF)


def _case(community, when):
    about = {"correlation_id": "c", "case_id": uuid.uuid4(), "source": "grid-platform", "external_id": uuid.uuid4().hex,
             "community_code": community}
    received = CaseReceived(**about, occurred_at=when, level="grid", dispute_type="noise", summary="噪音",
                            parties=[{"name": "甲", "role": "applicant"}, {"name": "乙", "role": "respondent"}])
    return about, received


def _closed(about, when, staff=None) -> CaseClosed:
    return CaseClosed(**about, occurred_at=when, level="community", outcome="agreement", hours=1.0,
                      follow_up_at=when + timedelta(days=7), staff=staff)


def _return_visit(about, when, satisfaction) -> ReturnVisitRecorded:
    return ReturnVisitRecorded(**about, occurred_at=when, level="community", satisfaction=satisfaction,
                               note="老人说调解后邻居安静多了", staff=STAFF)


class StaffWeek:
    """The week's events, with the requests the tests look at."""

    def __init__(self):
        homes = [household("east-1", at(1, 9)), household("east-1", at(1, 9, 30)), household("east-2", at(1, 10))]
        moved = household("east-1", at(2, 9), homes[0].household_id, homes[0].external_id)  # its file updated
        campaign_id = uuid.uuid4()
        self.first_visit, self.second_visit = (Visit("east-1", at(1, 11), campaign_id, homes[n].household_id)
                                               for n in (0, 1))
        campaign = CampaignStarted(
            correlation_id="c", occurred_at=at(1, 10, 30), campaign_id=campaign_id, title="春节前走访",
            community_codes=("east-1",), tags=("living_alone",), window_start=at(1, 8), window_end=at(3, 20),
            visits=tuple(CampaignVisit(household_id=homes[n].household_id, request_id=visit.about["request_id"])
                         for n, visit in enumerate((self.first_visit, self.second_visit))),
            started_by=STAFF)
        self.campaign_id = campaign_id
        self.checkup = Request("east-1", "health.checkup", at(2, 9))        # staff agree a volunteer
        self.reopened = Request("east-1", "health.checkup", at(2, 10))      # staff re-open it: it waits still
        not_needed = Request("east-1", "elder_care.meals", at(2, 11))       # staff cancel it
        repeated = Request("east-2", "elder_care.meals", at(2, 12))         # staff link it to another
        moved_up, moved_up_received = _case("east-1", at(1, 15))
        closed, closed_received = _case("east-1", at(1, 16))
        third, third_received = _case("east-1", at(1, 17))
        self.events = [
            *homes, moved, campaign,
            self.first_visit.received, self.first_visit.assigned(at(1, 12)),
            self.first_visit.completed(at(2, 10), [VOLUNTEER], 1.0, 1),
            self.second_visit.received, escalated(self.second_visit, at(1, 12)),
            staff_assigned(self.second_visit, at(1, 13), agreed=False),  # an offer: it waits for the answer
            self.checkup.received, escalated(self.checkup, at(2, 9, 5)),
            self.reopened.received, escalated(self.reopened, at(2, 10, 5)),
            RequestReopened(**self.reopened.about, occurred_at=at(2, 10, 30), staff=STAFF),
            not_needed.received, escalated(not_needed, at(2, 11, 5)),
            RequestCancelled(**not_needed.about, occurred_at=at(2, 11, 30), cancelled_by=STAFF,
                             **Reason(code="not_needed", params={"note": "家属已安排"}).fields()),
            repeated.received, escalated(repeated, at(2, 12, 5)),
            RequestDuplicate(**repeated.about, occurred_at=at(2, 12, 30), duplicate_of=not_needed.about["request_id"],
                             linked_by=STAFF_EAST_2),
            moved_up_received,
            CaseEscalated(**moved_up, occurred_at=at(2, 9), level="community", from_level="grid", staff=STAFF,
                          **Reason(code="moved_up_by_staff", params={}).fields()),
            _closed(moved_up, at(2, 16), staff=STAFF), _return_visit(moved_up, at(3, 10), "satisfied"),
            closed_received, _closed(closed, at(2, 17)), _return_visit(closed, at(3, 11), "basically_satisfied"),
            third_received, _closed(third, at(2, 18)), _return_visit(third, at(3, 12), "dissatisfied"),
        ]

    def staff_taking_over(self) -> list:
        """Staff visit the second household themselves and agree the health check with a volunteer."""
        return [RequestHandledByStaff(**self.second_visit.about, occurred_at=at(3, 9), hours=1.5, people_served=2,
                                      note="送去米和油", staff=STAFF),
                staff_assigned(self.checkup, at(3, 9, 30), agreed=True)]


# What StaffWeek().events and then staff_taking_over() add up to (README, "Reporting").
EXPECTED = {
    "completed": 1, "staff_handled": 1, "staff_handled_hours": 1.5,
    "sessions": 5,                   # 1 visit by a volunteer, 1 by staff, 3 mediations closed
    "person_times": 3, "service_hours": 2.5, "participations": 1,  # staff are no volunteer participation
    "case_files": 2, "households_visited": 2,  # the two visits, one of them handled by staff
    "households_registered": 3,      # one of them filed twice
    "return_visits": 3, "return_visits_satisfied": 1, "return_visits_basically_satisfied": 1,
    "return_visits_dissatisfied": 1, "satisfaction_share": 0.6667,
    "staff_actions": 11,
}
STAFF_ACTIONS = {("assigned", "east-1"): 1, ("agreed", "east-1"): 1, ("reopened", "east-1"): 1,
                 ("handled", "east-1"): 1, ("cancelled", "east-1"): 1, ("duplicate", "east-2"): 1,
                 ("case_moved_up", "east-1"): 1, ("case_closed", "east-1"): 1, ("return_visit", "east-1"): 3}
