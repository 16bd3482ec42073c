"""Warehouse roles on PostgreSQL: the pipeline writes, the district reads the aggregates, and only
the roles that need them read children's personal data (docs/contracts.md#5-warehouse, schema `restricted`).

    python -m chuyencan.core.roles --admin-url postgresql://postgres@127.0.0.1:5432/chuyencan [--create-schema]

Idempotent: run on every deploy (the docker-compose init service does). Roles are created when
missing and brought back to the grants in include/sql/warehouse_roles.sql; a role whose password
variable is set gets LOGIN and that password, a role without one keeps what it had (a new one
cannot log in). Passwords reach the server only as SCRAM verifiers, never in clear, so no server
log or statement statistics can show them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from chuyencan.core import warehouse as wh
from chuyencan.core.schema import SCHEMAS

SQL_FILE = Path(__file__).resolve().parents[3] / "include" / "sql" / "warehouse_roles.sql"
# Where each role's password comes from (docker-compose passes them to the init service only).
PASSWORD_ENV = {
    "writer": "CHUYENCAN_WRITER_PASSWORD",
    "district_reader": "CHUYENCAN_DISTRICT_PASSWORD",
    "restricted_reader": "CHUYENCAN_RESTRICTED_PASSWORD",
}
ADMIN_URL_ENV = "CHUYENCAN_WAREHOUSE_ADMIN_URL"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class WarehouseRoles:
    """Role names; tests and the integration run use their own to stay out of each other's way."""

    writer: str = "chuyencan_writer"
    district_reader: str = "chuyencan_district_reader"
    restricted_reader: str = "chuyencan_restricted_reader"

    def __post_init__(self) -> None:
        for f in fields(self):
            if not _ROLE_NAME.match(getattr(self, f.name)):
                raise ValueError(f"role name for {f.name} must be lower-case letters, digits and _")

    def items(self) -> list[tuple[str, str]]:
        """(purpose, role name) pairs: purpose is a key of PASSWORD_ENV."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


ROLES = WarehouseRoles()


def passwords_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    env = os.environ if environ is None else environ
    return {purpose: (env.get(var) or None) for purpose, var in PASSWORD_ENV.items()}


def scram_verifier(conn: Connection, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password`, computed on this side by
    libpq (PQencryptPasswordConn, through psycopg) so the password itself is never sent."""
    driver = conn.connection.driver_connection
    assert driver is not None, "a PostgreSQL connection through psycopg"
    verifier: bytes = driver.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return verifier.decode("ascii")


def grant_statements(
    database: str, roles: WarehouseRoles = ROLES, quote: Callable[[str], str] | None = None
) -> list[str]:
    """include/sql/warehouse_roles.sql with the names filled in, one statement per item."""
    q = quote or (lambda name: '"' + name.replace('"', '""') + '"')
    names = {purpose: q(name) for purpose, name in roles.items()}
    body = "\n".join(
        line
        for line in SQL_FILE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    )
    filled = body.format(database=q(database), **names)
    return [s.strip() for s in filled.split(";") if s.strip()]


def _ensure_role(conn: Connection, name: str, password: str | None) -> None:
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
    if not exists:
        try:
            with conn.begin_nested():
                conn.execute(text(f'CREATE ROLE "{name}"'))
        except DBAPIError as exc:
            # Roles are cluster-wide: another database's init may have just created it.
            if "already exists" not in str(exc.orig):
                raise
    conn.execute(text(f'ALTER ROLE "{name}" NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS'))
    if password:
        try:
            # Driver-level: the verifier's ':' would read as a bind parameter to text().
            conn.exec_driver_sql(
                f"ALTER ROLE \"{name}\" LOGIN PASSWORD '{scram_verifier(conn, name, password)}'"
            )
        except SQLAlchemyError as exc:
            # The statement holds only a verifier, but keep even that out of tracebacks.
            reason = getattr(exc, "orig", None) or type(exc).__name__
            raise RuntimeError(f"could not set the password of role {name}: {reason}") from None


def _reassign_existing(conn: Connection, writer: str) -> int:
    """Tables and sequences made before the roles existed (or by an admin) go to the writer, so
    that it can keep altering them and default privileges see one owner."""
    rows = conn.execute(
        text(
            """
            SELECT n.nspname, c.relname, c.relkind
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
              AND pg_get_userbyid(c.relowner) <> :writer
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
            """
        ),
        {"schemas": list(SCHEMAS), "writer": writer},
    ).all()
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    for schema, name, kind in rows:
        conn.execute(text(f'ALTER {kinds[kind]} "{schema}"."{name}" OWNER TO "{writer}"'))
    return len(rows)


def ensure_roles(
    engine: Engine, roles: WarehouseRoles = ROLES, passwords: Mapping[str, str | None] | None = None
) -> dict[str, object]:
    """Create or update the three roles and their grants on the warehouse `engine` points at.

    `engine` connects as a superuser or a role with CREATEROLE that owns the database. Returns
    a summary without passwords.
    """
    if engine.dialect.name != "postgresql":
        raise ValueError("warehouse roles exist only on PostgreSQL (SQLite uses file permissions)")
    passwords = passwords_from_env() if passwords is None else passwords
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('chuyencan_roles'))"))
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        for purpose, name in roles.items():
            _ensure_role(conn, name, passwords.get(purpose))
        if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            # ALTER DEFAULT PRIVILEGES FOR ROLE writer needs membership in it.
            conn.execute(text(f'GRANT "{roles.writer}" TO CURRENT_USER'))
        for statement in grant_statements(database, roles, quote):
            conn.execute(text(statement))
        reassigned = _reassign_existing(conn, roles.writer)
        logins: dict[str, bool] = dict(
            conn.execute(
                text("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(:n)"),
                {"n": [name for _, name in roles.items()]},
            ).all()
        )
    return {
        "database": database,
        "roles": {name: ("login" if logins.get(name) else "no login") for _, name in roles.items()},
        "objects_reassigned": reassigned,
    }


def drop_roles(engine: Engine, roles: WarehouseRoles = ROLES) -> None:
    """Remove the roles and everything they own or were granted in this database (tests and the
    integration run clean up with it; the other databases must not hold objects of theirs)."""
    names = [name for _, name in roles.items()]
    with engine.begin() as conn:
        present = [
            n
            for n in names
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": n}).first()
        ]
        # One role per DROP OWNED: with several, PostgreSQL trips over a default ACL that
        # names more than one of them ("could not find tuple for default ACL").
        for n in present:
            conn.execute(text(f'DROP OWNED BY "{n}"'))
        for n in present:
            conn.execute(text(f'DROP ROLE IF EXISTS "{n}"'))


def postgres_url(url: str) -> str:
    """psycopg 3, like the rest of the package, whatever driver the URL names."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("the warehouse admin URL must be a postgresql:// URL")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def engine_as(url: str, role: str) -> Engine:
    """An engine whose sessions act as `role` (SET ROLE at connect): objects it creates are
    owned by that role, as if the pipeline had logged in with it."""
    return create_engine(
        postgres_url(url),
        connect_args={"options": f"-c role={role}"},
        pool_pre_ping=True,
        hide_parameters=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chuyencan.core.roles",
        description="Create or update the warehouse roles and grants (idempotent).",
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(ADMIN_URL_ENV),
        help=f"PostgreSQL URL of the warehouse database as a superuser (default ${ADMIN_URL_ENV})",
    )
    parser.add_argument(
        "--create-schema",
        action="store_true",
        help="also create the warehouse tables now, owned by the writer (otherwise the first run does)",
    )
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error(f"--admin-url or ${ADMIN_URL_ENV} is required")
    admin = create_engine(postgres_url(args.admin_url), hide_parameters=True)
    try:
        summary = ensure_roles(admin)
    finally:
        admin.dispose()
    if args.create_schema:
        writer = engine_as(args.admin_url, ROLES.writer)
        try:
            wh.ensure_schema(writer)
            summary["schema_revision"] = wh.schema_revision(writer)
        finally:
            writer.dispose()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
