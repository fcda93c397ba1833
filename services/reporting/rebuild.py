"""`python -m services.reporting rebuild`: empty the read models and replay the event archive, in
the order the events happened, through the projections the handlers use. The archive holds
public forms and each request's keyed beneficiary, so the figures come out the same; archived
requests from before that (migration 0005) are first re-keyed with REPORTING_PERSON_KEY."""
import asyncio
import logging
from collections.abc import Callable

from services.reporting import live
from services.reporting.app import SERVICE
from services.reporting.context import person_key_of
from services.reporting.domain.changes import CellChanges
from services.reporting.store import archive, cells
from services.reporting.store.projections import project
from shared.database import create_pool, migrate
from shared.settings import Settings

log = logging.getLogger(__name__)
# Events whose cell changes are added up before they are written (the rebuild holds every cell alone).
CELLS_EVERY = 500


async def rebuild(settings: Settings, progress: Callable[[int, int], None] = lambda done, total: None) -> int:
    """Replay every archived event; returns how many. One transaction: readers see the old
    figures until the new ones are whole, and handlers wait for it (see `archive.empty_read_models`).
    `progress(done, total)` is told after each event (`linli rebuild reporting`'s progress bar)."""
    await asyncio.to_thread(migrate, settings.database_url, SERVICE.name, SERVICE.migrations)
    pool = await create_pool(settings.database_url, SERVICE.name, max_size=1)
    replayed = 0
    try:
        async with pool.acquire() as conn:
            await archive.rekey_legacy(conn, person_key_of(settings))
        async with pool.acquire() as conn, conn.transaction():
            await archive.empty_read_models(conn)
            total = await archive.count(conn)
            progress(0, total)
            changes = CellChanges()
            async for event in archive.in_order(conn):
                await project(conn, event, settings.linli_timezone, changes)
                replayed += 1
                if replayed % CELLS_EVERY == 0:
                    await cells.write(conn, changes)
                    changes = CellChanges()
                progress(replayed, total)
            await cells.write(conn, changes)
            await live.announce(conn)
    finally:
        await pool.close()
    log.info("rebuilt the figures from %d archived events", replayed)
    return replayed
