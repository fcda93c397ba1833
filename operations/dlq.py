"""`linli dlq list|show|replay|purge QUEUE`: a work queue's dead letters (QUEUE or QUEUE.dlq).

Over AMQP (aio-pika), as the ops user: reading is a basic.get of each message without
acknowledging it, and a nack with requeue once all are read, so nothing is lost and each is
seen once. Not the management API's `get`: a replay must publish with publisher confirms and
remove the message only after its confirm, which needs one AMQP channel for both. A requeue
counts as a delivery on a quorum queue (x-delivery-count); the DLQs have no delivery limit on
RabbitMQ 3.x (on 4.0 to 4.2 give them one of -1 by policy, see the README).

A replay publishes to the exchange and routing key of the first death (persistent, confirmed,
the same message id and properties), so the consumers' idempotency by message id makes a
second replay of the same message harmless; only then is it acknowledged off the DLQ."""
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

import aio_pika
import aiormq
import typer
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from operations.dead_letters import (age_seconds, dlq_of, first_death, masked_body, origin, readable_age,
                                     refusal, replayed_headers)
from operations.reach import BROKER_TIMEOUT, Unreachable, address, broker_url, clear_errors, fail
from shared.clock import SystemClock
from shared.settings import Settings

# Seconds a publish waits for its confirm.
CONFIRM_TIMEOUT = 10.0
DEFAULT_LIMIT = 1000

app = typer.Typer(help="A queue's dead letters: list, show, replay, purge (QUEUE or QUEUE.dlq).",
                  no_args_is_help=True)
BROKER = typer.Option(None, "--broker", help="AMQP URL to use instead of RABBITMQ_URL as linli-ops")
LIMIT = typer.Option(DEFAULT_LIMIT, "--limit", min=1, help="at most this many messages")


@contextlib.asynccontextmanager
async def dead_letter_queue(url: str, queue: str) -> AsyncIterator[tuple[AbstractChannel, AbstractQueue]]:
    """A confirming channel and the DLQ (declared passively); the broker's refusals as one line."""
    dlq, where = dlq_of(queue), address(url)
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # its own line for a refused connection: ours says it
    try:
        connection = await aio_pika.connect(url, timeout=BROKER_TIMEOUT)
    except (OSError, asyncio.TimeoutError, aiormq.exceptions.AMQPConnectionError) as error:
        raise Unreachable(f"RabbitMQ at {where} does not answer or refuses the login ({type(error).__name__}): "
                          f"is it up? Check RABBITMQ_URL, the ops user's password or --broker.") from error
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        try:
            yield channel, await channel.get_queue(dlq, ensure=True)
        except aiormq.exceptions.ChannelNotFoundEntity as error:
            raise Unreachable(f"there is no queue {dlq!r} in this vhost ({error.args[0] if error.args else ''})") from error
        except aiormq.exceptions.ChannelAccessRefused as error:
            raise Unreachable(f"the broker refused: {error.args[0] if error.args else error}; "
                              f"use --broker as a user that may do this") from error
        except aio_pika.exceptions.DeliveryError as error:
            raise Unreachable(f"the broker returned a replay unrouted (no queue is bound for its routing key); "
                              f"it stays in {dlq}") from error
        except asyncio.TimeoutError as error:
            raise Unreachable(f"RabbitMQ at {where} did not confirm in time; what was not confirmed stays "
                              f"in {dlq}") from error


async def taken(queue: AbstractQueue, limit: int) -> AsyncIterator[AbstractIncomingMessage]:
    """Up to `limit` of the messages there were when it started, each unacknowledged (held)."""
    for _ in range(min(queue.declaration_result.message_count or 0, limit)):
        message = await queue.get(no_ack=False, fail=False, timeout=BROKER_TIMEOUT)
        if message is None:
            return
        yield message


async def peek(url: str, queue: str, limit: int) -> list[dict]:
    """The dead letters as facts, each put back where it was."""
    now = SystemClock().now()
    async with dead_letter_queue(url, queue) as (_, dlq):
        held = [message async for message in taken(dlq, limit)]
        read = [facts_of(message, now) for message in held]
        for message in held:
            await message.nack(requeue=True)
    return read


def facts_of(message: AbstractIncomingMessage, now: datetime) -> dict:
    death = first_death(message.headers)
    exchange, routing_key = origin(message.headers) or ("", message.routing_key or "")
    return {"message_id": message.message_id, "exchange": exchange, "routing_key": routing_key,
            "queue": death.queue if death else None, "reason": death.reason if death else None,
            "count": death.count if death else 0, "age": readable_age(age_seconds(death, now)),
            "content_type": message.content_type, "correlation_id": message.correlation_id,
            "user_id": message.user_id, "body": masked_body(message.body, routing_key)}


def republished(message: AbstractIncomingMessage) -> aio_pika.Message:
    return aio_pika.Message(
        message.body, headers=replayed_headers(message.headers), content_type=message.content_type,
        content_encoding=message.content_encoding, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=message.priority, correlation_id=message.correlation_id, reply_to=message.reply_to,
        message_id=message.message_id, timestamp=message.timestamp, type=message.type,
        user_id=message.user_id, app_id=message.app_id)


@dataclass
class Replay:
    replayed: list[str] = field(default_factory=list)  # message ids
    would: list[dict] = field(default_factory=list)  # a dry run's: message id, exchange, routing key
    skipped: list[tuple[str | None, str]] = field(default_factory=list)  # (message id, why)


async def replay_all(url: str, queue: str, limit: int, dry_run: bool,
                     started: Callable[[int], None], advanced: Callable[[], None]) -> Replay:
    """Replay each dead letter there is (at most `limit`); a dry run's and the skipped are put back."""
    outcome, user = Replay(), unquote(urlsplit(url).username or "guest")
    async with dead_letter_queue(url, queue) as (channel, dlq):
        started(min(dlq.declaration_result.message_count or 0, limit))
        held, exchanges = [], {}
        async for message in taken(dlq, limit):
            exchange, routing_key = origin(message.headers) or ("", "")
            if why := refusal(message.headers, message.user_id, user):
                outcome.skipped.append((message.message_id, why))
                held.append(message)
            elif dry_run:
                outcome.would.append({"message_id": message.message_id, "exchange": exchange,
                                      "routing_key": routing_key})
                held.append(message)
            else:
                if exchange not in exchanges:
                    exchanges[exchange] = await channel.get_exchange(exchange, ensure=True)
                await exchanges[exchange].publish(republished(message), routing_key, mandatory=True,
                                                  timeout=CONFIRM_TIMEOUT)
                await message.ack()  # only now: the broker has confirmed the replay
                outcome.replayed.append(message.message_id)
            advanced()
        for message in held:
            await message.nack(requeue=True)
    return outcome


async def purge_all(url: str, queue: str, confirm: Callable[[int], bool]) -> int | None:
    """Remove every dead letter once `confirm(count)` agrees; None when it did not."""
    async with dead_letter_queue(url, queue) as (_, dlq):
        count = dlq.declaration_result.message_count or 0
        if not confirm(count):
            return None
        return (await dlq.purge()).message_count


def _url(broker: str | None) -> str:
    return broker_url(Settings(), broker)


@app.command("list")
def list_(queue: str = typer.Argument(..., help="the work queue or its .dlq"), limit: int = LIMIT,
          broker: str = BROKER):
    """Each dead letter: message id, routing key, why and how often it died, where, how long ago."""
    with clear_errors():
        letters = asyncio.run(peek(_url(broker), queue, limit))
    table = Table("message id", "routing key", "reason", "count", "died in", "age", title=dlq_of(queue))
    for letter in letters:
        table.add_row(*(escape(str(letter[key])) for key in ("message_id", "routing_key", "reason", "count",
                                                             "queue", "age")))
    Console().print(table)
    typer.echo(f"{len(letters)} dead letter(s)")


@app.command()
def show(queue: str = typer.Argument(..., help="the work queue or its .dlq"),
         message_id: str = typer.Argument(None, help="which one (default: the first)"), limit: int = LIMIT,
         broker: str = BROKER):
    """One dead letter, its properties, its deaths and its body with names, phones and addresses masked."""
    with clear_errors():
        letters = asyncio.run(peek(_url(broker), queue, limit))
    letter = next((l for l in letters if message_id in (None, l["message_id"])), None)
    if letter is None:
        raise fail(f"no dead letter {message_id!r} in {dlq_of(queue)}" if message_id else f"{dlq_of(queue)} is empty")
    console = Console()
    for key, value in letter.items():
        if key != "body":
            console.print(f"[bold]{key}:[/] {escape(str(value))}", highlight=False)
    console.print(letter["body"], highlight=False, markup=False)


@app.command()
def replay(queue: str = typer.Argument(..., help="the work queue or its .dlq"),
           dry_run: bool = typer.Option(False, "--dry-run", help="say what would be replayed; move nothing"),
           limit: int = LIMIT, broker: str = BROKER):
    """Publish each dead letter again to its original exchange and routing key, then remove it."""
    console = Console()
    with Progress(console=console, transient=True) as progress, clear_errors():
        task = progress.add_task("dry run" if dry_run else "replaying", total=None)
        outcome = asyncio.run(replay_all(_url(broker), queue, limit, dry_run,
                                         lambda total: progress.update(task, total=total),
                                         lambda: progress.advance(task)))
    for would in outcome.would:
        console.print(escape(f"would replay {would['message_id']} to {would['exchange']} {would['routing_key']}"),
                      highlight=False)
    for message_id, why in outcome.skipped:
        console.print(f"[yellow]skipped[/] {escape(f'{message_id}: {why}')}", highlight=False)
    done = f"{len(outcome.would)} would be replayed" if dry_run else f"replayed {len(outcome.replayed)}"
    console.print(f"{done}, {len(outcome.skipped)} skipped, from {dlq_of(queue)}", highlight=False)


@app.command()
def purge(queue: str = typer.Argument(..., help="the work queue or its .dlq"),
          yes: bool = typer.Option(False, "--yes", "-y", help="do not ask"), broker: str = BROKER):
    """Remove every dead letter of the queue, after asking."""
    def confirm(count: int) -> bool:
        return yes or typer.confirm(f"remove the {count} dead letter(s) of {dlq_of(queue)}? none can be replayed after")
    with clear_errors():
        removed = asyncio.run(purge_all(_url(broker), queue, confirm))
    if removed is None:
        raise fail("nothing removed")
    typer.echo(f"removed {removed} dead letter(s) from {dlq_of(queue)}")
