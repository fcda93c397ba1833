"""`linli` against the real broker and a real service (reporting, run in this process on a port):
status, dead letters really dead-lettered by the broker (reporting rejects a broken body), read
without losing them, shown masked, replayed to where they came from, purged after asking; a
rebuild; and one clear line, exit code 1, when a server does not answer."""
import asyncio
import json
import uuid
from datetime import UTC, datetime

import aio_pika
import asyncpg
import pytest
from typer.testing import CliRunner

from operations.cli import app
from services.reporting.app import SERVICE as REPORTING
from services.reporting.rebuild import rebuild
from shared.events import VolunteerRegistered
from shared.service import VERSION
from tests.conftest import isolated_settings
from tests.e2e.processes import free_port
from tests.identities import token
from tests.servers import BROKER_USERS, CONNECT_TIMEOUT, SOURCES
from tests.support import eventually, handled, on_a_port, publish, running

pytestmark = pytest.mark.integration

QUEUE = "reporting.volunteer-registered"
SECRETS = ("王秀英", "13800000001", "幸福路")
# Cut short, so that reporting cannot parse it and rejects it: the broker dead-letters it.
BROKEN = '{"source": "volunteer-app", "name": "王秀英", "phone": "13800000001", "address": "幸福路 8'


@pytest.fixture(scope="module")
def own_settings(servers):
    with isolated_settings(servers) as settings:
        yield settings


@pytest.fixture(scope="module")
async def reporting(own_settings):
    async with running(REPORTING, own_settings) as client, on_a_port(client.app) as url:
        client.url = url
        yield client


@pytest.fixture(scope="module")
def env(own_settings, reporting):
    """The environment `linli` runs in: this module's vhost and database, reporting on its port,
    the other services nowhere (a closed port), the ops user's password in the tests' file."""
    closed = f"http://127.0.0.1:{free_port()}"
    return {"RABBITMQ_URL": own_settings.rabbitmq_url, "RABBITMQ_MANAGEMENT_URL": "",
            "BROKER_USERS_FILE": str(BROKER_USERS), "DATABASE_URL": own_settings.database_url,
            "LINLI_DEVELOPMENT": "true", "REPORTING_PERSON_KEY": "test-person-key",
            "LINLI_OPS_TOKEN": token("ops"), "LINLI_REPORTING_URL": reporting.url, "LINLI_INTAKE_URL": closed,
            "LINLI_MATCHING_URL": closed, "LINLI_NOTIFY_URL": closed, "COLUMNS": "200"}


async def linli(env: dict, *args: str, input: str | None = None):
    """Run `linli ARGS` (in a thread: it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env, input=input)


async def depth(settings, queue: str) -> int:
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        declared = await (await connection.channel()).get_queue(queue, ensure=True)
        return declared.declaration_result.message_count


async def dead_letter(settings, reporting) -> str:
    """A body reporting rejects, dead-lettered by the broker into QUEUE's DLQ; its message id."""
    before = await depth(settings, QUEUE + ".dlq")
    message_id = await publish(settings, "volunteer.registered", BROKEN.encode(), exchange="linli.events",
                               user=None, user_id=None)
    await eventually(lambda: _more(settings, before))
    return message_id


async def _more(settings, before: int) -> bool:
    return await depth(settings, QUEUE + ".dlq") > before


async def _at(settings, count: int) -> bool:
    return await depth(settings, QUEUE + ".dlq") == count


async def status_once_consumed(env) -> dict | None:
    """`linli status --json`'s facts once the management API counts reporting's consumers (its
    statistics are a few seconds behind)."""
    result = await linli(env, "status", "--json")
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    return facts if all(q["consumers"] for q in facts["queues"] if q["name"].startswith("reporting.")) else None


async def test_status_shows_the_running_service_its_queues_and_what_is_down(env, reporting):
    facts = await eventually(lambda: status_once_consumed(env))
    services = {s["name"]: s for s in facts["services"]}
    assert services["reporting"]["ready"] is True and services["reporting"]["version"] == VERSION
    assert services["reporting"]["outbox_lag"] == 0.0
    assert services["matching"]["answers"] is False and services["matching"]["clock_lag"] is None
    queues = {q["name"]: q for q in facts["queues"]}
    assert queues[QUEUE]["dlq"] is not None and queues["linli.unrouted"]["dlq"] is None
    assert f"matching does not answer at {env['LINLI_MATCHING_URL']}" in facts["attention"]
    assert not any(c.startswith("reporting") for c in facts["attention"])
    tables = await linli(env, "status")
    assert tables.exit_code == 0 and "reporting" in tables.stdout and "attention: intake does not answer" in tables.stdout


async def test_a_dead_letter_is_listed_and_shown_masked_and_stays(own_settings, env, reporting):
    message_id = await dead_letter(own_settings, reporting)
    count = await depth(own_settings, QUEUE + ".dlq")
    listed = await linli(env, "dlq", "list", QUEUE)
    assert listed.exit_code == 0, listed.output
    [row] = [line for line in listed.stdout.splitlines() if message_id in line]
    assert "volunteer.registered" in row and "rejected" in row and QUEUE in row
    shown = await linli(env, "dlq", "show", QUEUE + ".dlq", message_id)
    assert shown.exit_code == 0, shown.output
    assert "reason: rejected" in shown.stdout and "王**" in shown.stdout and "138****0001" in shown.stdout
    assert not any(secret in shown.stdout for secret in SECRETS)
    assert await depth(own_settings, QUEUE + ".dlq") == count  # read, not taken


async def test_a_replay_goes_back_to_the_original_queue(own_settings, env, reporting):
    message_id = await dead_letter(own_settings, reporting)
    count = await depth(own_settings, QUEUE + ".dlq")
    dry = await linli(env, "dlq", "replay", QUEUE, "--dry-run")
    assert dry.exit_code == 0 and f"would replay {message_id} to linli.events volunteer.registered" in dry.stdout
    # The dry run read them without taking them; they are ready again once the broker has seen
    # its channel close (read at once, the queue once counted 0 of its 2).
    await eventually(lambda: _at(own_settings, count))
    before = await handled(reporting, "reporting")
    replayed = await linli(env, "dlq", "replay", QUEUE)
    assert replayed.exit_code == 0 and f"replayed {count}, 0 skipped" in replayed.stdout, replayed.output
    # Back on reporting's queue, rejected again (it is still broken): dead again, once more.
    await eventually(lambda: _count_of(env, message_id, 2))
    assert await handled(reporting, "reporting") == before  # rejected, never acked


async def test_a_replay_the_ops_user_may_not_publish_is_refused_in_one_line_and_loses_nothing(own_settings, env,
                                                                                              reporting):
    personal = "reporting.request-received"  # reads linli.personal, where only the services publish
    before = await depth(own_settings, personal + ".dlq")
    await publish(own_settings, "request.received", BROKEN.encode(), exchange="linli.personal", user=None,
                  user_id=None)
    await eventually(lambda: _deeper(own_settings, personal + ".dlq", before))
    refused = await linli(env, "dlq", "replay", personal)
    assert refused.exit_code == 1 and "ACCESS_REFUSED" in refused.stderr and "--broker" in refused.stderr
    assert "Traceback" not in refused.output and await depth(own_settings, personal + ".dlq") == before + 1


async def _deeper(settings, queue: str, before: int) -> bool:
    return await depth(settings, queue) > before


async def _count_of(env, message_id: str, count: int) -> bool:
    """The DLQ holds the message once, having died `count` times."""
    listed = await linli(env, "dlq", "list", QUEUE)
    rows = [line for line in listed.stdout.splitlines() if message_id in line]
    return len(rows) == 1 and f" {count} " in rows[0]


async def test_replaying_the_same_message_twice_is_handled_once(own_settings, env, reporting):
    """Two copies of one event (one message id) in the DLQ, as RabbitMQ writes them (x-death):
    both replayed, reporting takes both off its queue and counts the volunteer once."""
    event = VolunteerRegistered(correlation_id="c", volunteer_id=uuid.uuid4(), source="volunteer-app",
                                external_id=f"v-{uuid.uuid4().hex[:8]}", community_code="c-ops", team="康乃馨",
                                skills=["cooking"], active=True, occurred_at=datetime.now(UTC))
    await _purged(own_settings)
    for _ in range(2):
        await _dead_as_the_broker_writes_it(own_settings, event)
    before = await handled(reporting, "reporting", handler="reporting.volunteer-registered")
    replayed = await linli(env, "dlq", "replay", QUEUE)
    assert "replayed 2, 0 skipped" in replayed.stdout, replayed.output
    await eventually(lambda: _handled_more(reporting, before, 2))
    assert await archived(own_settings, event.event_id) == 1 and await depth(own_settings, QUEUE + ".dlq") == 0
    again = await linli(env, "dlq", "replay", QUEUE)
    assert "replayed 0, 0 skipped" in again.stdout


async def archived(settings, event_id) -> int:
    """How many times reporting took the event into its archive."""
    conn = await asyncpg.connect(settings.database_url, timeout=CONNECT_TIMEOUT)
    try:
        return await conn.fetchval("SELECT count(*) FROM reporting.event_archive WHERE event_id = $1", event_id)
    finally:
        await conn.close()


async def _handled_more(reporting, before: float, count: int) -> bool:
    return await handled(reporting, "reporting", handler="reporting.volunteer-registered") - before >= count


async def _dead_as_the_broker_writes_it(settings, event, user_id: str | None = None) -> None:
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        dlx = await channel.get_exchange("linli.dlx")
        death = {"queue": QUEUE, "reason": "rejected", "count": 1, "exchange": "linli.events",
                 "routing-keys": ["volunteer.registered"], "time": datetime.now(UTC)}
        await dlx.publish(aio_pika.Message(
            event.model_dump_json(exclude=set(event.personal)).encode(), content_type="application/json",
            message_id=str(event.event_id), delivery_mode=aio_pika.DeliveryMode.PERSISTENT, user_id=user_id,
            headers={"x-death": [death], "x-first-death-queue": QUEUE, "x-first-death-reason": "rejected",
                     "x-first-death-exchange": "linli.events"}), routing_key=QUEUE)


async def _purged(settings) -> None:
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=CONNECT_TIMEOUT)
    async with connection:
        await (await (await connection.channel()).get_queue(QUEUE + ".dlq", ensure=True)).purge()


async def test_purge_asks_first(own_settings, env, reporting):
    await dead_letter(own_settings, reporting)
    count = await depth(own_settings, QUEUE + ".dlq")
    kept = await linli(env, "dlq", "purge", QUEUE, input="n\n")
    assert kept.exit_code == 1 and "nothing removed" in kept.stderr
    assert await depth(own_settings, QUEUE + ".dlq") == count
    purged = await linli(env, "dlq", "purge", QUEUE, "--yes")
    assert purged.exit_code == 0 and f"removed {count} dead letter(s) from {QUEUE}.dlq" in purged.stdout
    assert await depth(own_settings, QUEUE + ".dlq") == 0


async def test_rebuild_reporting_replays_its_archive_and_tells_its_progress(own_settings, env, reporting):
    result = await linli(env, "rebuild", "reporting")
    assert result.exit_code == 0, result.output
    assert "rebuilt reporting's figures from" in result.stdout
    told = []
    replayed = await rebuild(own_settings, lambda done, total: told.append((done, total)))
    assert told[0] == (0, replayed) and told[-1] == (replayed, replayed) and len(told) == replayed + 1


async def test_a_dead_letter_another_user_published_is_skipped_and_stays(own_settings, env, reporting):
    await _purged(own_settings)
    event = VolunteerRegistered(correlation_id="c", volunteer_id=uuid.uuid4(), source="volunteer-app",
                                external_id="v-skip", community_code="c-ops", skills=["cooking"],
                                occurred_at=datetime.now(UTC))
    await _dead_as_the_broker_writes_it(own_settings, event, user_id="guest")  # as intake's submissions carry theirs
    result = await linli(env, "dlq", "replay", QUEUE)
    assert result.exit_code == 0 and "replayed 0, 1 skipped" in result.stdout, result.output
    assert "published by guest" in result.stdout and await depth(own_settings, QUEUE + ".dlq") == 1


async def test_broker_users_creates_the_users_of_the_vhost_again(env):
    result = await linli({**env, "INTAKE_SOURCES_FILE": str(SOURCES)}, "broker-users")
    assert result.exit_code == 0, result.output
    assert "linli-ops: created with its permissions" in result.stdout and "hotline-12345: created" in result.stdout


@pytest.mark.parametrize("args, override, says", [
    (("status",), {"RABBITMQ_MANAGEMENT_URL": "http://127.0.0.1:CLOSED"}, "RabbitMQ's management API at 127.0.0.1:"),
    (("dlq", "list", QUEUE), {"RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:CLOSED/"}, "RabbitMQ at 127.0.0.1:"),
    (("rebuild", "reporting"), {"DATABASE_URL": "postgresql://postgres@127.0.0.1:CLOSED/x"}, "PostgreSQL at"),
])
async def test_a_server_down_is_one_clear_line_and_exit_code_1(env, args, override, says):
    closed = str(free_port())
    result = await linli({**env, **{key: value.replace("CLOSED", closed) for key, value in override.items()}}, *args)
    assert result.exit_code == 1 and says in result.stderr, result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
