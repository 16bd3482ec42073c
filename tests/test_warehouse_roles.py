"""Warehouse roles on a fresh PostgreSQL database: the district reads `report` and never
`restricted`; tables created later follow the same rules; creating the roles twice is harmless.

Each test uses its own role names (roles are cluster-wide) and drops them afterwards. The
local server trusts loopback connections, so logging in as a role tests its CONNECT grant and
privileges, not its password; the password test compares the stored verifier instead.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError

from chuyencan.core import roles as wr
from chuyencan.core import warehouse as wh
from chuyencan.core.schema import SCHEMAS, metadata, report_submission_status

pytestmark = pytest.mark.postgres

PASSWORDS = {"writer": "writer-pw-1", "district_reader": "district-pw-1", "restricted_reader": "restr-pw-1"}


@pytest.fixture
def setup(pg_url: str) -> Iterator[tuple[str, wr.WarehouseRoles, Engine]]:
    suffix = uuid.uuid4().hex[:8]
    names = wr.WarehouseRoles(f"t{suffix}_writer", f"t{suffix}_district", f"t{suffix}_restricted")
    admin = create_engine(pg_url)
    try:
        yield pg_url, names, admin
    finally:
        wr.drop_roles(admin, names)
        admin.dispose()


def login_as(url: str, role: str) -> Engine:
    return create_engine(make_url(url).set(username=role))


def can_select(engine: Engine, table: str) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    except ProgrammingError as exc:
        # Only "permission denied" counts as a refusal; any other error fails the test.
        if isinstance(exc.orig, psycopg.errors.InsufficientPrivilege):
            return False
        raise
    return True


def test_district_reads_report_and_nothing_restricted(setup) -> None:
    url, names, admin = setup
    assert wr.ensure_roles(admin, names, PASSWORDS)["roles"] == {
        names.writer: "login",
        names.district_reader: "login",
        names.restricted_reader: "login",
    }
    writer = wr.engine_as(url, names.writer)
    wh.ensure_schema(writer)  # the pipeline's first run, as the writer
    with writer.begin() as conn:
        conn.execute(
            report_submission_status.insert().values(
                week_ending="2025-03-14", school_code="BX-AMS", status="on_time", version=1, error_count=0
            )
        )
    district = login_as(url, names.district_reader)
    restricted = login_as(url, names.restricted_reader)
    try:
        with district.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM report.submission_status")).scalar() == 1
        assert can_select(district, "report.attendance_weekly")
        assert can_select(district, "ref.school")
        assert not can_select(district, "restricted.student_entry")
        assert not can_select(district, "ops.submission")
        with pytest.raises(DBAPIError), district.begin() as conn:
            conn.execute(text("DELETE FROM report.submission_status"))

        assert can_select(restricted, "restricted.student_entry")
        assert can_select(restricted, "report.submission_status")
        assert not can_select(restricted, "ops.email_outbox")
    finally:
        district.dispose()
        restricted.dispose()
        writer.dispose()


def test_tables_created_later_follow_the_rules(setup) -> None:
    url, names, admin = setup
    wr.ensure_roles(admin, names, PASSWORDS)
    writer = wr.engine_as(url, names.writer)
    with writer.begin() as conn:
        conn.execute(text("CREATE TABLE report.added_later (n int)"))
        conn.execute(text("CREATE TABLE restricted.added_later (n int)"))
    district = login_as(url, names.district_reader)
    restricted = login_as(url, names.restricted_reader)
    try:
        assert can_select(district, "report.added_later")
        assert not can_select(district, "restricted.added_later")
        assert can_select(restricted, "restricted.added_later")
    finally:
        for engine in (district, restricted, writer):
            engine.dispose()


def test_roles_twice_and_over_an_existing_warehouse(setup) -> None:
    """A warehouse the pipeline built as an admin before roles existed: the writer takes it over."""
    url, names, admin = setup
    wh.ensure_schema(admin)
    first = wr.ensure_roles(admin, names, PASSWORDS)
    second = wr.ensure_roles(admin, names, PASSWORDS)
    # every table, and Alembic's ops.alembic_version: the writer runs the next upgrade
    assert first["objects_reassigned"] == len(metadata.tables) + 1
    assert second["objects_reassigned"] == 0
    with admin.connect() as conn:
        owners = set(
            conn.execute(
                text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = ANY(:s)"),
                {"s": list(SCHEMAS)},
            ).scalars()
        )
    assert owners == {names.writer}
    district = login_as(url, names.district_reader)
    try:
        assert can_select(district, "report.submission_status")
        assert not can_select(district, "restricted.student_entry")
    finally:
        district.dispose()
    writer = wr.engine_as(url, names.writer)
    try:
        wh.ensure_schema(writer)  # the next pipeline run, now as the writer, upgrades in place
    finally:
        writer.dispose()


def test_password_is_stored_as_postgres_own_scram_verifier(setup) -> None:
    """Our verifier for a password equals the one PostgreSQL computes itself for the same salt,
    and the role's stored verifier is the one for the password from the environment."""
    _url, names, admin = setup
    wr.ensure_roles(admin, names, PASSWORDS)
    probe = f"{names.writer}_probe"
    with admin.begin() as conn:
        conn.execute(text("SET LOCAL password_encryption = 'scram-sha-256'"))
        conn.execute(text(f"CREATE ROLE {probe} PASSWORD 'Mật-khẩu 2025!'"))
        theirs = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": probe}
        ).scalar()
        stored = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": names.district_reader}
        ).scalar()
        conn.execute(text(f"DROP ROLE {probe}"))

    def salt_and_iterations(verifier: str) -> tuple[bytes, int]:
        iterations, salt = verifier.split("$")[1].split(":")
        return base64.b64decode(salt), int(iterations)

    salt, iterations = salt_and_iterations(theirs)
    assert wr.scram_sha256("Mật-khẩu 2025!", salt=salt, iterations=iterations) == theirs
    salt, iterations = salt_and_iterations(stored)
    assert wr.scram_sha256(PASSWORDS["district_reader"], salt=salt, iterations=iterations) == stored


def test_grant_file_names_every_warehouse_schema() -> None:
    """A schema added to the warehouse must get an owner and a reader policy here too."""
    statements = wr.grant_statements("db")
    for schema in SCHEMAS:
        assert f'CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION "chuyencan_writer"' in statements
