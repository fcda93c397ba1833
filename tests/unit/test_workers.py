"""How readiness sees a background worker, with no servers."""
import asyncio

from shared import workers
from shared.workers import Worker, alive


async def beating(period: float) -> None:
    while True:
        alive("beating", period)
        await asyncio.sleep(period)


async def finishes() -> None:
    return None


async def raises() -> None:
    raise RuntimeError("a bug")


async def test_a_worker_is_named_by_its_loop_and_ok_while_it_beats():
    worker = Worker.start(beating(0.01))
    await asyncio.sleep(0.05)
    assert (worker.heartbeat.name, worker.state()) == ("beating", "ok")
    worker.task.cancel()


async def test_a_worker_that_raised_is_dead_and_a_one_off_job_that_ended_is_finished():
    dead, done = Worker.start(raises()), Worker.start(finishes())
    await asyncio.sleep(0.01)
    assert (dead.state(), done.state()) == ("dead", "finished")


async def test_a_worker_whose_round_has_not_come_for_three_periods_and_a_minute_is_stuck(monkeypatch):
    worker = Worker.start(beating(30))
    await asyncio.sleep(0.01)
    started = worker.heartbeat.at
    monkeypatch.setattr(workers.time, "monotonic", lambda: started + 89)
    assert worker.state() == "ok"
    monkeypatch.setattr(workers.time, "monotonic", lambda: started + 91)
    assert worker.state() == "stuck"
    worker.task.cancel()



async def test_a_worker_that_raised_is_logged_by_its_error_s_type_and_place_not_its_message(caplog):
    async def leaks() -> None:
        alive("leaking", 1.0)
        raise ValueError("王芳 13800138000")
    Worker.start(leaks())
    await asyncio.sleep(0.01)
    [record] = [r for r in caplog.records if r.name == "shared.workers"]
    assert "leaking died: ValueError at" in record.getMessage() and "test_workers.py" in record.getMessage()
    assert "13800138000" not in caplog.text and "王芳" not in caplog.text


async def test_a_worker_cancelled_or_finished_is_not_logged(caplog):
    stopped, done = Worker.start(beating(0.01)), Worker.start(finishes())
    await asyncio.sleep(0.02)
    stopped.task.cancel()
    await asyncio.sleep(0.01)
    assert [r for r in caplog.records if r.name == "shared.workers"] == []
    assert done.state() == "finished"
