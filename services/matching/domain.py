"""Matching's rules, free of I/O: who may take a request, and who should."""
from dataclasses import dataclass
from uuid import UUID

from shared.catalogue import skills_for


@dataclass(frozen=True)
class Candidate:
    """A volunteer as matching weighs them."""

    volunteer_id: UUID
    source: str
    external_id: str
    community_code: str
    skills: frozenset[str]
    active: bool
    open_assignments: int


@dataclass(frozen=True)
class Choice:
    volunteer: Candidate
    matched_skills: tuple[str, ...]

    def reason(self) -> dict:
        """Why this volunteer: stored with the assignment so staff can read it."""
        return {"rule": "community, skill, lowest load", "matched_skills": list(self.matched_skills),
                "open_assignments": self.volunteer.open_assignments}


@dataclass(frozen=True)
class NobodyFits:
    reason: str


def can_take(volunteer: Candidate, community_code: str, category: str) -> bool:
    """Active, in the request's community, with a skill the service needs."""
    return (volunteer.active and volunteer.community_code == community_code
            and bool(volunteer.skills.intersection(skills_for(category))))


def choose_volunteer(candidates: list[Candidate], community_code: str, category: str) -> Choice | NobodyFits:
    """The volunteer who can take the request with the fewest open assignments; ties go to
    the lowest id so that the choice is the same on every run."""
    able = [c for c in candidates if can_take(c, community_code, category)]
    if not able:
        return NobodyFits(f"no active volunteer in community {community_code} has a skill that "
                          f"{category} needs ({', '.join(skills_for(category))})")
    chosen = min(able, key=lambda c: (c.open_assignments, str(c.volunteer_id)))
    return Choice(chosen, tuple(s for s in skills_for(category) if s in chosen.skills))
