"""A TCP proxy between a service and a real server (PostgreSQL, RabbitMQ), so a test can take
the server away from that service alone, as an outage or a failover would, and bring it back,
without stopping the server every other test uses."""
import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

from tests.e2e.processes import free_port


class Proxy:
    def __init__(self, target_host: str, target_port: int):
        self._target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.AbstractServer | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    def url(self, server_url: str) -> str:
        """`server_url` with this proxy's address instead of the server's."""
        parts = urlsplit(server_url)
        netloc = parts.netloc.rsplit("@", 1)
        address = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{address}" if len(netloc) == 2 else address))

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)

    async def down(self) -> None:
        """Refuse new connections and cut every open one, as a server that went away."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._pipes):
            writer.transport.abort()
        self._pipes.clear()

    async def _connect(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._pipes.update((client_writer, server_writer))
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@contextlib.asynccontextmanager
async def proxy_to(server_url: str, default_port: int, start_up: bool = True) -> AsyncIterator[Proxy]:
    parts = urlsplit(server_url)
    proxy = Proxy(parts.hostname, parts.port or default_port)
    if start_up:
        await proxy.up()
    try:
        yield proxy
    finally:
        await proxy.down()
