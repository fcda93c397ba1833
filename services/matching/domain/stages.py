"""The stages a request goes through on its way (received, offered, accepted, completed), as
the events of a decision show them: the first offer, acceptance and completion of any of its
occurrences. The shell keeps when each was first reached and measures the time from the one before."""
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from shared.events import AssignmentAccepted, AssignmentOffered, Event, RequestCompleted


class Stage(StrEnum):
    """In the order a request reaches them; each is measured from the one before (received first)."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    COMPLETED = "completed"

    @property
    def since(self) -> str:
        return {Stage.OFFERED: "received", Stage.ACCEPTED: "offered", Stage.COMPLETED: "accepted"}[self]

    @property
    def label(self) -> str:
        """The span's name, as `linli_request_stage_seconds` labels it, e.g. `received_to_offered`."""
        return f"{self.since}_to_{self.value}"


_REACHED_BY = {AssignmentOffered: Stage.OFFERED, AssignmentAccepted: Stage.ACCEPTED,
               RequestCompleted: Stage.COMPLETED}


def stages_reached(events: Iterable[Event]) -> list[tuple[UUID, Stage, datetime]]:
    """(request, stage, when) for each stage the events show a request reach, the earliest time
    of each, in stage order (an acceptance applied with its kept report completes it too).
    Events about mediation cases have no request and no stages."""
    earliest: dict[tuple[UUID, Stage], datetime] = {}
    for event in events:
        stage = _REACHED_BY.get(type(event))
        if stage and event.request_id:
            key = (event.request_id, stage)
            earliest[key] = min(earliest.get(key, event.occurred_at), event.occurred_at)
    order = list(Stage)
    return sorted(((request, stage, at) for (request, stage), at in earliest.items()),
                  key=lambda reached: order.index(reached[1]))
