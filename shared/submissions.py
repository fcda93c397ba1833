"""The submissions outside systems publish to `linli.intake` (CONTRACT.md section 2).

Unknown fields are refused: a misspelt optional field (say `urgncy`) would otherwise be
dropped without a word and an emergency handled as normal.
"""
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.catalogue import BENEFICIARY_TAGS, SERVICES, SKILLS

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 \-]{4,31}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Code
    external_id: ExternalId


class Urgency(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    EMERGENCY = "emergency"


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.end <= self.start:
            raise ValueError("window.end must be after window.start")
        return self


class Recurrence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    every: Literal["week", "month"]
    times: int = Field(ge=1, le=52)


class Beneficiary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name | None = None
    phone: Phone | None = None
    tags: tuple[str, ...] = ()
    # The language the beneficiary speaks (e.g. "minnan"): matching prefers a volunteer who does.
    language: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, tags):
        unknown = sorted(set(tags) - BENEFICIARY_TAGS)
        if unknown:
            raise ValueError(f"unknown beneficiary tags {unknown}")
        return tags


class ServiceRequestSubmission(Submission):
    """`request.submit`: a resident needs a service."""

    category: str
    description: Text
    community_code: Code
    grid_code: Code | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    location: Location | None = None
    urgency: Urgency = Urgency.NORMAL
    window: Window | None = None
    volunteers_needed: int = Field(default=1, ge=1, le=20)
    recurrence: Recurrence | None = None
    beneficiary: Beneficiary | None = None
    # The key household (建档) the request is for: linli's id for it, or the id the same source
    # registered it under (household.register). Unknown: the request is rejected with the reason.
    household_id: UUID | None = None
    household_external_id: ExternalId | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, category):
        if category not in SERVICES:
            raise ValueError(f"unknown service category {category!r}; see the catalogue")
        return category


class Availability(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    weekday: int = Field(ge=0, le=6)
    start: HourMinute
    end: HourMinute

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.end <= self.start:
            raise ValueError("availability end must be after start")
        return self


class VolunteerRegistration(Submission):
    """`volunteer.register`: a volunteer joins or updates their profile."""

    name: Name
    phone: Phone
    community_code: Code
    grid_code: Code | None = None  # the grid they serve in: grid-level mediation looks here first
    email: Email | None = None  # notify sends them email too when it has a mail server
    team: Name | None = None
    skills: tuple[str, ...] = Field(min_length=1)
    availability: tuple[Availability, ...] = ()
    max_weekly_hours: float = Field(default=8, gt=0, le=168)
    location: Location | None = None
    languages: tuple[Annotated[str, StringConstraints(min_length=1, max_length=32)], ...] = ()
    active: bool = True  # False pauses the volunteer: no offers until an update sets it again

    @field_validator("skills")
    @classmethod
    def _known_skills(cls, skills):
        unknown = sorted(set(skills) - SKILLS)
        if unknown:
            raise ValueError(f"unknown skills {unknown}; see the catalogue")
        return tuple(dict.fromkeys(skills))


class DisputeType(StrEnum):
    NEIGHBOUR = "neighbour"
    FAMILY = "family"
    PROPERTY_MANAGEMENT = "property_management"
    NOISE = "noise"
    PARKING = "parking"
    DEBT = "debt"
    OTHER = "other"


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    phone: Phone | None = None
    role: Literal["applicant", "respondent", "other"]


class MediationCaseSubmission(Submission):
    """`case.submit`: a dispute to be mediated (小事不出网格,大事不出社区)."""

    community_code: Code
    grid_code: Code | None = None
    dispute_type: DisputeType
    summary: Text
    parties: tuple[Party, ...] = Field(min_length=2, max_length=50)
    severity: Literal["minor", "serious"] = "minor"
    household_id: UUID | None = None  # as on a request
    household_external_id: ExternalId | None = None


class AssignmentResponse(BaseModel):
    """`assignment.respond`: a volunteer accepts or declines an offer."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    assignment_id: UUID
    volunteer_external_id: ExternalId
    source: Code
    accept: bool
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class ServiceCompletion(BaseModel):
    """`service.complete`: a volunteer reports the service done."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    assignment_id: UUID
    hours: float = Field(gt=0, le=24)
    people_served: int = Field(ge=1, le=10_000)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None
    # A mediation session's result; required when the assignment is a mediation case's.
    outcome: Literal["agreement", "no_agreement"] | None = None


class RequestCancellation(Submission):
    """`request.cancel`: the publisher withdraws a request it sent (the resident no longer needs it)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class SubmissionKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Code
    external_id: ExternalId


ReturnVisitSatisfaction = Literal["satisfied", "basically_satisfied", "dissatisfied"]  # 满意 / 基本满意 / 不满意
Language = Annotated[str, StringConstraints(min_length=1, max_length=32)]


def _known_household_tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(tags) - BENEFICIARY_TAGS)
    if unknown:
        raise ValueError(f"unknown household tags {unknown}")
    return tuple(dict.fromkeys(tags))


# A key household's tags (at least one, each a beneficiary tag), once each, in the order given.
HouseholdTags = Annotated[tuple[str, ...], Field(min_length=1), AfterValidator(_known_household_tags)]


class Consent(BaseModel):
    """The resident's consent to be filed (PIPL art. 13): a household is kept only with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    given: bool
    method: Literal["written", "verbal", "guardian"] = "written"
    recorded_at: AwareDatetime | None = None


class HouseholdRegistration(Submission):
    """`household.register`: a key household is filed (建档) or its file updated, by a source
    or by staff. (source, external_id) is the household's key, as for a request."""

    beneficiary: Beneficiary  # name and phone of the person the file is about
    community_code: Code
    grid_code: Code | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    tags: HouseholdTags  # why it is a key household: living_alone, …
    languages: tuple[Language, ...] = ()
    consent: Consent
    # The volunteer paired with the household (结对): asked first for its visits.
    paired_volunteer: SubmissionKey | None = None

    @model_validator(mode="after")
    def _consented(self):
        if not self.consent.given:
            raise ValueError("a household is filed only with the resident's consent (consent.given must be true)")
        return self


class PersonErasure(BaseModel):
    """`person.erase`: staff or ops erase a person's personal data (PIPL art. 47), named by
    exactly one of: a resident's phone, a request of theirs, or a volunteer's registration.
    Only staff and ops tooling may publish it (`python -m services erase`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    requested_by: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    phone: Phone | None = None
    request: SubmissionKey | None = None
    volunteer: SubmissionKey | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        if sum(named is not None for named in (self.phone, self.request, self.volunteer)) != 1:
            raise ValueError("name exactly one of phone, request or volunteer")
        return self
