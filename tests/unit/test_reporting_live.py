"""How reporting's dashboards hear of changes: bursts coalesced into one tick, and identical
questions asked at once answered once. No servers."""
import asyncio

import pytest

from services.reporting.live import Changes, SingleFlight


async def test_a_burst_of_changes_is_told_once_more_after_the_interval():
    changes = Changes(every=0.2)
    changes.changed()
    assert changes.version == 1  # the first is told at once
    changes.changed()
    changes.changed()
    assert changes.version == 1  # the rest wait for the interval, together
    assert await changes.after(1, timeout=5) == 2
    await asyncio.sleep(0.4)
    assert changes.version == 2  # nothing more was pending


async def test_without_an_interval_every_change_is_told():
    changes = Changes()
    for _ in range(3):
        changes.changed()
    assert changes.version == 3


async def test_identical_questions_asked_at_once_are_answered_once():
    answers, computed = SingleFlight(), []

    async def compute(key):
        computed.append(key)
        await asyncio.sleep(0.05)
        return f"answer to {key}"

    first, second, other = await asyncio.gather(answers.answer("summary", lambda: compute("summary")),
                                                answers.answer("summary", lambda: compute("summary")),
                                                answers.answer("groups", lambda: compute("groups")))
    assert (first, second, other) == ("answer to summary", "answer to summary", "answer to groups")
    assert computed == ["summary", "groups"]
    await answers.answer("summary", lambda: compute("summary"))  # answered: asked again, computed again
    assert computed == ["summary", "groups", "summary"]


async def test_a_caller_that_goes_away_does_not_cancel_the_others_answer():
    answers = SingleFlight()
    started = asyncio.Event()

    async def compute():
        started.set()
        await asyncio.sleep(0.1)
        return 42

    leaving = asyncio.create_task(answers.answer("summary", compute))
    await started.wait()
    staying = asyncio.create_task(answers.answer("summary", compute))
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert await staying == 42


async def test_the_listener_makes_its_connection_again_whatever_the_last_one_failed_with(monkeypatch):
    """During a PostgreSQL restart asyncpg can raise more than connection errors (its
    InternalClientError among them); the listener ended on one and reporting stayed not ready."""
    import asyncpg

    from services.reporting import live
    calls = []

    class Listening:
        async def add_listener(self, channel, callback):
            calls.append("listening")

        async def fetchval(self, query):
            calls.append("looked")
            if calls.count("looked") == 1:
                raise asyncpg.InternalClientError("waiter is not done while handling critical protocol error")
            raise asyncio.CancelledError  # the service stops

        def terminate(self):
            calls.append("closed")

    async def connect(*args, **kwargs):
        calls.append("connect")
        if calls.count("connect") == 1:
            raise asyncpg.InternalClientError("refused mid-handshake")
        return Listening()
    monkeypatch.setattr(live.asyncpg, "connect", connect)
    with pytest.raises(asyncio.CancelledError):
        await live.listen("postgresql://nowhere", Changes(), check_seconds=0.01)
    assert calls == ["connect", "connect", "listening", "looked", "closed", "connect", "listening", "looked", "closed"]
