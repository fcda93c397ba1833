"""The unit of work's hold on its connection, with no servers: a start that fails (a service
stopping cancels the task while BEGIN is under way) gives the connection back."""
import asyncio

import pytest

from shared.unit_of_work import UnitOfWork


class Transaction:
    async def start(self):
        raise asyncio.CancelledError  # cancelled after BEGIN was sent, before it answered


class Connection:
    def transaction(self):
        return Transaction()


class Pool:
    def __init__(self):
        self.lent, self.released = Connection(), []

    async def acquire(self):
        return self.lent

    async def release(self, connection):
        self.released.append(connection)


async def test_a_unit_of_work_cancelled_while_it_begins_gives_its_connection_back():
    pool = Pool()
    with pytest.raises(asyncio.CancelledError):
        async with UnitOfWork(pool, lambda: None):
            pytest.fail("the body must not run")
    assert pool.released == [pool.lent]


class Committing:
    def __init__(self, log):
        self.log = log

    async def start(self):
        self.log.append("begin")

    async def commit(self):
        self.log.append("commit")

    async def rollback(self):
        self.log.append("rollback")


class Working(Pool):
    def __init__(self):
        super().__init__()
        self.log = []
        self.lent.transaction = lambda: Committing(self.log)


async def test_work_after_the_commit_runs_once_it_has_committed_plain_or_async():
    pool = Working()

    async def decide():
        pool.log.append("decided")
    async with UnitOfWork(pool, lambda: pool.log.append("relay woken")) as uow:
        uow.after_commit(lambda: pool.log.append("counted"))
        uow.after_commit(decide)
        pool.log.append("work")
    assert pool.log == ["begin", "work", "commit", "counted", "decided"]


async def test_work_after_the_commit_never_runs_when_the_transaction_rolls_back():
    pool = Working()
    with pytest.raises(ValueError):
        async with UnitOfWork(pool, lambda: None) as uow:
            uow.after_commit(lambda: pool.log.append("counted"))
            raise ValueError("the handler failed")
    assert pool.log == ["begin", "rollback"] and pool.released == [pool.lent]


async def test_what_the_messages_collect_is_written_once_just_before_the_commit():
    pool = Working()

    async def write(connection, cells):
        pool.log.append(("written", connection is pool.lent, sorted(cells)))
    async with UnitOfWork(pool, lambda: None) as uow:
        for cell in ("b", "a"):
            uow.collect("cells", set, write).add(cell)
            pool.log.append("work")
    assert pool.log == ["begin", "work", "work", ("written", True, ["a", "b"]), "commit"]


@pytest.mark.parametrize("failing", ["handler", "write"])
async def test_nothing_commits_when_the_handler_or_the_collected_write_fails(failing):
    pool = Working()

    async def write(connection, cells):
        pool.log.append("written")
        if failing == "write":
            raise ValueError("the write failed")
    with pytest.raises(ValueError):
        async with UnitOfWork(pool, lambda: None) as uow:
            uow.collect("cells", set, write)
            if failing == "handler":
                raise ValueError("the handler failed")
    assert pool.log == ["begin", *(["written"] if failing == "write" else []), "rollback"]
    assert pool.released == [pool.lent]


async def test_a_lock_already_held_is_not_taken_again_until_the_transaction_ends():
    pool = Working()
    uow = UnitOfWork(pool, lambda: None)
    async with uow:
        assert uow.not_yet_held(["b", "a", "b"]) == ["a", "b"]  # a batch's, sorted
        assert uow.not_yet_held(["a"]) == [] and uow.not_yet_held(["c", "a"]) == ["c"]  # then its messages'
    async with uow:
        assert uow.not_yet_held(["a"]) == ["a"]  # held no more


async def test_what_the_messages_gather_for_after_the_commit_is_handed_over_once_committed():
    pool = Working()
    async with UnitOfWork(pool, lambda: None) as uow:
        for community in ("c-2", "c-1", "c-2"):
            uow.after_commit_with("dispatch", set, lambda gathered: pool.log.append(sorted(gathered))).add(community)
        pool.log.append("work")
    assert pool.log == ["begin", "work", "commit", ["c-1", "c-2"]]


async def test_what_the_messages_gather_is_never_handed_over_when_the_transaction_rolls_back():
    pool = Working()
    with pytest.raises(ValueError):
        async with UnitOfWork(pool, lambda: None) as uow:
            uow.after_commit_with("dispatch", set, pool.log.append).add("c-1")
            raise ValueError("the handler failed")
    assert pool.log == ["begin", "rollback"]
