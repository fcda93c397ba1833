"""AMQP identity is the broker's (issue 12): every service and source connects as its own user
with only the permissions its declarations give it; intake binds each submission to the user
that published it; the broker and the consumers refuse oversized messages."""
import asyncio
import logging
import shutil
import subprocess
import uuid
from urllib.parse import quote

import aio_pika
import aiormq
import httpx
import pytest

from services.intake.app import SERVICE as INTAKE
from services.notify.app import SERVICE as NOTIFY
from shared.broker_users import OBSERVER, OPS, SCALER, load_passwords, vhost_of
from shared.consumer import MAX_EVENT_BYTES
from shared.topology import EVENTS, INTAKE as INTAKE_EXCHANGE
from tests.servers import BROKER_USERS, CONNECT_TIMEOUT
from tests.support import as_user, event_tap, eventually, publish, running

pytestmark = pytest.mark.integration

local = pytest.mark.skipif(not shutil.which("rabbitmqctl"), reason="needs rabbitmqctl (a broker on this machine)")


@pytest.fixture(scope="module")
async def intake(settings):
    async with running(INTAKE, settings) as client:
        yield client


def response(source: str = "volunteer-app", **changes) -> dict:
    return {"assignment_id": str(uuid.uuid4()), "volunteer_external_id": "v-1", "source": source,
            "accept": True, **changes}


def registration(source: str, external_id: str, phone: str) -> dict:
    return {"source": source, "external_id": external_id, "name": "志愿者", "phone": phone,
            "community_code": "c-east", "skills": ["cooking"]}


async def refused(settings, user: str, act, code: type[Exception] = aiormq.exceptions.ChannelAccessRefused) -> str:
    """Run `act(channel)` as `user`: the broker closes the channel with `code`; returns its text."""
    connection = await aio_pika.connect(as_user(settings, user), timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel()
        with pytest.raises(code) as refusal:
            await act(channel)
            await asyncio.sleep(0.5)  # a refused publish closes the channel asynchronously
            await channel.get_exchange(EVENTS.name)  # … and the next call on it says why
    return str(refusal.value)


def reading(queue: str):
    """Take a message from `queue` (a passive declare checks no permission; reading does)."""
    async def act(channel):
        await (await channel.get_queue(queue)).get(fail=False)
    return act


def sending(exchange: str, routing_key: str, body: bytes = b"{}", **properties):
    async def act(channel):
        target = await channel.get_exchange(exchange)
        await target.publish(aio_pika.Message(body, **properties), routing_key=routing_key)
    return act


@local
async def test_each_service_connects_as_its_own_user(intake, settings):
    listed = subprocess.run(["rabbitmqctl", "list_connections", "-q", "user", "vhost"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    users = {line.split("\t")[0] for line in listed if line.endswith("\t" + vhost_of(settings.rabbitmq_url))}
    assert "linli-intake" in users and "guest" not in users


async def test_a_source_publishes_only_its_own_kinds_to_intake(settings):
    hotline = "hotline-12345"
    assert "ACCESS_REFUSED" in await refused(settings, hotline, sending(INTAKE_EXCHANGE.name, "assignment.respond",
                                                                          user_id=hotline))
    assert "ACCESS_REFUSED" in await refused(settings, "volunteer-app", sending(INTAKE_EXCHANGE.name, "request.submit",
                                                                                user_id="volunteer-app"))
    # Nor on linli.events (a forged event), nor a queue of its own, nor a service's queue.
    assert "ACCESS_REFUSED" in await refused(settings, hotline, sending(EVENTS.name, "request.received"))
    assert "ACCESS_REFUSED" in await refused(settings, hotline, lambda channel: channel.declare_queue("mine"))
    assert "ACCESS_REFUSED" in await refused(
        settings, hotline, lambda channel: channel.declare_exchange("linli.mine", aio_pika.ExchangeType.TOPIC))


async def test_the_broker_refuses_a_user_id_other_than_the_connections_user(settings):
    text = await refused(settings, "volunteer-app-2", sending(INTAKE_EXCHANGE.name, "assignment.respond",
                                                              user_id="volunteer-app"),
                         aiormq.exceptions.ChannelPreconditionFailed)
    assert "user_id property set to 'volunteer-app' but authenticated user was 'volunteer-app-2'" in text


async def test_intake_rejects_a_submission_without_user_id_or_naming_another_source(intake, settings):
    forged, anonymous, own = response(), response(), response("volunteer-app-2")
    async with event_tap(settings) as tap:
        await publish(settings, "assignment.respond", forged, user="volunteer-app-2")
        await publish(settings, "assignment.respond", anonymous, user_id=None)
        await publish(settings, "assignment.respond", own, user="volunteer-app-2")
        rejected = await tap.wait_for("response.rejected", 2)
        [responded] = await tap.wait_for("assignment.responded")
    reasons = sorted(event["reason"] for event in rejected)
    assert reasons == ["source 'volunteer-app' is not the one of the broker user (the message's user_id) "
                       "('volunteer-app-2')",
                       "the message has no user_id: a publisher sets it to its broker user, the id of its source"]
    assert all(e["source"] == "volunteer-app" for e in rejected)
    assert responded["assignment_id"] == own["assignment_id"] and responded["source"] == "volunteer-app-2"


async def test_a_report_of_service_carries_its_publisher_for_matching(intake, settings):
    report = {"assignment_id": str(uuid.uuid4()), "hours": 1.0, "people_served": 1}
    async with event_tap(settings) as tap:
        await publish(settings, "service.complete", report, user="volunteer-app-2")
        [reported] = await tap.wait_for("completion.reported")
    assert reported["reported_by"] == "volunteer-app-2"


async def test_a_re_registration_by_another_source_cannot_take_over_a_volunteer(intake, settings):
    external_id = f"v-{uuid.uuid4().hex[:8]}"
    async with event_tap(settings, "linli.personal") as tap:  # whole: the phone tells them apart
        await publish(settings, "volunteer.register", registration("volunteer-app", external_id, "13900000001"))
        [first] = await tap.wait_for("volunteer.registered")
        await publish(settings, "volunteer.register", registration("volunteer-app-2", external_id, "13900000666"))
        await publish(settings, "volunteer.register", registration("volunteer-app", external_id, "13900000002"))
        registered = await tap.wait_for("volunteer.registered", 3)
    ids = {(e["source"], e["phone"]): e["volunteer_id"] for e in registered}
    # The same external id at another source is another volunteer; only the source updates its own.
    assert ids[("volunteer-app-2", "13900000666")] != first["volunteer_id"]
    assert ids[("volunteer-app", "13900000002")] == first["volunteer_id"]


async def test_a_service_publishes_only_the_events_it_owns(settings):
    forged = sending(EVENTS.name, "assignment.accepted", user_id="linli-notify")
    assert "ACCESS_REFUSED" in await refused(settings, "linli-notify", forged)
    assert "ACCESS_REFUSED" in await refused(settings, "linli-reporting", sending(EVENTS.name, "request.received"))
    assert "ACCESS_REFUSED" in await refused(settings, "linli-notify", sending(INTAKE_EXCHANGE.name, "request.submit"))
    # … and reads no other service's queue.
    assert "ACCESS_REFUSED" in await refused(settings, "linli-notify",
                                             reading("intake.request-submit"))


async def test_the_observer_binds_to_linli_events_and_does_nothing_else(intake, settings):
    for observer in (OBSERVER, OPS):
        async with event_tap(settings, user=observer) as tap:
            await publish(settings, "request.submit", b"[]")  # a rejection, published by intake
            await tap.wait_for("request.rejected")
        if observer == OBSERVER:  # ops may publish on linli.events: `linli dlq replay`
            assert "ACCESS_REFUSED" in await refused(settings, observer, sending(EVENTS.name, "request.received"))
        assert "ACCESS_REFUSED" in await refused(settings, observer, sending(INTAKE_EXCHANGE.name, "request.submit"))
        assert "ACCESS_REFUSED" in await refused(settings, observer,
                                                 reading("intake.request-submit"))

        async def bind_personal(channel):
            queue = await channel.declare_queue(exclusive=True)
            await queue.bind("linli.personal", routing_key="#")
        assert "ACCESS_REFUSED" in await refused(settings, observer, bind_personal)
    # ops also reads the dead letters; the observer does not.
    assert "ACCESS_REFUSED" in await refused(settings, OBSERVER, reading("intake.request-submit.dlq"))
    connection = await aio_pika.connect(as_user(settings, OPS), timeout=CONNECT_TIMEOUT)
    async with connection:
        await reading("intake.request-submit.dlq")(await connection.channel())


async def test_an_event_over_the_limit_is_dead_lettered_unread_with_its_size_and_queue(fresh_settings, caplog):
    # A vhost of its own: notify's queues, once declared, would collect the other tests' events.
    settings = fresh_settings
    secret = "13912345678"
    body = ('{"note": "' + secret + "x" * (MAX_EVENT_BYTES + 1) + '"}').encode()
    caplog.set_level(logging.ERROR, logger="shared.consumer")
    async with running(NOTIFY, settings):
        message_id = await publish(settings, "assignment.offered", body, exchange="linli.personal")
        dead = await eventually(lambda: _dead_letter_ids(settings, "notify.assignment-offered.dlq"))
    assert message_id in dead
    [line] = [r.getMessage() for r in caplog.records if "over the limit" in r.getMessage()]
    assert line == (f"notify.assignment-offered: a message of {len(body)} bytes is over the limit of "
                    f"{MAX_EVENT_BYTES} bytes, dead-lettered unread")
    assert secret not in caplog.text


@local
async def test_the_broker_refuses_a_message_over_its_max_message_size(settings):
    # The setting of scripts/ensure-servers.sh (at run time; rabbitmq.conf's max_message_size elsewhere).
    limit = 1048576
    subprocess.run(["rabbitmqctl", "eval"], input=f"application:set_env(rabbit, max_message_size, {limit}).",
                   text=True, capture_output=True, check=True)
    text = await refused(settings, "hotline-12345", sending(INTAKE_EXCHANGE.name, "request.submit", b"x" * (limit + 1),
                                                            user_id="hotline-12345"),
                         aiormq.exceptions.ChannelPreconditionFailed)
    assert f"larger than configured max size {limit}" in text


async def _dead_letter_ids(settings, queue: str) -> list[str]:
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.get_queue(queue)
        messages = []
        while message := await dlq.get(fail=False, no_ack=False):
            messages.append(message)
        for message in messages:
            await message.nack(requeue=True)
        return [message.message_id for message in messages]


async def test_the_scaler_sees_queue_depths_and_touches_no_message(intake, settings):
    """KEDA's user (linli-scaler): the management API shows it the vhost's queues; AMQP lets it
    read, publish and declare nothing."""
    password = load_passwords(str(BROKER_USERS))[SCALER]
    vhost = quote(vhost_of(settings.rabbitmq_url), safe="")
    async with httpx.AsyncClient(timeout=10) as client:
        async def depth():  # the broker emits a new queue's statistics within a few seconds
            answer = await client.get(f"http://127.0.0.1:15672/api/queues/{vhost}/intake.request-submit",
                                      auth=(SCALER, password))
            assert answer.status_code == 200, answer.text
            return "messages" in answer.json()
        assert await eventually(depth, timeout=30)
    assert "ACCESS_REFUSED" in await refused(settings, SCALER, reading("intake.request-submit"))
    assert "ACCESS_REFUSED" in await refused(settings, SCALER, sending(EVENTS.name, "request.received"))

    async def declare(channel):
        await channel.declare_queue(exclusive=True)
    assert "ACCESS_REFUSED" in await refused(settings, SCALER, declare)
