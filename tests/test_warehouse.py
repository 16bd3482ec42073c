"""The warehouse creates and upgrades itself idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import inspect, text

from chuyencan.core import warehouse as wh
from chuyencan.core.organisation import load_organisation
from chuyencan.core.reference import load_reference, write_reference


def test_schema_and_reference_are_idempotent(warehouse_url: str) -> None:
    engine = wh.make_engine(warehouse_url)
    ref, org = load_reference(), load_organisation()
    for _ in range(2):
        wh.ensure_schema(engine)
        write_reference(engine, ref, org)
    with engine.connect() as conn:
        counts = {
            t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in (
                "ref.school",
                "ref.commune",
                "ref.school_week",
                "ref.grade_level",
                "ref.admin_unit",
                "ref.reporting_unit",
                "ref.school_unit",
            )
        }
        inspector = inspect(conn)
        report_tables = set(inspector.get_table_names(schema="report"))
        restricted_tables = set(inspector.get_table_names(schema="restricted"))
    revision = wh.schema_revision(engine)
    engine.dispose()
    assert counts == {
        "ref.school": len(ref.schools),
        "ref.commune": len(ref.communes),
        "ref.school_week": len(ref.school_weeks),
        "ref.grade_level": 12,
        "ref.admin_unit": len(org.admin_units),
        "ref.reporting_unit": len(org.reporting_units),
        "ref.school_unit": len(org.assignments),
    }
    assert revision == wh.head_revision()
    assert {"submission_status", "attendance_weekly"} <= report_tables
    assert "student_entry" in restricted_tables
    assert "student_entry" not in report_tables


def test_report_tables_have_the_contract_columns(warehouse_url: str) -> None:
    engine = wh.make_engine(warehouse_url)
    wh.ensure_schema(engine)
    with engine.connect() as conn:
        inspector = inspect(conn)
        columns = {
            t: [c["name"] for c in inspector.get_columns(t, schema="report")]
            for t in ("submission_status", "attendance_weekly")
        }
    engine.dispose()
    # docs/contracts.md#5-warehouse, in order.
    assert columns["submission_status"] == [
        "week_ending",
        "school_code",
        "status",
        "received_at",
        "version",
        "error_count",
        "reporting_unit",
    ]
    assert columns["attendance_weekly"] == [
        "week_ending", "school_code", "commune", "level", "grade", "classes", "enrolled",
        "student_days_scheduled", "absent_excused", "absent_unexcused", "attendance_rate",
        "reporting_unit",
    ]  # fmt: skip


def test_sqlite_restricted_file_is_private(tmp_path: Path) -> None:
    db = tmp_path / "w" / "warehouse.db"
    engine = wh.make_engine(f"sqlite:///{db}")
    wh.ensure_schema(engine)
    engine.dispose()
    mode = stat.S_IMODE(wh.schema_file(db, "restricted").stat().st_mode)
    assert mode == 0o600
