"""Each service's PostgreSQL role against the real server: it works in its own schema and
cannot read, change or create anything elsewhere, and it is no superuser."""
from pathlib import Path

import asyncpg
import pytest

from shared.database import migrate
from shared.roles import role_of, service_url
from tests.servers import own_database

pytestmark = pytest.mark.integration

SERVICES = Path(__file__).parents[2] / "services"


@pytest.fixture(scope="module")
def migrated(servers):
    database, _ = servers
    with own_database(database) as url:
        for service in ("matching", "notify"):
            migrate(url, service, SERVICES / service / "migrations")
        yield url


async def as_service(owner_url: str, service: str) -> asyncpg.Connection:
    return await asyncpg.connect(service_url(owner_url, service, None), timeout=10,
                                 server_settings={"search_path": service})


async def test_a_service_s_role_works_in_its_own_schema(migrated):
    conn = await as_service(migrated, "notify")
    try:
        assert await conn.fetchval("SELECT current_user") == role_of("notify")
        await conn.execute("INSERT INTO processed_message (message_id, queue) VALUES ('m-1', 'q')")
        assert await conn.fetchval("SELECT count(*) FROM notify.processed_message") == 1
        assert not await conn.fetchval("SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles "
                                       "WHERE rolname = current_user")
    finally:
        await conn.close()


@pytest.mark.parametrize("statement", [
    "SELECT * FROM matching.volunteer",
    "INSERT INTO matching.processed_message (message_id, queue) VALUES ('m-2', 'q')",
    "DELETE FROM matching.outbox",
    "CREATE TABLE notify.smuggled (id int)",
    "CREATE TABLE public.smuggled (id int)",
    "CREATE SCHEMA smuggled",
])
async def test_a_service_s_role_cannot_reach_another_service_s_tables_nor_make_any(migrated, statement):
    conn = await as_service(migrated, "notify")
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
    finally:
        await conn.close()
