"""The warehouse: engine creation, schemas and tables, idempotent creation and upgrade.

Both warehouse kinds use schema-qualified names (`report.submission_status`), so one set of
SQL serves both. PostgreSQL has real schemas. SQLite gets one database file per schema,
attached under the schema's name on every connection: `warehouse.db` holds the bookkeeping
of the schema version; `warehouse.report.db`, `warehouse.restricted.db` … sit beside it.
The restricted file is created with mode 0600, the closest SQLite gets to a restricted role.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

SCHEMAS = ("ref", "ops", "report", "restricted")

# Changes `create_all` cannot make on an existing warehouse (a new column, a changed index) go
# here as numbered steps, each written to work on both PostgreSQL and SQLite. New tables need
# no step: `create_all` adds them. Applied in order, once, recorded in ops.meta.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, ()),
    # A file of 2 GiB or more is recorded (refused as too large) with its real size.
    (
        2,
        (
            "ALTER TABLE ops.submission ALTER COLUMN file_size TYPE BIGINT",
            "ALTER TABLE ops.police_extract ALTER COLUMN file_size TYPE BIGINT",
        ),
    ),
)
# SQLite stores any integer in 8 bytes: a column type change there is a no-op.
_POSTGRES_ONLY = ("ALTER TABLE",)
SCHEMA_VERSION = MIGRATIONS[-1][0]

metadata = MetaData()

# --- ref: reference data, reloaded from include/reference on every run -----------------------
ref_school = Table(
    "school",
    metadata,
    Column("school_code", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("grade_min", Integer, nullable=False),
    Column("grade_max", Integer, nullable=False),
    Column("commune", Text),
    Column("boarding", String(16)),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("email", Text),
    schema="ref",
)
ref_commune = Table(
    "commune",
    metadata,
    Column("commune_name", Text, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("district", Text, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("successor", Text),
    Column("aliases", Text),
    Column("verified", Boolean, nullable=False),
    schema="ref",
)
ref_calendar = Table(
    "calendar_event",
    metadata,
    Column("school_year", String(9), nullable=False),
    Column("event", String(16), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("label", Text, nullable=False),
    Column("verified", Boolean, nullable=False),
    UniqueConstraint("school_year", "event", "start_date"),
    schema="ref",
)
ref_school_week = Table(
    "school_week",
    metadata,
    Column("week_ending", Date, primary_key=True),
    Column("school_year", String(9), nullable=False),
    Column("school_days", Integer, nullable=False),
    schema="ref",
)

ref_grade_level = Table(
    "grade_level",
    metadata,
    Column("grade", Integer, primary_key=True),
    Column("level", String(4), nullable=False),
    schema="ref",
)

# --- ops: the pipeline's own bookkeeping and non-personal facts ------------------------------
ops_meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    schema="ops",
)
ops_submission = Table(
    "submission",
    metadata,
    Column("submission_id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("inbox_path", Text, nullable=False),  # relative to the inbox
    Column("file_size", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),  # the file's time
    Column("processed_at", DateTime(timezone=True), nullable=False),
    Column("school_code", String(32)),  # as read from the workbook (null if unreadable)
    Column("week_ending", Date),
    Column("outcome", String(16), nullable=False),  # accepted / rejected
    Column("version", Integer),  # accepted versions of (school, week), 1-based
    Column("error_count", Integer, nullable=False),
    Column("warning_count", Integer, nullable=False),
    Column("stored_path", Text, nullable=False),  # archive or quarantine copy, in the work dir
    Column("summary", Text),  # first error, for the operator (no personal data)
    schema="ops",
)
Index("ix_submission_school_week", ops_submission.c.school_code, ops_submission.c.week_ending)
ops_submission_issue = Table(
    "submission_issue",
    metadata,
    Column("submission_id", Integer, nullable=False, index=True),
    Column("severity", String(8), nullable=False),  # error / warning
    Column("sheet", String(32)),
    Column("row", Integer),
    Column("column_key", String(32)),
    Column("rule", String(64), nullable=False),
    Column("value", Text),  # masked for personal columns
    Column("class_name", Text),
    schema="ops",
)
ops_current_submission = Table(
    "current_submission",
    metadata,
    Column("school_code", String(32), primary_key=True),
    Column("week_ending", Date, primary_key=True),
    Column("submission_id", Integer, nullable=False),
    schema="ops",
)
ops_class_attendance = Table(
    "class_attendance",
    metadata,
    Column("submission_id", Integer, nullable=False),
    Column("school_code", String(32), nullable=False),
    Column("week_ending", Date, nullable=False),
    Column("grade", Integer, nullable=False),
    Column("class_name", Text, nullable=False),
    Column("enrolled", Integer, nullable=False),
    Column("school_days", Integer, nullable=False),
    Column("absent_excused", Integer, nullable=False),
    Column("absent_unexcused", Integer, nullable=False),
    Column("source_row", Integer, nullable=False),
    UniqueConstraint("submission_id", "class_name"),
    schema="ops",
)
Index("ix_class_attendance_week", ops_class_attendance.c.week_ending, ops_class_attendance.c.school_code)
ops_email_outbox = Table(
    "email_outbox",
    metadata,
    Column("email_id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("attachments", Text),  # JSON list of paths in the work dir
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    schema="ops",
)

# --- report: the contract's aggregates, read by the district (CONTRACTS §5) ------------------
report_submission_status = Table(
    "submission_status",
    metadata,
    Column("week_ending", Date, primary_key=True),
    Column("school_code", String(32), primary_key=True),
    Column("status", String(8), nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False),
    Column("error_count", Integer, nullable=False),
    schema="report",
)
report_attendance_weekly = Table(
    "attendance_weekly",
    metadata,
    Column("week_ending", Date, primary_key=True),
    Column("school_code", String(32), primary_key=True),
    Column("commune", Text),
    Column("level", String(4), nullable=False),
    Column("grade", Integer, primary_key=True),
    Column("classes", Integer, nullable=False),
    Column("enrolled", Integer, nullable=False),
    Column("student_days_scheduled", Integer, nullable=False),
    Column("absent_excused", Integer, nullable=False),
    Column("absent_unexcused", Integer, nullable=False),
    Column("attendance_rate", Float),
    schema="report",
)

# --- restricted: personal data (children) -----------------------------------------------------
restricted_student_entry = Table(
    "student_entry",
    metadata,
    Column("submission_id", Integer, nullable=False, index=True),
    Column("school_code", String(32), nullable=False),
    Column("week_ending", Date, nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("student_key", String(64), nullable=False),
    Column("personal_id", String(12)),
    Column("full_name", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(1), nullable=False),
    Column("ethnicity", Text),
    Column("grade", Integer, nullable=False),
    Column("class_name", Text, nullable=False),
    Column("commune", Text, nullable=False),
    Column("village", Text, nullable=False),
    Column("parent_name", Text),
    Column("status", String(16), nullable=False),
    Column("first_day_missed", Date),
    Column("sessions_missed", Integer, nullable=False),
    Column("reason_code", String(16)),
    Column("reason_text", Text),
    Column("destination", Text),
    schema="restricted",
)


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


# Packages that define their own tables on `metadata` (police reconciliation, the fortnightly
# report); imported before creating tables so that every table is known.
TABLE_MODULES = ("chuyencan.police.tables", "chuyencan.report.tables")


def ensure_schema(engine: Engine) -> None:
    """Create schemas and tables that do not exist yet, then record the schema version."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Two workers starting at once would race on CREATE SCHEMA; serialise them.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('chuyencan_schema'))"))
            for schema in SCHEMAS:
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        current = _schema_version(conn)
        metadata.create_all(conn, checkfirst=True)
        for version, statements in MIGRATIONS:
            if current is not None and version > current:
                for statement in statements:
                    if engine.dialect.name != "postgresql" and statement.startswith(_POSTGRES_ONLY):
                        continue
                    conn.execute(text(statement))
        _upsert_meta(conn, "schema_version", str(SCHEMA_VERSION))


def _schema_version(conn: Connection) -> int | None:
    """The version an existing warehouse is at; None for a new one (create_all builds it whole)."""
    if not inspect(conn).has_table("meta", schema="ops"):
        return None
    value = conn.execute(select(ops_meta.c.value).where(ops_meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else None


def _upsert_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(ops_meta.delete().where(ops_meta.c.key == key))
    conn.execute(ops_meta.insert().values(key=key, value=value))


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


def restrict_file_permissions(engine: Engine) -> None:
    db_path = sqlite_path_from_url(str(engine.url))
    if db_path is not None:
        os.chmod(schema_file(db_path, "restricted"), 0o600)
