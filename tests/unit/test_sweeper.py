"""The sweeper loop behind the outbox relay and notify's delivery worker."""
import asyncio

from shared.sweeper import Sweeper


async def test_it_sweeps_at_once_when_woken_and_again_while_batches_are_full():
    batches = [3, 3, 1]
    swept = []

    async def sweep():
        swept.append(batches.pop(0) if batches else 0)
        return swept[-1]
    sweeper = Sweeper("test", sweep, batch_size=3, poll_seconds=60)
    task = asyncio.create_task(sweeper.run())
    await asyncio.sleep(0.05)
    assert swept == [3, 3, 1]  # full batches are followed at once, a short one ends the sweep
    sweeper.wake()
    await asyncio.sleep(0.05)
    assert swept == [3, 3, 1, 0]
    task.cancel()


async def test_it_stops_when_cancelled_even_as_it_is_woken():
    """On Python 3.11, asyncio.wait_for could swallow this cancellation and never stop."""
    async def sweep():
        return 0
    for _ in range(200):
        sweeper = Sweeper("test", sweep, batch_size=10, poll_seconds=60)
        task = asyncio.create_task(sweeper.run())
        for _ in range(3):
            await asyncio.sleep(0)
        sweeper.wake()
        await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1)
        assert done == {task} and task.cancelled()


async def test_finishing_lets_the_round_under_way_end_and_does_one_more_then_stops():
    """What was committed while it swept is still published; a sweep is never cut."""
    rounds, release = [], asyncio.Event()

    async def sweep():
        rounds.append("started")
        if len(rounds) == 2:
            await release.wait()  # the round under way when finish() is called
        rounds.append("ended")
        return 0
    sweeper = Sweeper("test", sweep, batch_size=10, poll_seconds=60)
    task = asyncio.create_task(sweeper.run())
    await asyncio.sleep(0.01)
    sweeper.wake()
    await asyncio.sleep(0.01)
    sweeper.finish()
    release.set()
    await asyncio.wait_for(task, timeout=1)
    assert rounds == ["started", "ended"] * 3 and not task.cancelled()
