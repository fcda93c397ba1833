"""How a queue's deliveries are grouped into transactions (shared/consumer.Batches), with no
servers: a stand-in subscription records each transaction's deliveries."""
import asyncio

import pytest

from shared.consumer import Batches, Bound, Envelope, _Subscription
from shared.topology import EVENTS


class Subscription:
    """Handles deliveries as a transaction would: all of them, or (on a poison) none."""

    queue = "q"

    def __init__(self, poison: set[str] = frozenset()):
        self.transactions: list[list[str]] = []
        self.poison = poison

    async def handle(self, deps, deliveries):
        await asyncio.sleep(0.01)  # the transaction's round trips, during which more arrive
        ids = [envelope.message_id for envelope, _ in deliveries]
        if self.poison & set(ids):
            raise RuntimeError("a poison message")
        self.transactions.append(ids)
        return ["done"] * len(ids)


def envelope(n: int) -> Envelope:
    return Envelope(queue="q", routing_key="k", message_id=str(n), correlation_id=str(n), body=b"{}")


async def deliver(batches: Batches, count: int) -> list:
    return await asyncio.gather(*(batches.handle(envelope(n), None) for n in range(count)), return_exceptions=True)


@pytest.mark.parametrize("size, parallel, count, most", [
    (32, 2, 100, 32),   # a burst: transactions of up to 32
    (1, 2, 10, 1),      # size 1: one delivery per transaction, as before batching
    (5, 1, 12, 5),
])
async def test_a_burst_is_handled_in_few_transactions_each_delivery_once_in_order(size, parallel, count, most):
    subscription = Subscription()
    outcomes = await deliver(Batches(subscription, Bound(), size, parallel), count)
    assert outcomes == ["done"] * count
    handled = [n for transaction in subscription.transactions for n in transaction]
    assert sorted(handled, key=int) == [str(n) for n in range(count)]
    assert max(len(t) for t in subscription.transactions) == most
    assert len(subscription.transactions) < count or size == 1
    assert all([int(n) for n in t] == sorted(int(n) for n in t) for t in subscription.transactions)


async def test_a_lone_delivery_goes_at_once_alone():
    subscription = Subscription()
    assert await Batches(subscription, Bound(), 32).handle(envelope(1), None) == "done"
    assert subscription.transactions == [["1"]]


async def test_a_poison_undoes_its_batch_and_only_it_fails_when_each_is_tried_alone():
    subscription = Subscription(poison={"3"})
    outcomes = await deliver(Batches(subscription, Bound(), 32, parallel=1), 8)
    assert [type(o).__name__ if isinstance(o, Exception) else o for o in outcomes] == \
        ["done", "done", "done", "RuntimeError", "done", "done", "done", "done"]
    handled = [n for transaction in subscription.transactions for n in transaction]
    assert sorted(handled, key=int) == ["0", "1", "2", "4", "5", "6", "7"]  # each once, the poison never


async def test_a_cancelled_transaction_leaves_nobody_waiting():
    class Hangs(Subscription):
        async def handle(self, deps, deliveries):
            await asyncio.sleep(3600)

    batches = Batches(Hangs(), Bound(), 32)
    waiting = asyncio.ensure_future(deliver(batches, 3))
    await asyncio.sleep(0.01)
    for task in list(batches._running):
        task.cancel()
    outcomes = await asyncio.wait_for(waiting, 5)
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)


class UnitOfWork:
    """Claims every message id once, as the outbox's table would."""

    claimed: set = set()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def claim_all(self, claims):
        fresh = [claim[0] not in self.claimed for claim in claims]
        self.claimed.update(claim[0] for claim in claims)
        return fresh


@pytest.mark.parametrize("ids, prepared", [
    (["1", "2", "3"], [["1", "2", "3"]]),
    (["1", "seen", "2"], [["1", "2"]]),    # a duplicate is not prepared for: its handler never runs
    (["1", "seen"], []),                   # one fresh message takes its own locks
])
async def test_a_batch_is_prepared_with_its_fresh_messages_before_any_handler(ids, prepared):
    calls = []

    class Deps:
        def unit_of_work(self):
            work = UnitOfWork()
            work.claimed = {"seen"}
            return work

    async def prepare(deps, uow, messages):
        calls.append(("prepare", list(messages)))

    async def handler(deps, uow, message):
        calls.append(("handle", message))

    subscription = _Subscription("q", EVENTS, "k", handler, lambda envelope: envelope, prepare=prepare)
    outcomes = await subscription.handle(Deps(), [(envelope(n), n) for n in ids])
    assert outcomes == ["duplicate" if n == "seen" else "done" for n in ids]
    fresh = [n for n in ids if n != "seen"]
    assert calls == [("prepare", p) for p in prepared] + [("handle", n) for n in fresh]
