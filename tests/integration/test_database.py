"""Migrations against the real PostgreSQL: replicas of one service that start at the same
moment all come up (each used to race the others to create the schema, and all but one died)."""
import asyncio
from pathlib import Path

import pytest

from shared.database import migrate
from tests.servers import own_database

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).parents[2] / "services" / "matching" / "migrations"


async def test_replicas_starting_together_each_migrate_without_failing(servers):
    database, _ = servers
    with own_database(database) as url:
        for attempt in range(3):
            schema = f"replicas_{attempt}"
            await asyncio.wait_for(asyncio.gather(*(asyncio.to_thread(migrate, url, schema, MIGRATIONS)
                                                    for _ in range(4))), timeout=60)


async def test_the_four_services_starting_together_each_migrate_and_grant_without_failing(servers):
    """They all grant CONNECT on the same database: concurrent GRANTs used to fail with
    "tuple concurrently updated" and take a service down at start-up."""
    database, _ = servers
    with own_database(database) as url:
        await asyncio.wait_for(asyncio.gather(*(
            asyncio.to_thread(migrate, url, service, MIGRATIONS.parents[1] / service / "migrations")
            for service in ("intake", "matching", "notify", "reporting") for _ in range(2))), timeout=120)
