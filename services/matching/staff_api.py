"""The staff's actions on matching's requests and cases (the staff console, issue 15), and the
assign picker. Each action is a decision (domain/staff.py) applied in one unit of work, under
the locks the handlers take (the community, then the request or the rows, then the volunteer),
its events through the outbox; it answers {"done": <routing key>, ...ids}, or refuses with 409
and the reason in the caller's language (`?lang=zh|en` over the token's locale) when the state
does not allow it. Community staff act in their community, street staff in their street's;
ops and volunteers may not act (403)."""
from collections.abc import Awaitable, Callable
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.matching.context import Matching
from services.matching.decisions import apply
from services.matching.dispatch import dispatch
from services.matching.domain import staff as rules
from services.matching.domain.candidates import unfit
from services.matching.domain.changes import Decision
from services.matching.domain.staff import Refusal
from services.matching.domain.tasks import TaskState, week_of_task, weighed
from services.matching.store import assignments, staff, tasks
from shared.access import STAFF, allow, areas, check_community, staff_ref, without
from shared.areas import Areas
from shared.http import read_body
from shared.identity import Caller, Refused, Role
from shared.reasons import RULES, language_of
from shared.service import deps_of
from shared.submissions import ReturnVisitSatisfaction
from shared.unit_of_work import UnitOfWork

router = APIRouter(tags=["matching staff"])

ACTING = allow(*STAFF)
# Larger than any action's body: refused before it is parsed.
MAX_BODY_BYTES = 16_384
NOTE = Field(None, max_length=1000)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Assign(_Body):
    volunteer_id: UUID
    occurrence: int | None = Field(None, ge=1)
    agreed: bool = False


class Reopen(_Body):
    occurrence: int | None = Field(None, ge=1)


class Handled(_Body):
    occurrence: int | None = Field(None, ge=1)
    hours: float = Field(gt=0, le=24)
    people_served: int = Field(ge=1, le=10000)
    note: str | None = NOTE


class Cancel(_Body):
    reason: str = Field(min_length=1, max_length=1000, pattern=r"\S")


class Duplicate(_Body):
    duplicate_of: UUID


class Escalate(_Body):
    note: str | None = NOTE


class Close(_Body):
    outcome: Literal["agreement", "no_agreement"]
    hours: float = Field(gt=0, le=24)
    note: str | None = NOTE


class ReturnVisit(_Body):
    satisfaction: ReturnVisitSatisfaction
    note: str | None = NOTE


def documented(model: type[_Body]) -> dict:
    """The OpenAPI of a body read by body_of (not by FastAPI, whose 422 is not {"error": ...})."""
    return {"requestBody": {"required": False, "content": {"application/json": {"schema": model.model_json_schema()}}}}


async def body_of(request: Request, model: type[_Body]) -> _Body:
    """The JSON body as `model`, or 422 {"error": what is wrong} (an empty body: no fields)."""
    raw = await read_body(request, MAX_BODY_BYTES)
    if len(raw) > MAX_BODY_BYTES:
        raise Refused(422, f"body is larger than the limit of {MAX_BODY_BYTES} bytes")
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        raise Refused(422, "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                                     for e in error.errors(include_url=False))) from error


def language(who: Caller, lang: str | None) -> str:
    return language_of(lang) if lang else who.language


async def decided(uow: UnitOfWork, outcome: Decision | Refusal, lang: str) -> None:
    if isinstance(outcome, Refusal):
        raise Refused(409, outcome.text(lang))
    await apply(uow, outcome)


# --- requests -------------------------------------------------------------------------------

async def _seen(matching: Matching, who: Caller, known: Areas, what: str, community_of, key: UUID) -> str:
    """The community of the request or case (`community_of(conn, key)`): 404 if there is none,
    403 outside the caller's area (before the body is read: a caller outside learns nothing more)."""
    async with matching.runtime.pool.acquire() as conn:
        community = await community_of(conn, key)
    if community is None:
        raise Refused(404, f"{what} not found")
    check_community(who, community, known, what)
    return community


async def _request(uow: UnitOfWork, request_id: UUID):
    """The request's series row, its request.received and every occurrence with its assignments,
    under the community's and the request's locks (the caller was seen to be of its area)."""
    conn = uow.connection
    row = await staff.series(conn, request_id)
    await tasks.lock_community(conn, row["community_code"])
    await tasks.lock_request(conn, request_id)
    occurrences = await staff.occurrences(conn, request_id)
    return (row, await tasks.request(conn, request_id),
            [(task, await assignments.of_task(conn, task.task_id)) for task in occurrences])


async def _occurrence_action(matching: Matching, who: Caller, request_id: UUID, action: str,
                             occurrence: int | None, lang: str | None,
                             decide: Callable[..., Awaitable[Decision | Refusal]]) -> tuple[TaskState, Decision]:
    """An action on one occurrence (the one asked for, or the earliest the action takes):
    `decide(uow, task, request, series, held)`; offers follow once it has committed."""
    async with matching.unit_of_work() as uow:
        row, request, occurrences = await _request(uow, request_id)
        series = staff.series_status(row)
        chosen = rules.choose(action, series, [task for task, _ in occurrences], occurrence)
        if isinstance(chosen, Refusal):
            raise Refused(409, chosen.text(language(who, lang)))
        held = next(h for task, h in occurrences if task.task_id == chosen.task_id)
        outcome = await decide(uow, chosen, request, series, held)
        await decided(uow, outcome, language(who, lang))
        uow.after_commit(lambda: dispatch(matching, [row["community_code"]]))
    return chosen, outcome


def _done(key: str, request_id: UUID, task: TaskState, **ids) -> dict:
    return {"done": key, "request_id": str(request_id), "occurrence": task.occurrence, **ids}


@router.get("/requests/{request_id}/candidates")
async def candidates(request_id: UUID, occurrence: int | None = None, lang: str | None = None,
                     matching: Matching = Depends(deps_of),
                     who: Caller = Depends(allow(*STAFF, Role.OPS)), known: Areas = Depends(areas)):
    """The volunteers of the occurrence's area, each fit to take it or not and why: the assign picker."""
    await _seen(matching, who, known, f"request {request_id}", staff.request_community, request_id)
    async with matching.runtime.pool.acquire() as conn:
        row = await staff.series(conn, request_id)
        task = rules.choose("assigned", staff.series_status(row), await staff.occurrences(conn, request_id, lock=False), occurrence)
        if isinstance(task, Refusal):
            raise Refused(409, task.text(language(who, lang)))
        week = week_of_task(task, matching.now(), matching.policy.limits.timezone)
        paired = await tasks.paired(conn, request_id, task.occurrence)
        weighing = weighed(task, await staff.asked(conn, task.task_id), paired)
        found = await staff.area_volunteers(conn, list(task.search_area), week)
    rows = [_candidate(volunteer, name, team, unfit(volunteer, weighing, matching.policy.limits),
                       language(who, lang)) for volunteer, name, team in found]
    rows.sort(key=lambda r: not r["fit"])
    return [without(r, ("name",)) if who.role == Role.OPS else r for r in rows]


def _candidate(volunteer, name: str, team: str | None, rule: str | None, lang: str) -> dict:
    """A volunteer for the picker; `rule`: the code of the first rule they fail (None: fit)."""
    row = {"volunteer_id": str(volunteer.volunteer_id), "name": name, "team": team,
           "community_code": volunteer.community_code, "fit": rule is None}
    if rule is not None:
        english, chinese = RULES[rule]
        row["why"] = {"reason": english if lang == "en" else chinese, "code": rule}
    return row


@router.post("/requests/{request_id}/assign", openapi_extra=documented(Assign))
async def assign(request_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                 who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """A named volunteer: an offer, or (`agreed`) an accepted assignment."""
    await _seen(matching, who, known, f"request {request_id}", staff.request_community, request_id)
    body = await body_of(http, Assign)

    async def decide(uow, task, request, series, held):
        named = await staff.named(uow.connection, body.volunteer_id)
        week = week_of_task(task, matching.now(), matching.policy.limits.timezone)
        return rules.assign(task, request, held, named, body.agreed, staff_ref(who), matching.now(), week,
                            matching.policy)

    task, decision = await _occurrence_action(matching, who, request_id, "assigned", body.occurrence, lang,
                                              decide)
    [assigned] = [e for e in decision.events if e.routing_key == "request.staff_assigned"]
    return _done("request.staff_assigned", request_id, task, assignment_id=str(assigned.assignment_id))


@router.post("/requests/{request_id}/reopen", openapi_extra=documented(Reopen))
async def reopen(request_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                 who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """An escalated or missed occurrence waits for offers again."""
    await _seen(matching, who, known, f"request {request_id}", staff.request_community, request_id)
    body = await body_of(http, Reopen)

    async def decide(uow, task, request, series, held):
        return rules.reopen(task, request, series, staff_ref(who), matching.now())
    task, _ = await _occurrence_action(matching, who, request_id, "reopened", body.occurrence, lang, decide)
    return _done("request.reopened", request_id, task)


@router.post("/requests/{request_id}/handled", openapi_extra=documented(Handled))
async def handled(request_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                  who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """Staff did the service themselves, with its hours and people served."""
    await _seen(matching, who, known, f"request {request_id}", staff.request_community, request_id)
    body = await body_of(http, Handled)

    async def decide(uow, task, request, series, held):
        return rules.handle(task, request, held, body.hours, body.people_served, body.note, staff_ref(who),
                            matching.now(), matching.policy)
    task, _ = await _occurrence_action(matching, who, request_id, "handled", body.occurrence, lang, decide)
    return _done("request.handled_by_staff", request_id, task)


@router.post("/requests/{request_id}/cancel", openapi_extra=documented(Cancel))
async def cancel(request_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                 who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """Cancelled as not needed, with the staff's reason."""
    await _seen(matching, who, known, f"request {request_id}", staff.request_community, request_id)
    body = await body_of(http, Cancel)
    async with matching.unit_of_work() as uow:
        row, request, occurrences = await _request(uow, request_id)
        await decided(uow, rules.cancel_not_needed(request, staff.series_status(row), occurrences, body.reason.strip(),
                                                   staff_ref(who), matching.now()), language(who, lang))
    return {"done": "request.cancelled", "request_id": str(request_id)}


@router.post("/requests/{request_id}/duplicate", openapi_extra=documented(Duplicate))
async def duplicate(request_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                    who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """Linked as a duplicate of another request of the caller's area, and closed."""
    await _seen(matching, who, known, f"request {request_id}", staff.request_community, request_id)
    body = await body_of(http, Duplicate)
    async with matching.unit_of_work() as uow:
        conn = uow.connection
        first = await staff.series(conn, body.duplicate_of)
        if first is None:
            raise Refused(404, f"request {body.duplicate_of} not found")
        check_community(who, first["community_code"], known, f"request {body.duplicate_of}")
        row, request, occurrences = await _request(uow, request_id)
        await decided(uow, rules.link_duplicate(request, staff.series_status(row), occurrences,
                                                await tasks.request(conn, body.duplicate_of), first["duplicate_of"],
                                                staff_ref(who), matching.now()), language(who, lang))
    return {"done": "request.duplicate", "request_id": str(request_id), "duplicate_of": str(body.duplicate_of)}


# --- cases ----------------------------------------------------------------------------------

async def _case_action(matching: Matching, who: Caller, community: str, case_id: UUID, lang: str | None,
                       decide: Callable) -> None:
    """An action on a case (the caller was seen to be of its area), under its community's lock,
    then the case's and its task's rows."""
    async with matching.unit_of_work() as uow:
        conn = uow.connection
        await tasks.lock_community(conn, community)
        case = await tasks.case(conn, case_id, lock=True)
        task = await staff.case_task(conn, case_id, case.level)
        held = await assignments.of_task(conn, task.task_id) if task else ()
        await decided(uow, await decide(conn, case, task, held), language(who, lang))
        uow.after_commit(lambda: dispatch(matching, [community]))


@router.post("/cases/{case_id}/escalate", openapi_extra=documented(Escalate))
async def escalate(case_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                   who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """The case moves up a level (past the street: to its staff)."""
    community = await _seen(matching, who, known, f"case {case_id}", staff.case_community, case_id)
    body = await body_of(http, Escalate)

    async def decide(conn, case, task, held):
        return rules.move_up(case, task, held, body.note, staff_ref(who), matching.now(), matching.policy)
    await _case_action(matching, who, community, case_id, lang, decide)
    return {"done": "case.escalated", "case_id": str(case_id)}


@router.post("/cases/{case_id}/close", openapi_extra=documented(Close))
async def close(case_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """The case is closed with its outcome; its return visit falls due as after any closing."""
    community = await _seen(matching, who, known, f"case {case_id}", staff.case_community, case_id)
    body = await body_of(http, Close)

    async def decide(conn, case, task, held):
        return rules.close(case, task, held, body.outcome, body.hours, body.note, staff_ref(who), matching.now(),
                           matching.policy)
    await _case_action(matching, who, community, case_id, lang, decide)
    return {"done": "case.closed", "case_id": str(case_id)}


@router.post("/cases/{case_id}/return-visit", openapi_extra=documented(ReturnVisit))
async def return_visit(case_id: UUID, http: Request, lang: str | None = None, matching: Matching = Depends(deps_of),
                       who: Caller = Depends(ACTING), known: Areas = Depends(areas)):
    """The return visit (回访) of a closed case, with the resident's satisfaction."""
    community = await _seen(matching, who, known, f"case {case_id}", staff.case_community, case_id)
    body = await body_of(http, ReturnVisit)

    async def decide(conn, case, task, held):
        return rules.return_visit(case, await staff.return_visited(conn, case_id), body.satisfaction, body.note,
                                  staff_ref(who), matching.now())
    await _case_action(matching, who, community, case_id, lang, decide)
    return {"done": "case.return_visited", "case_id": str(case_id)}
