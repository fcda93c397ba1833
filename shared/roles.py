"""Each service's own PostgreSQL role, `linli_<service>`: it logs in, and may read and write
the tables of its own schema and nothing else (no other schema, no DDL, no superuser). The
owner (DATABASE_URL, who runs the migrations) creates it and grants it its tables after
every migration; in a city the owner is a dedicated role with CREATEROLE, or a DBA creates the
service roles beforehand and the owner only grants."""
from urllib.parse import quote, urlsplit, urlunsplit

from psycopg import sql

from shared.postgres import connect


def role_of(service: str) -> str:
    return f"linli_{service}"


def service_url(owner_url: str, service: str, password: str | None) -> str:
    """The owner's URL (host, port, database, options) with the service's role and password."""
    parts = urlsplit(owner_url)
    credentials = role_of(service) + (f":{quote(password, safe='')}" if password else "")
    host = parts.hostname or ""
    netloc = f"{credentials}@{f'[{host}]' if ':' in host else host}{f':{parts.port}' if parts.port else ''}"
    return urlunsplit(parts._replace(netloc=netloc))


def ensure_role(owner_url: str, maintenance_url: str, service: str, password: str | None) -> None:
    """Create the service's role if it is missing (its password set when one is given).
    Roles belong to the whole server, not one database, so the check and the creation take a
    lock in the maintenance database: migrations of several databases at once never race."""
    role = sql.Identifier(role_of(service))
    with connect(maintenance_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('linli.roles'))")
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role_of(service),)).fetchone()
        login = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT")
        if password:
            login = sql.SQL("{} PASSWORD {}").format(login, sql.Literal(password))
        statement = "ALTER ROLE {} {}" if exists else "CREATE ROLE {} {}"
        if password or not exists:
            conn.execute(sql.SQL(statement).format(role, login))
    grant_own_schema(owner_url, service)


def grant_own_schema(owner_url: str, service: str) -> None:
    """The role may use its schema's tables and sequences (those of every migration so far)."""
    role, schema = sql.Identifier(role_of(service)), sql.Identifier(service)
    database = sql.Identifier(urlsplit(owner_url).path.lstrip("/"))
    with connect(owner_url) as conn:
        # One grant at a time in this database: services starting together all grant CONNECT on
        # the same database row, and concurrent GRANTs fail with "tuple concurrently updated".
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('linli.grants'))")
        for statement in ("GRANT CONNECT ON DATABASE {database} TO {role}",
                          "REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
                          "GRANT USAGE ON SCHEMA {schema} TO {role}",
                          "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                          "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"):
            conn.execute(sql.SQL(statement).format(database=database, role=role, schema=schema))
