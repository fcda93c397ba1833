"""Forgeries over the real broker, the four services running as processes with their own users
(issue 12): an answer for another app's volunteer is rejected by intake, an event forged on
`linli.events` by a source is refused by the broker (and notify sends nothing), and the
observer sees the events but can neither publish nor read the services' queues."""
import asyncio
import json
import uuid

import aio_pika
import aiormq
import httpx
import pytest

from tests.e2e.processes import system
from tests.identities import as_volunteer
from tests.servers import CONNECT_TIMEOUT
from tests.support import as_user, event_tap, publish
from tests.webhook_receiver import SECRET, receiving

pytestmark = pytest.mark.e2e

TIMEOUT = 60


async def refused_publish(settings, user: str, exchange: str, routing_key: str, body: dict) -> str:
    """Publish as `user`: the broker closes the channel; returns what it said."""
    connection = await aio_pika.connect(as_user(settings, user), timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel()
        target = await channel.get_exchange(exchange)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused) as refusal:
            await target.publish(aio_pika.Message(json.dumps(body).encode(), user_id=user), routing_key=routing_key)
            await asyncio.sleep(0.5)
            await channel.get_exchange(exchange)
    return str(refusal.value)


async def test_forged_answers_and_forged_events_are_refused(fresh_settings, tmp_path):
    settings = fresh_settings
    volunteer = {"source": "volunteer-app", "external_id": f"v-{uuid.uuid4().hex[:8]}", "name": "志愿者",
                 "phone": "13900000000", "community_code": "c-forge", "skills": ["cooking"]}
    request = {"source": "hotline-12345", "external_id": f"h-{uuid.uuid4().hex[:8]}",
               "category": "elder_care.meals", "description": "独居老人需要送餐", "community_code": "c-forge",
               "address": "幸福路 1 号", "beneficiary": {"name": "张奶奶", "phone": "13800000001"}}
    async with receiving() as receiver:
        webhook = {"NOTIFY_WEBHOOK_URL": receiver.url, "NOTIFY_WEBHOOK_SECRET": SECRET}
        with system(settings, tmp_path, **webhook) as services:
            async with event_tap(settings) as tap:  # the read-only observer
                await publish(settings, "volunteer.register", volunteer)
                await tap.wait_for("volunteer.registered", 1, TIMEOUT)
                await publish(settings, "request.submit", request)
                [offer] = await tap.wait_for("assignment.offered", 1, TIMEOUT)
                # Another volunteer app, with its own broker user, answers for volunteer-app's volunteer.
                forged = {"assignment_id": offer["assignment_id"], "source": "volunteer-app",
                          "volunteer_external_id": volunteer["external_id"], "accept": True}
                await publish(settings, "assignment.respond", forged, user="volunteer-app-2")
                [rejected] = await tap.wait_for("response.rejected", 1, TIMEOUT)
                # The volunteer app itself forges matching's event on linli.events.
                accepted = {**offer, "event_id": str(uuid.uuid4())}
                refusal = await refused_publish(settings, "volunteer-app", "linli.events", "assignment.accepted",
                                                accepted)
                # The observer may not publish either, nor read a service's queue.
                observer = await refused_publish(settings, "linli-observer", "linli.events", "assignment.accepted",
                                                 accepted)
                connection = await aio_pika.connect(as_user(settings, "linli-observer"),
                                                    timeout=CONNECT_TIMEOUT)
                async with connection:
                    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                        queue = await (await connection.channel()).get_queue("notify.assignment-accepted")
                        await queue.get(fail=False)  # reading (a passive declare checks no permission)
                await asyncio.sleep(3)  # time for anything that got through to be sent
                inbox = httpx.get(f"{services['notify'].url}/api/v1/inbox/volunteer:volunteer-app:"
                                  f"{volunteer['external_id']}", timeout=5,
                                  headers=as_volunteer(volunteer["external_id"])).json()
    assert rejected["reason"] == ("source 'volunteer-app' is not the one of the broker user (the message's "
                                  "user_id) ('volunteer-app-2')")
    assert "ACCESS_REFUSED" in refusal and "linli.events" in refusal
    assert "ACCESS_REFUSED" in observer
    assert tap.of("assignment.accepted") == [] and tap.of("request.assigned") == []
    # The offer went out; nothing about an acceptance (no confirmation with the resident's contact).
    assert [message["kind"] for message in inbox] == ["offer"]
    assert all(json.loads(body)["kind"] == "offer" for body, _ in receiver.calls)
