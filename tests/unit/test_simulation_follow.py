"""How the simulation follows what linli says of its own requests and cases (operations/simulation.py,
without the broker): stages only move forward, others' events are let be, the summary adds up; a
publish not confirmed in time is sent again."""
import asyncio

import pytest

from operations.simulation import PUBLISH_ATTEMPTS, Simulation, Users
from shared.settings import Settings

USERS = Users(hotline="hotline-12345", grid="grid-platform", volunteer_app="volunteer-app")


def simulation(*submitted: tuple[str, str]) -> Simulation:
    run = Simulation(Settings(), USERS)
    run.outcomes.update({key: "submitted" for key in submitted})
    return run


def about(source: str, external_id: str, **fields) -> dict:
    return {"source": source, "external_id": external_id, **fields}


def test_a_request_moves_forward_only_whatever_order_its_events_are_heard_in():
    run = simulation(("hotline-12345", "r-1"))
    for routing_key in ("request.completed", "request.assigned", "request.received"):
        run.hear(routing_key, about("hotline-12345", "r-1"))
    assert run.outcomes == {("hotline-12345", "r-1"): "completed"}
    assert run.settled() == 1


def test_a_case_ends_closed_or_with_the_streets_staff_not_at_a_step_up():
    run = simulation(("grid-platform", "c-1"), ("grid-platform", "c-2"))
    run.hear("case.received", about("grid-platform", "c-1"))
    run.hear("case.escalated", about("grid-platform", "c-1", level="community"))
    run.hear("case.escalated", about("grid-platform", "c-2", level="street_staff"))
    assert run.outcomes[("grid-platform", "c-1")] == "received"
    assert run.outcomes[("grid-platform", "c-2")] == "escalated"
    assert run.settled() == 1
    summary = run.summary()
    assert summary["cases"]["escalations"] == 2 and summary["cases"]["escalated_to_staff"] == 1
    assert summary["unsettled"] == 1


def test_an_assigned_request_is_at_its_end_only_when_nobody_reports_done():
    reporting, not_reporting = simulation(("hotline-12345", "r-1")), simulation(("hotline-12345", "r-1"))
    not_reporting.complete = False
    for run in (reporting, not_reporting):
        run.hear("request.assigned", about("hotline-12345", "r-1"))
    assert (reporting.settled(), not_reporting.settled()) == (0, 1)


def test_events_about_what_the_run_did_not_submit_are_let_be():
    run = simulation(("hotline-12345", "r-1"))
    run.hear("request.escalated", about("hotline-12345", "someone-elses"))
    run.hear("assignment.offered", about("grid-platform", "c-9"))  # no answer is sent for it either
    assert run.outcomes == {("hotline-12345", "r-1"): "submitted"} and not run.counts


def test_the_summary_counts_requests_by_their_end():
    run = simulation(*(("hotline-12345", f"r-{n}") for n in range(4)))
    run.hear("request.completed", about("hotline-12345", "r-0"))
    run.hear("request.escalated", about("hotline-12345", "r-1"))
    run.hear("request.rejected", about("hotline-12345", "r-2"))
    run.hear("request.duplicate", about("hotline-12345", "r-3"))
    summary = run.summary()
    assert (summary["submitted"], summary["completed"], summary["escalated"], summary["rejected"],
            summary["duplicate"], summary["unsettled"]) == (4, 1, 1, 1, 1, 0)


class SlowToConfirm:
    """An exchange whose first `late` publishes are not confirmed in time."""

    def __init__(self, late: int):
        self.late, self.sent = late, []

    async def publish(self, message, routing_key: str, timeout: float):
        self.sent.append(message.message_id)
        if len(self.sent) <= self.late:
            raise asyncio.TimeoutError()


async def test_a_publish_not_confirmed_in_time_is_sent_again_under_the_same_message_id():
    run, exchange = simulation(), SlowToConfirm(late=PUBLISH_ATTEMPTS - 1)
    run._exchanges["volunteer-app"] = exchange
    await run.publish("volunteer-app", "service.complete", {"assignment_id": "a-1"})
    assert len(exchange.sent) == PUBLISH_ATTEMPTS and len(set(exchange.sent)) == 1


async def test_a_publish_never_confirmed_fails_after_its_attempts():
    run, exchange = simulation(), SlowToConfirm(late=PUBLISH_ATTEMPTS)
    run._exchanges["volunteer-app"] = exchange
    with pytest.raises(asyncio.TimeoutError):
        await run.publish("volunteer-app", "service.complete", {"assignment_id": "a-1"})
    assert len(exchange.sent) == PUBLISH_ATTEMPTS
