"""intake's submission pipeline. Every submission, whatever its kind and whether it came over
the broker or HTTP, takes one path: parse, admit (a known source, and the one that published
it), then reject with a reason or accept. Everything one submission causes carries the one
moment intake took it.

Who published is never the body's word: over the broker it is the message's `user_id`, which
RabbitMQ checks against the connection's user (shared/broker_users.py: each source is the user
named by its id); over HTTP it is the source of the API key."""
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from prometheus_client import Counter
from pydantic import BaseModel

from services.intake import registry, store
from services.intake.context import Intake
from services.intake.domain import (OnCancel, Rejection, S, first_of_same_need, on_cancel, parse_submission,
                                    phone_key, status_on_arrival)
from services.intake.households import for_household
from services.intake.sources import Sources, unknown_source_reason
from shared.consumer import Prepare
from shared.events import (AssignmentResponded, CancellationRejected, CaseReceived, CaseRejected, CompletionRejected,
                           CompletionReported, HouseholdRejected, RequestCancelled, RequestDuplicate, RequestReceived,
                           RequestRejected,
                           ResponseRejected, SubmissionRejected, VolunteerRegistered, VolunteerRejected)
from shared.mediation import starting_level
from shared.statuses import FINAL, RequestStatus
from shared.submissions import (AssignmentResponse, HouseholdRegistration, MediationCaseSubmission,
                                RequestCancellation, ServiceCompletion, ServiceRequestSubmission,
                                VolunteerRegistration)
from shared.unit_of_work import UnitOfWork

SUBMISSIONS = Counter("linli_intake_submissions_total", "Submissions taken in, by outcome",
                      ["submission", "outcome"])


@dataclass(frozen=True)
class Arrival:
    """The chain a submission starts (its correlation id) and when intake took it."""

    correlation_id: str
    at: datetime
    publisher: str | None = None  # the source that published the submission, as the broker or the key proves
    message_id: str | None = None

    @property
    def stamp(self) -> dict:
        """What every event the submission causes carries."""
        return {"correlation_id": self.correlation_id, "occurred_at": self.at}


@dataclass(frozen=True)
class Accepted:
    outcome: str  # received, duplicate (same key), linked (same need from another source), registered …
    id: UUID | None = None

    @property
    def duplicate(self) -> bool:
        return self.outcome == "duplicate"


# Accepting may still refuse, for what only the stored state shows (e.g. cancelling an unknown request).
Accept = Callable[[Intake, UnitOfWork, Any, Arrival], Awaitable[Accepted | Rejection]]


@dataclass(frozen=True)
class Kind:
    """One kind of submission: its routing key, its schema, its rejection event, how it is accepted."""

    routing_key: str
    model: type[BaseModel]
    rejected: type[SubmissionRejected]
    accept: Accept
    prepare: Prepare | None = None  # what a batch of them does first (shared/consumer.py)


@dataclass(frozen=True)
class Publisher:
    """Who published a submission, as proven by `by` (the broker's user_id, an API key)."""

    source: str | None
    by: str


def over_broker(user_id: str | None) -> Publisher:
    return Publisher(user_id, "broker user (the message's user_id)")


def with_api_key(source: str | None) -> Publisher | None:
    """None: no key, which only development's INTAKE_ACCEPT_UNKNOWN_SOURCES lets through."""
    return None if source is None else Publisher(source, "API key")


async def take(intake: Intake, uow: UnitOfWork, kind: Kind, body: bytes, correlation_id: str,
               message_id: str | None = None, publisher: Publisher | None = None) -> Accepted | Rejection:
    """The body must name the source `publisher` proves (its size is checked before anything
    decodes it: parse_submission)."""
    arrival = Arrival(correlation_id, intake.now(), publisher.source if publisher else None, message_id)
    submission = _admitted(parse_submission(kind.model, body), intake.sources, publisher)
    result = submission if isinstance(submission, Rejection) else await kind.accept(intake, uow, submission, arrival)
    if isinstance(result, Rejection):
        await reject(intake, uow, kind, result, body, arrival)
    return result


async def reject(intake: Intake, uow: UnitOfWork, kind: Kind, rejection: Rejection, body: bytes,
                 arrival: Arrival) -> None:
    """Keep the rejection (with the body, masked), announce it, and tell the publisher's webhook."""
    rejected = kind.rejected(**arrival.stamp, submission=kind.routing_key, reason=rejection.reason,
                             source=rejection.source, external_id=rejection.external_id,
                             community_code=rejection.community_code)
    await store.record_rejection(uow.connection, kind.routing_key, rejection, body, arrival.message_id)
    await uow.emit(rejected)
    await intake.status_webhooks.queue(uow, rejection.source, rejected.occurred_at, status="rejected",
                                       submission=kind.routing_key, external_id=rejection.external_id,
                                       reason=rejection.reason)


def _admitted(submission: S | Rejection, sources: Sources, publisher: Publisher | None) -> S | Rejection:
    """A valid submission from a source linli knows, published by that source."""
    if isinstance(submission, Rejection):
        return submission
    identity = {"source": getattr(submission, "source", None), "external_id": getattr(submission, "external_id", None),
                "community_code": getattr(submission, "community_code", None)}
    if publisher is not None and publisher.source is None:
        return Rejection("the message has no user_id: a publisher sets it to its broker user, the id of its source",
                         **identity)
    if not hasattr(submission, "source"):  # service.complete: its publisher goes with it (reported_by)
        return submission
    if not sources.accepts(submission.source):
        return Rejection(unknown_source_reason(submission.source), **identity)
    if publisher is not None and submission.source != publisher.source:
        return Rejection(f"source {submission.source!r} is not the one of the {publisher.by} ({publisher.source!r})",
                         **identity)
    return submission


async def _accept_request(intake: Intake, uow: UnitOfWork, request: ServiceRequestSubmission,
                          arrival: Arrival) -> Accepted:
    """Store a request once per (source, external_id); the same need from another source within
    the window is linked to the first request instead of being dispatched again; a request whose
    cancellation came first is cancelled at once, never dispatched (domain.status_on_arrival).
    A request naming a household is for it (and reaches its resident when it names nobody)."""
    conn = uow.connection
    named = await registry.named_household(uow, request.source, request.household_id, request.household_external_id)
    if named.reason:
        return Rejection(named.reason, request.source, request.external_id, request.community_code)
    household_id = named.household.household_id if named.household else None
    if named.household:
        request = for_household(request, named.household)
    await _take_turns(uow, [store.turn("request", request.source, request.external_id)])  # and its cancellations'
    request_id = await store.insert_request(conn, request, arrival.correlation_id, arrival.at, household_id)
    if request_id is None:
        existing = await store.request_by_key(conn, request.source, request.external_id)
        return Accepted("duplicate", existing["request_id"])
    first = await _first_of_same_need(intake, uow, request, request_id, arrival.at)
    waiting = await store.claim_waiting_cancellation(conn, request.source, request.external_id, arrival.at)
    about = {**arrival.stamp, "request_id": request_id, "source": request.source, "external_id": request.external_id,
             "category": request.category, "community_code": request.community_code, "household_id": household_id}
    status = status_on_arrival(first is not None, waiting is not None)
    if status == RequestStatus.DUPLICATE:
        await _link(intake, uow, about, first)
        if waiting is not None:  # refused, as it would have been had it come after
            await _refuse_waiting(intake, uow, waiting, _linked_reason(_key(request), first), arrival.at,
                                  request.community_code)
        return Accepted("linked", request_id)
    if status == RequestStatus.CANCELLED:
        await _cancel_on_arrival(intake, uow, about, waiting["reason"])
        return Accepted("cancelled", request_id)
    event = RequestReceived(**{**request.model_dump(), "household_id": household_id}, **arrival.stamp,
                            request_id=request_id)
    await uow.emit(event)
    await intake.status_webhooks.queue_request(uow, event, RequestStatus.RECEIVED)
    return Accepted("received", request_id)


async def _link(intake: Intake, uow: UnitOfWork, about: dict, first: UUID) -> None:
    """The same need from another source came first: linked to it, never dispatched."""
    await store.link_duplicate(uow.connection, about["request_id"], first)
    event = RequestDuplicate(**about, duplicate_of=first)
    await uow.emit(event)
    await intake.status_webhooks.queue_request(uow, event, RequestStatus.DUPLICATE, duplicate_of=str(first))


async def _cancel_on_arrival(intake: Intake, uow: UnitOfWork, about: dict, reason: str | None) -> None:
    """Its cancellation came first: the request is stored cancelled and announced as such only."""
    await store.cancel_request(uow.connection, about["source"], about["external_id"], {"reason": reason}, FINAL,
                               about["occurred_at"])
    event = RequestCancelled(**about, reason=reason)
    await uow.emit(event)
    await intake.status_webhooks.queue_request(uow, event, RequestStatus.CANCELLED, reason=reason)


async def _first_of_same_need(intake: Intake, uow: UnitOfWork, request: ServiceRequestSubmission,
                              request_id: UUID, received_at: datetime) -> UUID | None:
    """Requests of the same need take turns (even in two intake processes), so that the second
    of two taken at the same instant sees the first, committed, and is linked to it."""
    phone = phone_key(request.beneficiary.phone if request.beneficiary else None)
    if not phone:
        return None
    await _take_turns(uow, [_same_need(phone, request)])
    window = timedelta(hours=intake.settings.intake_duplicate_window_hours)
    others = await store.same_need_around(uow.connection, request_id, received_at, phone, request.category,
                                          request.community_code, window)
    return first_of_same_need(request.source, received_at, others, window)


def _same_need(phone: str, request: ServiceRequestSubmission) -> str:
    return store.turn("same-need", phone, request.category, request.community_code)


async def _take_turns(uow: UnitOfWork, turns: list[str]) -> None:
    """The turns this transaction does not hold yet (its batch took them first: take_request_turns)."""
    await store.take_turns(uow.connection, uow.not_yet_held(turns))


async def take_request_turns(intake: Intake, uow: UnitOfWork, envelopes: list) -> None:
    """A batch of requests takes the turns its handlers would take one by one, all first and in
    one statement: the requests' (sorted), then their needs' (sorted), as one request takes them.
    Taken message after message, two batches with the same beneficiaries in opposite orders could
    each hold one need's turn and wait for the other's. A request naming a household takes its
    need's turn in its handler (its phone may be the household's)."""
    requests = [r for r in (parse_submission(ServiceRequestSubmission, e.body) for e in envelopes)
                if not isinstance(r, Rejection)]
    needs = [_same_need(phone, r) for r in requests if not (r.household_id or r.household_external_id)
             and (phone := phone_key(r.beneficiary.phone if r.beneficiary else None))]
    await store.take_turns(uow.connection, uow.not_yet_held(store.turn("request", r.source, r.external_id)
                                                            for r in requests) + uow.not_yet_held(needs))


async def _accept_volunteer(intake: Intake, uow: UnitOfWork, registration: VolunteerRegistration,
                            arrival: Arrival) -> Accepted:
    """A new volunteer or an update of a known one; either way the roster hears of it."""
    volunteer_id = await store.upsert_volunteer(uow.connection, registration)
    await uow.emit(VolunteerRegistered(**registration.model_dump(), volunteer_id=volunteer_id, **arrival.stamp))
    return Accepted("registered", volunteer_id)


async def _accept_case(intake: Intake, uow: UnitOfWork, case: MediationCaseSubmission,
                       arrival: Arrival) -> Accepted | Rejection:
    named = await registry.named_household(uow, case.source, case.household_id, case.household_external_id)
    if named.reason:
        return Rejection(named.reason, case.source, case.external_id, case.community_code)
    household_id = named.household.household_id if named.household else None
    level = starting_level(case.grid_code, case.severity)
    case_id = await store.insert_case(uow.connection, case, level, arrival.correlation_id, household_id)
    if case_id is None:
        return Accepted("duplicate")
    await uow.emit(CaseReceived(**{**case.model_dump(), "household_id": household_id}, case_id=case_id, level=level,
                                **arrival.stamp))
    return Accepted("received", case_id)


async def _accept_household(intake: Intake, uow: UnitOfWork, registration: HouseholdRegistration,
                            arrival: Arrival) -> Accepted:
    """A new key household or an update of its file (by (source, external_id)): it keeps its id."""
    return Accepted("registered", await registry.file_household(uow, registration, arrival.stamp))


async def _accept_response(intake: Intake, uow: UnitOfWork, response: AssignmentResponse,
                           arrival: Arrival) -> Accepted:
    await store.insert_response(uow.connection, response)
    await uow.emit(AssignmentResponded(**response.model_dump(), **arrival.stamp))
    return Accepted("accepted" if response.accept else "declined")


async def _accept_completion(intake: Intake, uow: UnitOfWork, completion: ServiceCompletion,
                             arrival: Arrival) -> Accepted:
    await store.insert_completion(uow.connection, completion)
    await uow.emit(CompletionReported(**completion.model_dump(), reported_by=arrival.publisher, **arrival.stamp))
    return Accepted("reported")


async def _accept_cancellation(intake: Intake, uow: UnitOfWork, cancellation: RequestCancellation,
                               arrival: Arrival) -> Accepted | Rejection:
    """The publisher withdraws its own request; matching then withdraws the request's offers.
    One that comes before its request waits for it (domain.on_cancel), for
    INTAKE_CANCELLATION_WAIT_MINUTES; refuse_expired_cancellations refuses it after that."""
    conn = uow.connection
    identity = {"source": cancellation.source, "external_id": cancellation.external_id}
    await _take_turns(uow, [store.turn("request", cancellation.source, cancellation.external_id)])
    known = await store.request_by_key(conn, **identity)
    decision = on_cancel(known["status"] if known else None, await store.is_cancellation_waiting(conn, **identity))
    if decision == OnCancel.WAIT:
        until = arrival.at + timedelta(minutes=intake.settings.intake_cancellation_wait_minutes)
        await store.wait_for_request(conn, cancellation, arrival.correlation_id, arrival.message_id, arrival.at, until)
        return Accepted("waiting")
    # Conditional: matching may report the request completed at this very moment.
    request = None if decision == OnCancel.REFUSE else await store.cancel_request(
        conn, **identity, detail={"reason": cancellation.reason}, finished=FINAL, occurred_at=arrival.at)
    if request is None:
        return await _not_cancellable(uow, cancellation)
    event = RequestCancelled(**arrival.stamp, request_id=request["request_id"], reason=cancellation.reason,
                             **identity, category=request["category"], community_code=request["community_code"],
                             household_id=request["household_id"], campaign_id=request["campaign_id"])
    await uow.emit(event)
    await intake.status_webhooks.queue_request(uow, event, RequestStatus.CANCELLED, reason=event.reason)
    return Accepted("cancelled", event.request_id)


async def _not_cancellable(uow: UnitOfWork, cancellation: RequestCancellation) -> Rejection:
    """Why a request could not be cancelled: another cancellation already waits for it, or it is finished."""
    key = _key(cancellation)
    request = await store.request_by_key(uow.connection, cancellation.source, cancellation.external_id)
    identity = {"source": cancellation.source, "external_id": cancellation.external_id}
    if request is None:
        return Rejection(f"a cancellation of request {key} already waits for it to arrive", **identity)
    if request["status"] == RequestStatus.DUPLICATE:
        reason = _linked_reason(key, request["status_detail"]["duplicate_of"])
    else:
        reason = f"request {key} is already {request['status']}"
    return Rejection(reason, **identity, community_code=request["community_code"])


def _key(submission: ServiceRequestSubmission | RequestCancellation) -> str:
    return f"{submission.source}/{submission.external_id}"


def _linked_reason(key: str, first: UUID | str) -> str:
    return f"request {key} was linked to request {first} (the same need from another source) and never dispatched"


async def _refuse_waiting(intake: Intake, uow: UnitOfWork, waiting, reason: str, at: datetime,
                          community_code: str | None = None) -> None:
    """Refuse a cancellation that waited for its request, in the chain it came with."""
    cancellation = RequestCancellation(source=waiting["source"], external_id=waiting["external_id"],
                                       reason=waiting["reason"])
    rejection = Rejection(reason, cancellation.source, cancellation.external_id, community_code)
    await reject(intake, uow, CANCELLATION, rejection, cancellation.model_dump_json().encode(),
                 Arrival(waiting["correlation_id"], at, cancellation.source, waiting["message_id"]))
    uow.after_commit(lambda: count(CANCELLATION, rejection))


EXPIRED_BATCH = 50


async def refuse_expired_cancellations(intake: Intake) -> int:
    """Refuse, with the reason, the cancellations whose request has not come in their time
    (a background sweep of every intake process); returns how many."""
    async with intake.unit_of_work() as uow:
        now = intake.now()
        expired = await store.claim_expired_cancellations(uow.connection, now, EXPIRED_BATCH)
        for waiting in expired:
            minutes = (waiting["until"] - waiting["held_at"]).total_seconds() / 60
            reason = (f"no request {waiting['source']}/{waiting['external_id']} to cancel arrived within "
                      f"{minutes:g} minutes of its cancellation")
            await _refuse_waiting(intake, uow, waiting, reason, now)
    return len(expired)


REQUEST = Kind("request.submit", ServiceRequestSubmission, RequestRejected, _accept_request, take_request_turns)
CANCELLATION = Kind("request.cancel", RequestCancellation, CancellationRejected, _accept_cancellation)
KINDS = (REQUEST,
         Kind("volunteer.register", VolunteerRegistration, VolunteerRejected, _accept_volunteer),
         Kind("case.submit", MediationCaseSubmission, CaseRejected, _accept_case),
         Kind("assignment.respond", AssignmentResponse, ResponseRejected, _accept_response),
         Kind("service.complete", ServiceCompletion, CompletionRejected, _accept_completion),
         CANCELLATION,
         Kind("household.register", HouseholdRegistration, HouseholdRejected, _accept_household))


async def receive_request(intake: Intake, uow: UnitOfWork, body: bytes, correlation_id: str,
                          sent_by: str | None = None) -> Accepted | Rejection:
    """A request over HTTP (the JSON API and Open311): the same path as `request.submit`;
    `sent_by` is the source of the caller's API key."""
    return await take(intake, uow, REQUEST, body, correlation_id, publisher=with_api_key(sent_by))


def count(kind: Kind, result: Accepted | Rejection) -> None:
    SUBMISSIONS.labels(kind.routing_key, "rejected" if isinstance(result, Rejection) else result.outcome).inc()
