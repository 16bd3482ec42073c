"""Warehouse roles on a fresh PostgreSQL database: the district reads `report` and never
`restricted`; tables created later follow the same rules; creating the roles twice is harmless.

Each test uses its own role names (roles are cluster-wide) and drops them afterwards. The
local server trusts loopback connections, so logging in as a role tests its CONNECT grant and
privileges, not its password; the password test checks the stored verifier instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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
                week_ending="2025-03-14",
                school_code="BX-AMS",
                reporting_unit="BAT_XAT",
                status="on_time",
                version=1,
                error_count=0,
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


def verifies(verifier: str, password: str) -> bool:
    """Does the stored SCRAM-SHA-256 verifier belong to `password`? (RFC 5802/7677: what the
    server checks at login; the local server trusts loopback, so a login cannot tell.)"""
    scheme, params, keys = verifier.split("$")
    iterations, salt = params.split(":")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (
        scheme == "SCRAM-SHA-256"
        and hashlib.sha256(client_key).digest() == stored_key
        and hmac.new(salted, b"Server Key", hashlib.sha256).digest() == server_key
    )


def test_password_is_stored_as_a_scram_verifier_of_the_password(setup) -> None:
    """The role's stored verifier is a SCRAM-SHA-256 one for the password from the environment
    (never the password, never MD5), and for no other password."""
    _url, names, admin = setup
    wr.ensure_roles(admin, names, PASSWORDS)
    with admin.connect() as conn:
        stored = conn.execute(
            text("SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(:r)"),
            {"r": [name for _, name in names.items()]},
        ).all()
    verifiers = dict(stored)
    for purpose, name in names.items():
        assert verifies(verifiers[name], PASSWORDS[purpose])
        assert not verifies(verifiers[name], PASSWORDS[purpose] + "x")


def test_grant_file_names_every_warehouse_schema() -> None:
    """A schema added to the warehouse must get an owner and a reader policy here too."""
    statements = wr.grant_statements("db")
    for schema in SCHEMAS:
        assert f'CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION "chuyencan_writer"' in statements
