"""The paired volunteer first (结对): a household's visits go to the volunteer paired with it
before anyone else. While that volunteer can take the task, the task is offered to them alone;
the others are asked only once they decline or the offer expires (then they have been offered
the task, so they are no longer able to take it: domain/candidates.unfit)."""
from dataclasses import replace
from uuid import UUID

from services.matching.domain.columns import Candidates


def first_asked(candidates: Candidates, offers: int, paired: UUID | None) -> tuple[Candidates, int]:
    """Who a task's offers may go to now, and how many: the paired volunteer alone (one offer)
    when they are among the able `candidates`; else every candidate, `offers` of them."""
    alone = candidates.only(paired) if paired else candidates
    return (alone, 1) if paired and len(alone) else (candidates, offers)


def paired_first(demand):
    """A staffing demand (domain/staffing.Demand) narrowed to its paired volunteer, if able."""
    candidates, offers = first_asked(demand.candidates, demand.offers, demand.paired)
    return demand if candidates is demand.candidates else replace(demand, candidates=candidates, offers=offers)
