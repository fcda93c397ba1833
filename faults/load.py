"""The load: who registers, what is published, and the simulated volunteers and mediators who
answer their offers and report the work done, all through `linli.intake` as the outside systems
would (each source as its own broker user, `user_id` set), and a tap on `linli.events` that hears
what linli says.

Every publish waits for the broker's confirm and is retried (same message id, same body) until
it is confirmed, so a broker outage delays the load but never silently drops part of it: what is
lost afterwards is linli's doing, not the harness's."""
import asyncio
import contextlib
import json
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aio_pika

from shared.settings import Settings
from tests.support import as_user

CONNECT_TIMEOUT_SECONDS = 10
PUBLISH_TIMEOUT_SECONDS = 10
TAP_QUEUE = "faults.tap"
COMMUNITIES = ("c-north", "c-south", "c-east")
MEDIATION_GRID = "g-north-1"
REQUEST_SOURCES = ("hotline-12345", "grid-platform")
POISON_PREFIX = "poison-"
OVERTIME_EVERY_SECONDS = 1.0


def volunteer(index: int) -> dict:
    return {"source": "volunteer-app", "external_id": f"fv-{index:04d}", "name": "志愿者", "phone": f"139{index:08d}",
            "community_code": COMMUNITIES[index % len(COMMUNITIES)], "team": "映山红",
            "skills": ["cooking", "cleaning"], "max_weekly_hours": 168}


def mediator(index: int) -> dict:
    return {"source": "volunteer-app", "external_id": f"fm-{index:04d}", "name": "调解员", "phone": f"137{index:08d}",
            "community_code": COMMUNITIES[0], "grid_code": MEDIATION_GRID, "team": "君子兰",
            "skills": ["mediation", "legal"], "max_weekly_hours": 168}


def probe(round_: int) -> dict:
    """A paused volunteer (never offered work) whose profile the suite updates after a fault:
    intake answers each update with `volunteer.registered`, so work can be seen to move even when
    the load has nothing left to publish."""
    return {**volunteer(0), "external_id": "fp-probe", "team": f"probe-{round_}", "active": False}


def request(index: int, external_id: str | None = None) -> dict:
    """A full-size request: description, address, beneficiary with a phone of their own (so no two
    are linked as the same need)."""
    return {"source": REQUEST_SOURCES[index % len(REQUEST_SOURCES)], "external_id": external_id or f"fr-{index:05d}",
            "category": "elder_care.meals", "community_code": COMMUNITIES[index % len(COMMUNITIES)],
            "description": "独居老人行动不便,需要志愿者每天中午送餐上门,并陪同聊天半小时。" * 3,
            "address": f"星河社区{index % 40 + 1}号楼{index % 6 + 1}单元{index % 30 + 101}室",
            "beneficiary": {"name": "张奶奶", "phone": f"138{index:08d}", "tags": ["living_alone", "elderly"]}}


def poison(index: int) -> dict:
    """Well-formed, so intake does not reject it; the suite's trigger makes storing it fail every time."""
    return request(index, f"{POISON_PREFIX}{index:04d}")


def case(index: int) -> dict:
    return {"source": "grid-platform", "external_id": f"fc-{index:04d}", "community_code": COMMUNITIES[0],
            "grid_code": MEDIATION_GRID, "dispute_type": "noise", "summary": "楼上装修噪音影响邻居休息,双方多次争吵。",
            "parties": [{"name": "李先生", "role": "applicant"}, {"name": "王女士", "role": "respondent"}]}


def declines(assignment_id: str, percent: int) -> bool:
    """Whether the simulated volunteer declines this offer: a fixed share, the same on every replay."""
    return zlib.crc32(assignment_id.encode()) % 100 < percent


class Sender:
    """Publishes on linli.intake as each source's broker user, confirmed, retried until `deadline`."""

    def __init__(self, settings: Settings, deadline: float):
        self.settings, self.deadline = settings, deadline
        self._connections: dict[str, aio_pika.abc.AbstractConnection] = {}
        self._exchanges: dict[str, aio_pika.abc.AbstractExchange] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.retries = 0

    async def _exchange(self, user: str) -> aio_pika.abc.AbstractExchange:
        if user not in self._exchanges:
            connection = await aio_pika.connect(as_user(self.settings, user), timeout=CONNECT_TIMEOUT_SECONDS)
            self._connections[user] = connection
            channel = await connection.channel(publisher_confirms=True)
            self._exchanges[user] = await channel.get_exchange("linli.intake")
        return self._exchanges[user]

    async def _drop(self, user: str) -> None:
        self._exchanges.pop(user, None)
        if connection := self._connections.pop(user, None):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)

    async def send(self, user: str, routing_key: str, body: dict, message_id: str) -> None:
        lock = self._locks.setdefault(user, asyncio.Lock())
        while True:
            try:
                async with lock:
                    exchange = await self._exchange(user)
                    await exchange.publish(aio_pika.Message(
                        json.dumps(body, ensure_ascii=False).encode(), content_type="application/json",
                        message_id=message_id, user_id=user, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key=routing_key, timeout=PUBLISH_TIMEOUT_SECONDS)
                return
            except Exception as error:  # the broker is down or the connection was cut: again, same message
                if time.monotonic() > self.deadline:
                    raise TimeoutError(f"the broker did not confirm {routing_key} {message_id} as {user}: {error!r}")
                self.retries += 1
                async with lock:
                    await self._drop(user)
                await asyncio.sleep(1)

    async def close(self) -> None:
        for user in list(self._connections):
            await self._drop(user)


class Feed:
    """The requests and cases, published slice by slice so that every fault has load running
    through it, however long the faults before it took: `during(seconds)` publishes the share of
    the load that `seconds` are of the `planned` seconds still ahead, evenly over them."""

    def __init__(self, sender: Sender, requests: list[dict], cases: list[dict], planned: float):
        self.sender, self.requests, self.cases, self.planned = sender, requests, cases, planned
        self.published: dict[str, float] = {}  # external id -> when it was published (monotonic)
        self._planned_left, self._next = planned, 0
        self._case_every = max(1, len(requests) // max(1, len(cases)))

    async def during(self, seconds: float, fault: asyncio.Future | None = None) -> None:
        """Publish the share of `seconds` in what is left of the plan; while `fault` is not over
        yet (a recovery slower than planned), go on with a trickle, so that work can be seen to
        move again, taking from the later shares."""
        left = len(self.requests) - self._next
        count = round(left * min(1.0, seconds / self._planned_left))
        self._planned_left = max(1e-6, self._planned_left - seconds)
        started, every = time.monotonic(), seconds / max(1, count)
        for step in range(count):
            await asyncio.sleep(max(0.0, started + step * every - time.monotonic()))
            await self._publish()
        while fault is not None and not fault.done() and self._next < len(self.requests):
            await asyncio.sleep(OVERTIME_EVERY_SECONDS)
            await self._publish()

    async def rest(self) -> None:
        while self._next < len(self.requests):
            await self._publish()
        for body in self.cases[(len(self.requests) - 1) // self._case_every + 1:]:
            await self.sender.send(body["source"], "case.submit", body, f"submit-{body['external_id']}")

    async def _publish(self) -> None:
        index, self._next = self._next, self._next + 1
        body = self.requests[index]
        self.published[body["external_id"]] = time.monotonic()
        await self.sender.send(body["source"], "request.submit", body, f"submit-{body['external_id']}")
        if index % self._case_every == 0 and index // self._case_every < len(self.cases):
            body = self.cases[index // self._case_every]
            await self.sender.send(body["source"], "case.submit", body, f"submit-{body['external_id']}")


@dataclass
class Heard:
    at: float
    routing_key: str
    body: dict


@dataclass
class Simulation:
    """What the tap heard (once per message id), and the volunteers' answers it sent."""

    sender: Sender
    decline_percent: int
    heard: dict[str, Heard] = field(default_factory=dict)
    last_heard: float = 0.0
    declined: int = 0
    completed: dict[str, str] = field(default_factory=dict)  # request or case id -> assignment completed
    _tasks: set[asyncio.Task] = field(default_factory=set)

    def of(self, routing_key: str) -> list[Heard]:
        return [h for h in self.heard.values() if h.routing_key == routing_key]

    def hear(self, message_id: str, routing_key: str, body: dict) -> None:
        if message_id in self.heard:
            return  # the tap's own redelivery
        self.heard[message_id] = Heard(time.monotonic(), routing_key, body)
        self.last_heard = time.monotonic()
        if routing_key == "assignment.offered":
            self._spawn(self._answer(body))
        elif routing_key == "assignment.accepted":
            self._spawn(self._complete(body))

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, offer: dict) -> None:
        no = declines(offer["assignment_id"], self.decline_percent)
        self.declined += no
        answer = {"assignment_id": offer["assignment_id"], "source": offer["volunteer"]["source"],
                  "volunteer_external_id": offer["volunteer"]["external_id"], "accept": not no}
        if no:
            answer["reason"] = "这周没空"
        await self.sender.send(offer["volunteer"]["source"], "assignment.respond", answer,
                               f"respond-{offer['assignment_id']}")

    async def _complete(self, accepted: dict) -> None:
        done = {"assignment_id": accepted["assignment_id"], "hours": 1.5, "people_served": 1}
        if accepted.get("case_id"):
            done["outcome"] = "agreement"
        self.completed[accepted.get("case_id") or accepted["request_id"]] = accepted["assignment_id"]
        await self.sender.send(accepted["volunteer"]["source"], "service.complete", done,
                               f"complete-{accepted['assignment_id']}")

    async def settle(self) -> None:
        """Wait for every answer still being sent."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def heard_after(self, moment: float, timeout: float, what: str) -> float:
        """Seconds from `moment` until the tap hears anything published after it."""
        deadline = time.monotonic() + timeout
        while self.last_heard <= moment:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no event on linli.events for {timeout:g}s after {what}")
            await asyncio.sleep(0.1)
        return self.last_heard - moment


@contextlib.asynccontextmanager
async def tapped(settings: Settings, simulation: Simulation) -> AsyncIterator[Simulation]:
    """The simulation, hearing linli.events through a durable queue of the harness's own (as the
    broker's admin, so that it survives the broker's restarts and misses nothing while the
    harness reconnects)."""
    connection = await aio_pika.connect_robust(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT_SECONDS,
                                               reconnect_interval=1)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=200)
        queue = await channel.declare_queue(TAP_QUEUE, durable=True)
        await queue.bind(await channel.get_exchange("linli.events"), routing_key="#")

        async def hear(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                simulation.hear(message.message_id or str(id(message)), message.routing_key, json.loads(message.body))

        await queue.consume(hear)
        yield simulation
