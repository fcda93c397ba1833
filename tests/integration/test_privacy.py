"""Personal data (issue 12, points 5 and 6): an observer of linli.events sees no one's name,
phone, email or address; staff erase a person and no table of any service holds them after,
while the figures stay; the retention sweeper prunes what no longer needs keeping; rejections
are stored masked; reporting's archive keys people with an HMAC and rebuilds the same figures."""
import asyncio
import json
import uuid
from datetime import timedelta

import aio_pika
import asyncpg
import pytest

from services.__main__ import publish_erasure
from services.intake.app import SERVICE as INTAKE
from services.matching.app import SERVICE as MATCHING
from services.notify.app import SERVICE as NOTIFY
from services.reporting.app import SERVICE as REPORTING
from services.reporting.domain.figures import beneficiary_key
from services.reporting.rebuild import rebuild
from services.reporting.store import archive
from shared.database import create_pool
from shared.events import RequestReceived
from shared.submissions import PersonErasure
from shared.topology import service_queue
from tests.builders.notify import offer, registered
from tests.clock import SetClock
from tests.servers import CONNECT_TIMEOUT
from tests.support import announced_and_handled, event_tap, eventually, publish, running, swept

RESIDENT, RESIDENT_PHONE, ADDRESS = "王秀英", "13912345678", "幸福路 8 号 3 单元 501"
VOLUNTEER, VOLUNTEER_PHONE, EMAIL = "张志愿", "13700000077", "zhang.zhiyuan@example.com"
SCHEMAS = ("intake", "matching", "notify", "reporting")


async def rows_naming(database_url: str, secrets: list[str]) -> dict[str, int]:
    """Per table of every service, the rows in which any of `secrets` appears (in bytea, as UTF-8
    bytes: a column may hold binary, e.g. reporting's sketch registers)."""
    patterns = [f"%{s}%" for s in secrets] + [f"%{json.dumps(s)[1:-1]}%" for s in secrets]
    found = {}
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch("SELECT table_schema, table_name FROM information_schema.tables "
                                  "WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'", list(SCHEMAS))
        for schema, table in tables:
            binary = [r["column_name"] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 "
                "AND data_type = 'bytea'", schema, table)]
            where = " OR ".join(["t::text LIKE ANY($1::text[])", *(f"t.{column} LIKE ANY($2::bytea[])"
                                                                   for column in binary)])
            as_bytes = [[pattern.encode() for pattern in patterns]] if binary else []
            if n := await conn.fetchval(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE {where}', patterns,
                                        *as_bytes):
                found[f"{schema}.{table}"] = n
    finally:
        await conn.close()
    return found


async def test_an_observer_sees_no_one_and_an_erased_person_is_gone_from_every_service(fresh_settings):
    settings, place, tag = fresh_settings, f"c-priv-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:6]
    volunteer = {"source": "volunteer-app", "external_id": f"v-{tag}", "name": VOLUNTEER, "phone": VOLUNTEER_PHONE,
                 "email": EMAIL, "community_code": place, "skills": ["cooking"], "location": {"lat": 26.1, "lon": 119.3}}
    request = {"source": "hotline-12345", "external_id": f"r-{tag}", "category": "elder_care.meals",
               "description": f"{RESIDENT} 独居, 需要送餐, 电话 {RESIDENT_PHONE}", "community_code": place,
               "address": ADDRESS, "location": {"lat": 26.1, "lon": 119.3},
               "beneficiary": {"name": RESIDENT, "phone": RESIDENT_PHONE, "tags": ["living_alone"]}}
    secrets = [RESIDENT, RESIDENT_PHONE, ADDRESS, VOLUNTEER, VOLUNTEER_PHONE, EMAIL]
    async with running(INTAKE, settings) as intake, running(MATCHING, settings), running(NOTIFY, settings) as notify, \
            running(REPORTING, settings) as reporting, event_tap(settings) as observer:
        await publish(settings, "volunteer.register", volunteer)
        await observer.wait_for("volunteer.registered")
        await asyncio.sleep(1)  # matching's roster has them
        await publish(settings, "request.submit", request)
        # the same resident again, refused (unknown category): the rejection is stored masked
        await publish(settings, "request.submit", {**request, "external_id": f"bad-{tag}", "category": "nope"})
        [offered] = await observer.wait_for("assignment.offered")
        await publish(settings, "assignment.respond", {"assignment_id": offered["assignment_id"], "accept": True,
                                                      "volunteer_external_id": f"v-{tag}", "source": "volunteer-app"})
        await observer.wait_for("assignment.accepted")
        await publish(settings, "service.complete", {"assignment_id": offered["assignment_id"], "hours": 1.5,
                                                     "people_served": 1, "note": f"给{RESIDENT}送了午餐"})
        await observer.wait_for("request.completed")
        await observer.wait_for("request.rejected")

        async def confirmed():
            await swept(notify)
            async with notify.app.state.runtime.pool.acquire() as conn:
                return await conn.fetchval("SELECT body FROM inbox_message WHERE kind = 'confirmation' AND "
                                           "recipient = $1", f"volunteer:volunteer-app:v-{tag}")
        assert RESIDENT_PHONE in await eventually(confirmed)  # the volunteer who accepted may call them

        async def counted():
            figures = (await reporting.get("/api/v1/reports/summary")).json()["figures"]
            return figures if figures["completed"] == 1 and figures["rejected"] == 1 else None
        figures = await eventually(counted)
        assert figures["case_files"] == 1

        # 5: an observer of linli.events saw it all happen, and no one's name, phone, email or address
        seen = json.dumps([heard.body for heard in observer.heard], ensure_ascii=False)
        assert {"request.received", "volunteer.registered", "assignment.accepted"} <= {h.routing_key for h in
                                                                                      observer.heard}
        assert [secret for secret in secrets if secret in seen] == []
        async with intake.app.state.runtime.pool.acquire() as conn:
            [excerpt] = await conn.fetch("SELECT body_excerpt FROM rejection WHERE external_id = $1", f"bad-{tag}")
        assert RESIDENT not in excerpt[0] and RESIDENT_PHONE not in excerpt[0] and "王**" in excerpt[0]
        assert (await rows_naming(settings.database_url, secrets)).keys() >= {"intake.service_request",
                                                                               "notify.contact", "matching.volunteer"}

        # 6: erase the resident (by phone) and the volunteer; each service says it is done
        await publish_erasure(settings.rabbitmq_url, PersonErasure(requested_by="ops:test", phone=RESIDENT_PHONE))
        await publish_erasure(settings.rabbitmq_url, PersonErasure(
            requested_by="ops:test", volunteer={"source": "volunteer-app", "external_id": f"v-{tag}"}))
        done = await observer.wait_for("erasure.done", 8)
        assert sorted(d["service"] for d in done) == sorted(SCHEMAS * 2)
        erased = observer.of("person.erased")
        # the two erasures are taken at once: in either order
        assert sorted((len(e["requests"]), len(e["volunteers"])) for e in erased) == [(0, 1), (1, 0)]
        assert await rows_naming(settings.database_url, secrets) == {}
        assert (await reporting.get("/api/v1/reports/summary")).json()["figures"] == figures
        # erasing again finds nothing left to change
        await publish_erasure(settings.rabbitmq_url, PersonErasure(requested_by="ops:test", phone=RESIDENT_PHONE))
        again = (await observer.wait_for("erasure.done", 12))[8:]
        assert all(d["changed"] == {} for d in again)
        assert (await intake.get(f"/api/v1/requests/{offered['request_id']}")).status_code == 200  # the record stays
    assert await rebuild(settings) > 0  # the archive holds no one, and gives the same figures
    async with running(REPORTING, settings) as reporting:
        assert (await reporting.get("/api/v1/reports/summary")).json()["figures"] == figures


async def test_the_retention_sweeper_prunes_only_what_is_past_its_days(fresh_settings):
    clock, settings = SetClock(), fresh_settings.model_copy(update={"linli_retention_days": 30})
    async with running(INTAKE, settings, clock=clock) as intake, event_tap(settings) as tap:
        await publish(settings, "request.submit", {"source": "hotline-12345", "external_id": "x", "category": "no"})
        await tap.wait_for("request.rejected")
        retention, pool = intake.app.state.retention, intake.app.state.runtime.pool

        async def published():
            return await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") > 0
        await eventually(published)
        await pool.execute("INSERT INTO outbox (event_id, routing_key, body, correlation_id) "
                           "VALUES ($1, 'request.rejected', '{}', 'c')", uuid.uuid4())  # not published yet
        counts = "SELECT (SELECT count(*) FROM rejection), (SELECT count(*) FROM processed_message), " \
                 "(SELECT count(*) FROM outbox)"
        before = tuple(await pool.fetchrow(counts))
        clock.advance(timedelta(days=29))
        assert not any((await retention.sweep()).values()) and tuple(await pool.fetchrow(counts)) == before
        clock.advance(timedelta(days=2))
        pruned = await retention.sweep()
        assert pruned["rejection"] == before[0] and pruned["processed_message"] == before[1]
        assert tuple(await pool.fetchrow(counts)) == (0, 0, 1)  # the unpublished event waits for the relay


async def test_delivered_notifications_and_inbox_messages_are_pruned_and_pending_ones_kept(fresh_settings):
    clock = SetClock()
    async with running(NOTIFY, fresh_settings, clock=clock) as notify:
        await announced_and_handled(notify, "notify", fresh_settings, registered("v-ret"))
        event = offer("v-ret", at=clock.now(), expires_in=timedelta(hours=1))  # with a reminder, pending
        await announced_and_handled(notify, "notify", fresh_settings, event)
        await swept(notify)
        pool = notify.app.state.runtime.pool
        statuses = "SELECT status, count(*) FROM notification GROUP BY 1"
        assert dict(await pool.fetch(statuses)) == {"sent": 1, "pending": 1}
        clock.advance(timedelta(days=31))
        pruned = await notify.app.state.retention.sweep()
        assert (pruned["inbox_message"], pruned["notification"]) == (1, 1)
        assert dict(await pool.fetch(statuses)) == {"pending": 1}


async def test_requests_archived_before_the_hmac_are_re_keyed_and_kept_public(fresh_settings):
    event = RequestReceived(correlation_id="c", request_id=uuid.uuid4(), source="hotline-12345", external_id="old",
                            category="elder_care.meals", community_code="c-1", description=f"{RESIDENT} 送餐",
                            beneficiary={"name": RESIDENT, "phone": RESIDENT_PHONE})
    key = fresh_settings.reporting_person_key.encode()
    async with running(REPORTING, fresh_settings):
        pass  # its schema, migrated; its own re-keying at start is then done
    pool = await create_pool(fresh_settings.database_url, "reporting", max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("INSERT INTO event_archive (event_id, routing_key, occurred_at, body) "
                               "VALUES ($1, $2, $3, $4)", event.event_id, event.routing_key, event.occurred_at,
                               event.model_dump(mode="json"))  # as reporting kept it before migration 0005
            await conn.execute("INSERT INTO request_fact (request_id, beneficiary) VALUES ($1, 'old-sha256')",
                               event.request_id)
            assert await archive.rekey_legacy(conn, key) == 1
            row = await conn.fetchrow("SELECT body, beneficiary FROM event_archive WHERE event_id = $1",
                                      event.event_id)
            fact = await conn.fetchval("SELECT beneficiary FROM request_fact WHERE request_id = $1", event.request_id)
            assert await archive.rekey_legacy(conn, key) == 0
    finally:
        await pool.close()
    assert row["beneficiary"] == fact == beneficiary_key(event, key)
    assert RESIDENT not in json.dumps(row["body"], ensure_ascii=False) and "beneficiary" not in row["body"]


def test_reporting_refuses_to_start_without_its_person_key(fresh_settings):
    from services.reporting.context import person_key_of
    with pytest.raises(ValueError, match="REPORTING_PERSON_KEY"):
        person_key_of(fresh_settings.model_copy(update={"reporting_person_key": None, "linli_development": False}))
    assert person_key_of(fresh_settings.model_copy(update={"reporting_person_key": None, "linli_development": True}))


async def test_a_queue_that_moves_to_linli_personal_no_longer_hears_linli_events(fresh_settings):
    """A queue of an earlier version, bound to linli.events, gets its binding taken away when the
    service starts: it would otherwise get each event twice, the public copy without what it needs."""
    name, routing_key = "notify.assignment-offered", "assignment.offered"
    async with await aio_pika.connect(fresh_settings.rabbitmq_url, timeout=CONNECT_TIMEOUT) as connection:
        channel = await connection.channel()
        events = await channel.declare_exchange("linli.events", aio_pika.ExchangeType.TOPIC, durable=True)
        old = service_queue(name, routing_key)
        queue = await channel.declare_queue(name, durable=True, arguments=old.arguments)
        await queue.bind(events, routing_key)
    async with running(NOTIFY, fresh_settings):
        pass
    await publish(fresh_settings, routing_key, {"public": True}, exchange="linli.events")
    await publish(fresh_settings, routing_key, {"whole": True}, exchange="linli.personal")
    async with await aio_pika.connect(fresh_settings.rabbitmq_url, timeout=CONNECT_TIMEOUT) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        message = await eventually(lambda: queue.get(fail=False, no_ack=True))
        assert json.loads(message.body) == {"whole": True}
        assert (await channel.declare_queue(name, passive=True)).declaration_result.message_count == 0
