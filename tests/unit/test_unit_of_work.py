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
