"""How the shell runs a lifecycle decision (domain/lifecycle.py): it reads what the decision
needs, locked in the order every path takes (the community, then the rows), and applies what
was decided: each change through the store, each event into the outbox, in one unit of work;
and the stages its events show a request reach, whose latencies are observed once it commits."""
from dataclasses import replace
from functools import partial
from itertools import groupby
from operator import itemgetter

from prometheus_client import Histogram

from services.matching.context import Matching
from services.matching.domain.changes import (AddAssignment, AddTask, AskAgain, BookPlace, CloseCase, Decision,
                                              DropReport, FollowUpAnnounced, KeepReport, LinkDuplicate,
                                              MoveAssignment, MoveCase, MoveTask, RecordHandled, RecordReturnVisit,
                                              RecordService, RememberCancellation, ReopenTask, SetSeries,
                                              SettleBooking, WaitForFree, WantOffers, WidenSearch)
from services.matching.domain.lifecycle import Situation
from services.matching.domain.stages import stages_reached
from services.matching.store import assignments, roster, staff, stages, tasks, work
from shared.events import AssignmentResponded, CompletionReported
from shared.metrics import STAGE_BUCKETS
from shared.unit_of_work import UnitOfWork

STAGE_SECONDS = Histogram("linli_request_stage_seconds", "Seconds from one stage of a request to the next, "
                          "once per request: received_to_offered, offered_to_accepted, accepted_to_completed",
                          ["stage"], buckets=STAGE_BUCKETS)

async def _settle(conn, change: SettleBooking) -> None:
    """A booking settled frees the volunteer's place: the tasks waiting for one wake."""
    await roster.settle(conn, change)
    await tasks.wake_waiting(conn, change.volunteer_id)


_STORE = {AddAssignment: assignments.insert, MoveAssignment: assignments.move,
          RecordService: assignments.record_service, SettleBooking: _settle, AddTask: tasks.insert_task,
          MoveTask: tasks.move_task, WaitForFree: tasks.wait_for_free, WidenSearch: tasks.widen,
          MoveCase: tasks.move_case, CloseCase: tasks.close_case, FollowUpAnnounced: tasks.follow_up_announced,
          SetSeries: tasks.set_series, RememberCancellation: tasks.remember_cancellation,
          KeepReport: assignments.keep_report, DropReport: assignments.drop_report,
          # the staff's actions
          BookPlace: staff.book_place, AskAgain: staff.ask_again, ReopenTask: staff.reopen_task,
          RecordHandled: staff.record_handled, LinkDuplicate: staff.link_duplicate,
          RecordReturnVisit: staff.record_return_visit}


# Changes written together when several come in a row: one statement for the run, as
# writing them one after another would do.
_STORE_ALL = {WantOffers: tasks.want_offers_all}


async def apply(uow: UnitOfWork, *decisions: Decision) -> None:
    """Apply the decisions in order; a run of changes of one kind that `_STORE_ALL` writes
    together takes one statement, and the requests' stages one statement a stage."""
    changes = [change for decision in decisions for change in decision.changes]
    events = [event for decision in decisions for event in decision.events]
    for kind, run in groupby(changes, key=type):
        if kind in _STORE_ALL:
            await _STORE_ALL[kind](uow.connection, list(run))
        else:
            for change in run:
                await _STORE[kind](uow.connection, change)
    for event in events:
        await uow.emit(event)
    await work.note(uow.connection, events)
    for stage, reached in groupby(stages_reached(events), key=itemgetter(1)):
        for seconds in await stages.reach(uow.connection, stage, [(request, at) for request, _, at in reached]):
            uow.after_commit(partial(STAGE_SECONDS.labels(stage.label).observe, seconds))


async def situation(uow: UnitOfWork, assignment_id) -> Situation | None:
    """The assignment with its task and all the task's assignments, locked after the task's
    community; None if there is no such assignment."""
    conn = uow.connection
    community = await assignments.community_of(conn, assignment_id)
    if community is None:
        return None
    await tasks.lock_community(conn, community)
    assignment = await assignments.find(conn, assignment_id, lock=True)
    task = await tasks.task(conn, assignment.task_id, lock=True)
    return Situation(task, await tasks.subject(conn, task), await assignments.of_task(conn, task.task_id), assignment)


async def lock_answered(matching: Matching, uow: UnitOfWork,
                        events: list[AssignmentResponded | CompletionReported]) -> None:
    """A batch of answers or reports takes the locks each would take (situation's community,
    with_bookings' volunteer) all first, each kind in its one order, so that two batches never
    hold them in opposite orders."""
    places = await assignments.places_of(uow.connection, [event.assignment_id for event in events])
    await tasks.lock_communities(uow.connection, [community for community, _ in places.values()])
    accepting = [places[e.assignment_id][1] for e in events
                 if isinstance(e, AssignmentResponded) and e.accept and e.assignment_id in places]
    if accepting:
        await roster.lock_volunteers(uow.connection, accepting)


async def with_bookings(uow: UnitOfWork, found: Situation) -> Situation:
    """The situation of an answer with the windows its volunteer already accepted, read under
    the volunteer's lock: of two acceptances at once (in any communities), the second sees the first."""
    volunteer_id = found.assignment.volunteer.volunteer_id
    await roster.lock_volunteer(uow.connection, volunteer_id)
    return replace(found, booked=await assignments.booked(uow.connection, volunteer_id, found.assignment.assignment_id))
