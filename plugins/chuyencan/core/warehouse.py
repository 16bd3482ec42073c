"""The warehouse: engine creation, and its creation and upgrade through Alembic (core/migrations).

The tables are in `chuyencan.core.schema`.

Both warehouse kinds use schema-qualified names (`report.submission_status`), so one set of
SQL serves both. PostgreSQL has real schemas. SQLite gets one database file per schema,
attached under the schema's name on every connection: `warehouse.db` itself stays empty;
`warehouse.ops.db` (with Alembic's version table), `warehouse.report.db`,
`warehouse.restricted.db` … sit beside it.
The restricted file is created with mode 0600, the closest SQLite gets to a restricted role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection

from chuyencan.core.schema import SCHEMAS

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic's bookkeeping: `ops.alembic_version` (core/migrations/env.py).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
VERSION_TABLE_SCHEMA = "ops"
# The revision that is the warehouse as the last release before Alembic created it; such a
# warehouse has ops.meta schema_version = 1 and no version table, and is stamped, not rebuilt.
RELEASED_BEFORE_ALEMBIC = ("1", "0001")


def sqlite_path_from_url(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    return Path(url[len(prefix) :])


def schema_file(main_db: Path, schema: str) -> Path:
    return main_db.with_name(f"{main_db.stem}.{schema}{main_db.suffix or '.db'}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for a SQLAlchemy URL; on SQLite, with the schema files attached."""
    db_path = sqlite_path_from_url(url)
    # A statement's parameters are children's rows: never in an exception's text or a log.
    kwargs.setdefault("hide_parameters", True)
    if db_path is None:
        return create_engine(url, pool_pre_ping=True, **kwargs)

    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _attach(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; let SQLAlchemy emit it so a
        # load is one transaction across all attached files.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA foreign_keys = ON")
        for schema in SCHEMAS:
            path = schema_file(db_path, schema)
            if schema == "restricted" and not path.exists():
                path.touch(mode=0o600)
            cur.execute(f"ATTACH DATABASE '{path}' AS {schema}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: two overlapping runs queue instead of
        # failing half-way with "database is locked".
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the warehouse; with `connection`, migrations run on it."""
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def ensure_schema(engine: Engine) -> None:
    """Create the warehouse or upgrade it to the newest Alembic revision (idempotent).

    One transaction, serialised on PostgreSQL, so two workers starting at once take turns.
    """
    from alembic import command

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Two workers starting at once would race on CREATE SCHEMA; serialise them.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('chuyencan_schema'))"))
            for schema in SCHEMAS:
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        config = alembic_config(conn)
        released = _released_before_alembic(conn)
        if released is not None:
            command.stamp(config, released)
        command.upgrade(config, "head")


def _released_before_alembic(conn: Connection) -> str | None:
    """The revision a warehouse created before Alembic is at (None: Alembic knows it, or new)."""
    insp = inspect(conn)
    if insp.has_table(VERSION_TABLE, schema=VERSION_TABLE_SCHEMA) or not insp.has_table("meta", schema="ops"):
        return None
    version = conn.execute(text("SELECT value FROM ops.meta WHERE key = 'schema_version'")).scalar()
    old_version, revision = RELEASED_BEFORE_ALEMBIC
    if version != old_version:
        raise RuntimeError(
            f"The warehouse says schema_version {version!r} in ops.meta but has no Alembic version table; "
            f"only {old_version!r} (the last release before Alembic) can be adopted."
        )
    return revision


def head_revision() -> str:
    """The newest Alembic revision: what ensure_schema brings every warehouse to."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "core/migrations/versions has no revision"
    return head


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the warehouse is at (None before ensure_schema)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "version_table_schema": VERSION_TABLE_SCHEMA}
        )
        return context.get_current_revision()


def serialise(conn: Connection, key: str) -> None:
    """Hold a PostgreSQL advisory lock named `key` until this transaction ends, so overlapping
    runs doing the same delete-and-rewrite take turns instead of colliding on the rewrite.

    SQLite needs nothing more: BEGIN IMMEDIATE already lets one writer in at a time.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


@contextmanager
def school_week_lock(conn: Connection, school_code: str, week: object) -> Iterator[None]:
    """Serialise loads of the same school and week across overlapping runs (PostgreSQL).

    SQLite needs nothing more: BEGIN IMMEDIATE already lets one writer in at a time.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"{school_code}|{week}"},
        )
    yield
