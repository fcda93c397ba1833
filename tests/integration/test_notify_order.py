"""notify hears each kind of event on a queue of its own, so they come in any order. Whatever
the order, the same people are told the same things on the same channels: a request's steps and
an acceptance wait for request.received, an offer told before its volunteer's registration gets
the volunteer's SMS once it arrives, a case's escalation reaches the mediator who had it once
case.assigned names them (services/notify/domain/ordering.py)."""
import random
import uuid
from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest

from services.notify.app import SERVICE
from services.notify.domain.ordering import HOLD_AT_MOST
from services.notify.handlers import HELD_BATCH, release_held
from shared.events import (AssignmentAccepted, CaseAssigned, CaseEscalated, Event, RequestAssigned, RequestCompleted,
                           Staffed, VolunteerRef)
from shared.submissions import Urgency
from tests.builders.notify import offer, received, registered
from tests.clock import SetClock
from tests.support import announced_and_handled, eventually, inbox_of, running, sent
from tests.webhook_receiver import SECRET, receiving

pytestmark = pytest.mark.integration
OFFERED_AT = datetime.now(UTC)  # every story's offer: its messages then read the same


def request_story(accepted: bool = False) -> tuple[list[Event], dict[str, str]]:
    """An emergency request's events, each once, and the names to hide its ids behind: offered,
    the resident told of it, done; or (`accepted`) the volunteer's acceptance. (An offer handled
    after its acceptance is never sent, by design: tests/integration/test_notify_reminders.py.)"""
    volunteer = f"v-{uuid.uuid4().hex[:6]}"
    offered = offer(volunteer, at=OFFERED_AT).model_copy(update={"urgency": Urgency.EMERGENCY,
                                                                 "external_id": f"h-{uuid.uuid4().hex[:6]}"})
    about = offered.model_dump(include={"correlation_id", "request_id", "source", "external_id", "category",
                                        "community_code"})
    staffed = (Staffed(**offered.volunteer.model_dump(), assignment_id=offered.assignment_id),)
    story = [received(offered, beneficiary={"name": "李阿姨", "phone": "13700000007"}),
             registered(volunteer, phone="13900000002")]
    if accepted:
        story.append(AssignmentAccepted(**about, assignment_id=offered.assignment_id, volunteer=offered.volunteer,
                                        address="幸福路 1 号"))
    else:
        story += [offered, RequestAssigned(**about, volunteers=staffed),
                  RequestCompleted(**about, volunteers=staffed, hours=1.0, people_served=1)]
    return story, {volunteer: "<volunteer>", offered.external_id: "<request>", str(offered.request_id): "<request-id>",
                   str(offered.assignment_id): "<assignment>"}


def acceptance_story() -> tuple[list[Event], dict[str, str]]:
    return request_story(accepted=True)


def case_story() -> tuple[list[Event], dict[str, str]]:
    """A case the grid mediator took, then escalated from their level."""
    mediator, case_id, community = f"m-{uuid.uuid4().hex[:6]}", uuid.uuid4(), f"c-{uuid.uuid4().hex[:6]}"
    about = {"correlation_id": "case", "case_id": case_id, "source": "grid-platform",
             "external_id": f"g-{uuid.uuid4().hex[:6]}", "community_code": community}
    story = [registered(mediator),
             CaseAssigned(**about, level="grid", assignment_id=uuid.uuid4(), dispute_type="noise", summary="楼上噪音",
                          volunteer=VolunteerRef(volunteer_id=uuid.uuid4(), source="volunteer-app",
                                                 external_id=mediator)),
             CaseEscalated(**about, level="community", from_level="grid", reason="调解未成")]
    return story, {mediator: "<mediator>", str(case_id): "<case>", about["external_id"]: "<case-ref>",
                   community: "<community>"}


async def end_state(notify, story: list[Event], names: dict[str, str]) -> list[tuple]:
    """What each notification about the story became, and every inbox message, with its ids hidden."""
    def hidden(text: str) -> str:
        for name, alias in names.items():
            text = text.replace(name, alias)
        return text
    rows = []
    for event in story:
        got = (await notify.get("/api/v1/notifications", params={"about_event_id": str(event.event_id)})).json()
        rows += [(event.routing_key, hidden(row["recipient"]), row["kind"], row["channel"], row["status"],
                  row["language"]) for row in got]
    recipients = {row["recipient"] for event in story for row in (await notify.get(
        "/api/v1/notifications", params={"about_event_id": str(event.event_id)})).json()}
    inboxes = [(hidden(recipient), message["kind"], hidden(message["subject"]), hidden(message["body"]))
               for recipient in sorted(recipients) if not recipient.startswith("resident:")
               for message in (await inbox_of(notify, recipient)).json()]
    return sorted(rows) + sorted(inboxes)


async def settled(notify, story, names):
    """The end state once nothing about the story is pending or held any more."""
    async with notify.app.state.runtime.pool.acquire() as conn:
        if await conn.fetchval("SELECT count(*) FROM held_event WHERE event_id = ANY($1::uuid[])",
                               [event.event_id for event in story]):
            return None
    state = await end_state(notify, story, names)
    return state if not any(row[4] in ("pending", "sending") for row in state if len(row) == 6) else None


def orders(story: list, shuffles: int, seed: int) -> list[tuple[int, ...]]:
    """In order, reversed, and `shuffles` more orders drawn with `seed`."""
    chosen = [tuple(range(len(story))), tuple(reversed(range(len(story))))]
    every = list(permutations(range(len(story))))
    return chosen + random.Random(seed).sample(every, shuffles)


@pytest.mark.parametrize(("make_story", "shuffles"), [(request_story, 3), (acceptance_story, 2), (case_story, 2)])
async def test_the_same_notifications_whatever_order_the_events_come_in(settings, make_story, shuffles):
    async with receiving() as gateway, running(SERVICE, settings.model_copy(update={
            "notify_sms_url": gateway.url, "notify_sms_secret": SECRET, "notify_quiet_hours": "",
            "notify_webhook_url": None, "notify_smtp_host": None})) as notify:
        states = {}
        for order in orders(make_story()[0], shuffles, seed=13):
            story, names = make_story()
            for index in order:
                await announced_and_handled(notify, "notify", settings, story[index])
            states[order] = await eventually(lambda: settled(notify, story, names))
    in_order = states[orders(story, 0, 0)[0]]
    differences = {order: set(state) ^ set(in_order) for order, state in states.items() if state != in_order}
    assert in_order and not differences, "\n".join(f"{order}: {sorted(d)}" for order, d in differences.items())


async def sweep_held(notify) -> int:
    """One sweep of the held events, now."""
    deps = notify.app.state.deps
    async with deps.runtime.unit_of_work() as uow:
        return await release_held(deps, uow, HELD_BATCH)


async def test_a_step_whose_request_never_arrives_is_told_with_what_is_known_once_its_bound_passes(fresh_settings):
    # A database of its own: it counts the held events one sweep releases, and other tests' held
    # events fall due under its advanced clock too.
    settings, clock = fresh_settings, SetClock()
    community = f"c-{uuid.uuid4().hex[:6]}"
    assigned = RequestAssigned(correlation_id="c", request_id=uuid.uuid4(), source="hotline-12345",
                               external_id=f"h-{uuid.uuid4().hex[:6]}", category="elder_care.meals",
                               community_code=community, occurred_at=clock.now(), volunteers=())
    async with running(SERVICE, settings, clock=clock) as notify:
        await announced_and_handled(notify, "notify", settings, assigned)
        held = await notify.get("/api/v1/notifications", params={"about_event_id": str(assigned.event_id)})
        clock.advance(HOLD_AT_MOST - timedelta(milliseconds=1))
        assert await sweep_held(notify) == 0  # not a moment sooner
        clock.advance(timedelta(milliseconds=1))
        row = await eventually(lambda: sent(notify, assigned, "inbox"))
    assert held.json() == [] and row["recipient"] == f"staff:{community}"  # nobody to text: their staff pass it on
