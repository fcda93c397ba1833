"""A city's day through the real bus: the outside systems publish on `linli.intake` as their own
broker users (`user_id` set), the volunteer app answers the offers it hears on `linli.events`
(as the read-only observer) and reports the work done. `linli simulate` and the benchmarks run it;
what to publish and how each volunteer answers are decided in operations/day.py."""
import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aio_pika

from operations import day
from operations.reach import BROKER_TIMEOUT
from shared.broker_users import OBSERVER, load_passwords, url_as
from shared.settings import Settings

PUBLISH_TIMEOUT_SECONDS = 10
PUBLISH_ATTEMPTS = 3
# What each event says of the request or case it names; a later stage never goes back to an earlier one.
STAGES = {"request.received": "received", "request.assigned": "assigned", "request.completed": "completed",
          "request.escalated": "escalated", "request.rejected": "rejected", "request.duplicate": "duplicate",
          "case.received": "received", "case.assigned": "assigned", "case.closed": "closed",
          "case.rejected": "rejected"}
RANK = {"submitted": 0, "received": 1, "assigned": 2, "completed": 3, "closed": 3, "escalated": 3,
        "rejected": 3, "duplicate": 3}
ENDS = frozenset({"completed", "closed", "escalated", "rejected", "duplicate"})


class BrokerUnavailable(Exception):
    """The broker did not answer, or refused one of the simulation's users."""


# What a lost or refused broker connection raises, whichever call meets it.
BROKER_ERRORS = (BrokerUnavailable, aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError,
                 OSError, asyncio.TimeoutError)


class NotAnnounced(Exception):
    """linli did not announce what the simulation published in time (are its services running?)."""


@dataclass(frozen=True)
class Users:
    """The broker users the outside systems publish as (their `source` ids)."""

    hotline: str = "hotline-12345"
    grid: str = "grid-platform-3"
    volunteer_app: str = "volunteer-app"


@dataclass
class Simulation:
    """The outside systems of one run. `compression` is real seconds per second of the city's
    day (0: everything at once); `complete` whether volunteers report the work done (else an
    assigned request is where it ends)."""

    settings: Settings
    users: Users = Users()
    policy: day.AnswerPolicy = day.AnswerPolicy()
    compression: float = 0.0
    seed: int = 0
    complete: bool = True
    outcomes: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, external id) -> stage
    counts: Counter = field(default_factory=Counter)  # events about the run's own requests and cases
    registered: set[tuple[str, str]] = field(default_factory=set)  # the run's volunteers intake announced
    decisions: Counter = field(default_factory=Counter)  # accept / decline / ignore, as the volunteers chose
    _heard: set[str] = field(default_factory=set)
    _exchanges: dict[str, aio_pika.abc.AbstractExchange] = field(default_factory=dict)
    _tasks: set[asyncio.Task] = field(default_factory=set)
    _failed: BaseException | None = None  # a lost connection, or an answer or report that could not be sent
    _closing: bool = False
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def __aenter__(self) -> "Simulation":
        try:
            for user in {self.users.hotline, self.users.grid, self.users.volunteer_app}:
                self._exchanges[user] = await self._publisher(user)
            await self._listen()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        await self._stack.aclose()

    async def _connect(self, user: str) -> aio_pika.abc.AbstractConnection:
        password = load_passwords(self.settings.broker_users_file).get(user)
        if password is None:
            raise BrokerUnavailable(f"no password for the broker user {user!r} in BROKER_USERS_FILE "
                                    f"({self.settings.broker_users_file or 'unset'}; "
                                    "development: deploy/broker-users.dev.json)")
        try:
            connection = await aio_pika.connect(url_as(self.settings.rabbitmq_url, user, password),
                                                timeout=BROKER_TIMEOUT)
        except (OSError, asyncio.TimeoutError, aio_pika.exceptions.AMQPError) as error:
            raise BrokerUnavailable(f"could not connect as {user} ({type(error).__name__}: {error})") from error
        connection.close_callbacks.add(self._lost)
        return await self._stack.enter_async_context(connection)

    def _lost(self, _connection, error: BaseException | None) -> None:
        if not self._closing:
            self._failed = self._failed or BrokerUnavailable(f"the connection was lost ({error or 'closed'})")

    async def _publisher(self, user: str) -> aio_pika.abc.AbstractExchange:
        channel = await (await self._connect(user)).channel(publisher_confirms=True)
        return await channel.get_exchange("linli.intake")  # passive: publishers declare nothing

    async def _listen(self) -> None:
        """A server-named queue of the observer's own on `linli.events`, every key."""
        channel = await (await self._connect(OBSERVER)).channel()
        await channel.set_qos(prefetch_count=500)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(await channel.get_exchange("linli.events"), routing_key="#")
        await queue.consume(self._hear)

    async def publish(self, user: str, routing_key: str, body: dict) -> None:
        """Published and confirmed; a confirm that did not come within PUBLISH_TIMEOUT_SECONDS (a
        broker busy with a burst) is published again under the same message id, PUBLISH_ATTEMPTS
        times in all: linli takes a message once however many copies come."""
        message = aio_pika.Message(
            json.dumps(body, ensure_ascii=False).encode(), content_type="application/json",
            message_id=str(uuid.uuid4()), user_id=user, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                await self._exchanges[user].publish(message, routing_key=routing_key, timeout=PUBLISH_TIMEOUT_SECONDS)
                return
            except asyncio.TimeoutError:
                if attempt == PUBLISH_ATTEMPTS:
                    raise

    # --- what the simulation hears ---
    async def _hear(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            if message.message_id in self._heard:
                return
            self._heard.add(message.message_id)
            self.hear(message.routing_key, json.loads(message.body))

    def hear(self, routing_key: str, body: dict) -> None:
        """Follow an event about the run's own volunteers, requests and cases (others' are let be)."""
        key = (body.get("source"), body.get("external_id"))
        if routing_key == "volunteer.registered":
            self.registered.add(key)
        if key not in self.outcomes:
            return
        self.counts[routing_key] += 1
        stage = STAGES.get(routing_key)
        if routing_key == "case.escalated" and body.get("level") == "street_staff":
            stage = "escalated"
        if stage and RANK[stage] > RANK[self.outcomes[key]]:
            self.outcomes[key] = stage
        if routing_key == "assignment.offered":
            self._spawn(self._answer(body))
        elif routing_key == "assignment.accepted" and self.complete:
            self._spawn(self._report_done(body))

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._failed = self._failed or task.exception()

    def _rng(self, *about: str) -> random.Random:
        """The same choice for the same offer in every run of a seed, whatever order offers come in."""
        return random.Random(":".join((str(self.seed), *about)))

    async def _answer(self, offer: dict) -> None:
        volunteer = offer["volunteer"]
        choice = day.answer(self.policy, self._rng("answer", offer["external_id"], volunteer["external_id"]))
        self.decisions[choice.kind] += 1
        if choice.kind == "ignore":
            return  # the offer expires after the services' MATCHING_OFFER_TIMEOUT_SECONDS
        await asyncio.sleep(choice.after_seconds * self.compression)
        answer = {"assignment_id": offer["assignment_id"], "source": volunteer["source"],
                  "volunteer_external_id": volunteer["external_id"], "accept": choice.kind == "accept"}
        if choice.kind == "decline":
            answer["reason"] = "这段时间没空"
        await self.publish(self.users.volunteer_app, "assignment.respond", answer)

    async def _report_done(self, accepted: dict) -> None:
        is_case = accepted.get("case_id") is not None
        hours = day.MEDIATION_HOURS if is_case else day.service_hours(accepted["category"])
        await asyncio.sleep(hours * 3600 * self.compression)
        done = {"assignment_id": accepted["assignment_id"], "hours": hours, "people_served": 1}
        if is_case:
            agreed = day.agreed(self._rng("outcome", accepted["external_id"], accepted["level"] or ""))
            done["outcome"] = "agreement" if agreed else "no_agreement"
        await self.publish(self.users.volunteer_app, "service.complete", done)

    # --- what the simulation does ---
    async def register(self, people: list[dict], timeout: float) -> None:
        """Register everyone through the volunteer app and wait until intake announced them all."""
        keys = {(person["source"], person["external_id"]) for person in people}
        for person in people:
            await self.publish(self.users.volunteer_app, "volunteer.register", person)
        if not await self._until(lambda: keys <= self.registered, timeout):
            raise NotAnnounced(f"intake announced {len(keys & self.registered)} of the {len(keys)} volunteers "
                               f"registered within {timeout:g}s")
        await asyncio.sleep(1)  # matching applies the roster from a queue of its own, just after

    async def submit(self, submission: day.Submission) -> None:
        self.outcomes[(submission.body["source"], submission.body["external_id"])] = "submitted"
        user = self.users.hotline if submission.routing_key == "request.submit" else self.users.grid
        await self.publish(user, submission.routing_key, submission.body)

    async def run(self, submissions: list[day.Submission]) -> None:
        """Publish the day's submissions at their times, compressed."""
        started = time.monotonic()
        for submission in submissions:
            await asyncio.sleep(max(0.0, started + submission.at * self.compression - time.monotonic()))
            await self.submit(submission)

    def settled(self) -> int:
        """How many submissions have reached their end (an assigned request counts when nobody reports done)."""
        ends = ENDS if self.complete else ENDS | {"assigned"}
        return sum(1 for stage in self.outcomes.values() if stage in ends)

    async def settle(self, timeout: float) -> bool:
        """Wait until every submission has its end, or `timeout` passed; whether all did."""
        return await self._until(lambda: self.settled() == len(self.outcomes), timeout)

    async def _until(self, check, timeout: float) -> bool:
        """Whether `check` came true within `timeout` seconds; raises what a volunteer's answer
        or report met if one could not be sent (the broker went away)."""
        deadline = time.monotonic() + timeout
        while not check():
            if self._failed is not None:
                raise self._failed
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def summary(self) -> dict:
        """What happened to the day's requests and cases, and to the offers made for them."""
        requests = Counter(stage for (source, _), stage in self.outcomes.items() if source == self.users.hotline)
        cases = Counter(stage for (source, _), stage in self.outcomes.items() if source == self.users.grid)
        return {"submitted": sum(requests.values()), "offered": self.counts["assignment.offered"],
                "accepted": self.counts["assignment.accepted"], "declined": self.counts["assignment.declined"],
                "expired": self.counts["assignment.expired"], "withdrawn": self.counts["assignment.withdrawn"],
                "assigned": self.counts["request.assigned"], "completed": requests["completed"],
                "escalated": requests["escalated"], "rejected": requests["rejected"],
                "duplicate": requests["duplicate"],
                "requests": dict(sorted(requests.items())),
                "cases": {"submitted": sum(cases.values()), "closed": cases["closed"],
                          "escalated_to_staff": cases["escalated"], "escalations": self.counts["case.escalated"],
                          "by_stage": dict(sorted(cases.items()))},
                "volunteers_chose": dict(sorted(self.decisions.items())),
                "unsettled": len(self.outcomes) - self.settled()}
