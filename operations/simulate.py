"""`linli simulate`: a city's day through the real bus, compressed into a few minutes."""
import asyncio
import json
import logging
import random

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from operations import day
from operations.reach import address, errors, fail
from operations.simulation import BROKER_ERRORS, NotAnnounced, Simulation, Users
from shared.settings import Settings
from shared.submissions import VolunteerRegistration

REFRESH_SECONDS = 0.2


def simulate(
    minutes: float = typer.Option(10.0, min=0.05, help="Real minutes the city's 24 hours are compressed into."),
    requests: int = typer.Option(200, min=1, help="Submissions in the day (requests and disputes)."),
    case_share: float = typer.Option(0.1, min=0.0, max=1.0, help="Share of the submissions that are disputes."),
    volunteers: int = typer.Option(8, min=1, help="Volunteers per community (besides 2 mediators)."),
    communities: str = typer.Option(",".join(day.City().communities), help="Comma-separated community codes."),
    accept: float = typer.Option(0.8, min=0.0, max=1.0, help="Share of offers accepted."),
    decline: float = typer.Option(0.1, min=0.0, max=1.0, help="Share declined; the rest are never answered."),
    answer_seconds: float = typer.Option(90.0, min=0.0, help="Median answer delay, in the city's seconds."),
    seed: int = typer.Option(1, help="The same seed gives the same day."),
    settle_seconds: float = typer.Option(120.0, min=0.0, help="Real seconds to wait, after the day, for every "
                                         "request and case to reach its end."),
    hotline: str = typer.Option("hotline-12345", help="The hotline's broker user (its source id)."),
    grid: str = typer.Option("grid-platform-3", help="The grid platform's broker user."),
    volunteer_app: str = typer.Option("volunteer-app", help="The volunteer app's broker user."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run a city's day through the real bus: volunteers registered, requests on a daily curve,
    disputes mixed in, offers answered after realistic delays, work reported done."""
    try:
        policy = day.AnswerPolicy(accept=accept, decline=decline, median_seconds=answer_seconds)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--accept / --decline") from error
    city = day.City(communities=tuple(c.strip() for c in communities.split(",") if c.strip()),
                    volunteers_per_community=volunteers)
    if not city.communities:
        raise typer.BadParameter("name at least one community", param_hint="--communities")
    settings = Settings()
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # its own line per failed connect; the error below says it
    simulation = Simulation(settings, Users(hotline, grid, volunteer_app), policy,
                            compression=minutes * 60 / day.DAY_SECONDS, seed=seed)
    rng = random.Random(seed)
    people = day.volunteers(city, rng, volunteer_app)
    _check(people, "--communities / --volunteer-app")
    submissions = day.submissions(city, requests, case_share, rng, hotline, grid)
    try:
        settled = asyncio.run(_run(simulation, people, submissions, settle_seconds))
    except BROKER_ERRORS as error:
        raise fail(f"RabbitMQ at {address(settings.rabbitmq_url)} (RABBITMQ_URL): "
                   f"{error or type(error).__name__}") from None
    except NotAnnounced as error:
        raise fail(f"{error}; are intake and matching running?") from None
    summary = simulation.summary()
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _show(summary)
    if not settled:
        raise fail(f"{summary['unsettled']} requests and cases had not reached their end {settle_seconds:g}s after "
                   "the day: an offer nobody answers expires after the services' MATCHING_OFFER_TIMEOUT_SECONDS; "
                   "give a compressed day a shorter one")


def _check(people: list[dict], options: str) -> None:
    """Refuse here what intake would refuse (a malformed community code, say) rather than wait for it."""
    try:
        for person in people:
            VolunteerRegistration.model_validate(person)
    except ValidationError as error:
        raise typer.BadParameter(str(error.errors()[0]["msg"]), param_hint=options) from None


async def _run(simulation: Simulation, people: list[dict], submissions: list[day.Submission],
               settle_seconds: float) -> bool:
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    async with simulation:
        with Progress(*columns, console=errors) as progress:
            registering = progress.add_task("volunteers registered", total=len(people))
            heard = asyncio.create_task(_follow(progress, lambda: min(len(simulation.registered), len(people)),
                                                registering))
            await simulation.register(people, timeout=60 + len(people) / 10)
            heard.cancel()
            progress.update(registering, completed=len(people))
            submitted = progress.add_task("submitted", total=len(submissions))
            ended = progress.add_task("reached their end", total=len(submissions))
            watches = [asyncio.create_task(_follow(progress, lambda: len(simulation.outcomes), submitted)),
                       asyncio.create_task(_follow(progress, simulation.settled, ended))]
            await simulation.run(submissions)
            settled = await simulation.settle(settle_seconds)
            for watch in watches:
                watch.cancel()
            progress.update(submitted, completed=len(simulation.outcomes))
            progress.update(ended, completed=simulation.settled())
    return settled


async def _follow(progress: Progress, count, task) -> None:
    while True:
        progress.update(task, completed=count())
        await asyncio.sleep(REFRESH_SECONDS)


def _show(summary: dict) -> None:
    cases = summary["cases"]
    rows = [("requests submitted", summary["submitted"]), ("offers made", summary["offered"]),
            ("offers accepted", summary["accepted"]), ("offers declined", summary["declined"]),
            ("offers expired (never answered)", summary["expired"]), ("requests assigned", summary["assigned"]),
            ("requests completed", summary["completed"]), ("requests escalated to staff", summary["escalated"]),
            ("requests rejected", summary["rejected"]), ("requests linked as duplicates", summary["duplicate"]),
            ("cases submitted", cases["submitted"]), ("cases closed", cases["closed"]),
            ("cases escalated to street staff", cases["escalated_to_staff"]),
            ("case escalations", cases["escalations"])]
    table = Table(title="the simulated day", show_header=False)
    for label, value in rows:
        table.add_row(label, str(value))
    table.add_row("not at their end", f"[red]{summary['unsettled']}[/]" if summary["unsettled"] else "0")
    Console().print(table)
