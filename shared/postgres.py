"""Synchronous PostgreSQL connections (migrations, roles, databases) with a time limit: a server
that does not answer fails the attempt (start-up then tries again) rather than hang it."""
import psycopg

CONNECT_TIMEOUT_SECONDS = 10


def connect(url: str, **options) -> psycopg.Connection:
    return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS, **options)
