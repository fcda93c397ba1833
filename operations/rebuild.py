"""`linli rebuild reporting`: reporting's figures rebuilt from its event archive, with a
progress bar. It runs reporting's own rebuild (services/reporting/rebuild.py, what
`python -m services.reporting rebuild` does) against DATABASE_URL, as the schema's owner."""
import asyncio

import asyncpg
import psycopg
import typer
from rich.progress import Progress

from operations.reach import Unreachable, address, clear_errors
from shared.settings import Settings

app = typer.Typer(help="Rebuild a service's read models.", no_args_is_help=True)


async def _rebuild(settings: Settings, progress: Progress) -> int:
    from services.reporting.rebuild import rebuild  # reporting's code is loaded only for this command
    task = progress.add_task("rebuilding reporting's figures", total=None)
    try:
        return await rebuild(settings, lambda done, total: progress.update(task, completed=done, total=total))
    except (OSError, asyncio.TimeoutError, psycopg.OperationalError, asyncpg.PostgresError) as error:
        raise Unreachable(f"PostgreSQL at {address(settings.database_url)} does not answer or refuses "
                          f"({type(error).__name__}): is it up? Check DATABASE_URL (the owner's).") from error


@app.command()
def reporting():
    """Empty reporting's figures and replay its event archive through its projections."""
    settings = Settings()
    with Progress() as progress, clear_errors():
        replayed = asyncio.run(_rebuild(settings, progress))
    typer.echo(f"rebuilt reporting's figures from {replayed} archived event(s)")
