"""What operators see (issue 15), through Airflow's own `dag.test()` with a real SMTP server on
loopback: bad outcomes end red, a failed run emails the engineers once, each run's outcome is
its note, and a collection task's log carries our lines, not Great Expectations' chatter.

`dag.test()` runs the DAG-level failure callback and the scheduler's run-state listeners
in-process, as the scheduler and the dag-processor do in a deployment.
"""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chuyencan.core.reference import load_reference
from chuyencan.core.runs import engine_for
from chuyencan.core.settings import TIMEZONE
from tests.helpers import configure_airflow, load_dag, received
from tests.school_files import ClassRow, SchoolWeek, write_school_file

pytestmark = pytest.mark.airflow

DISTRICT = "pgd.batxat@example.org"
ENGINEERS = "data.engineers@example.org"
WEEK = date(2025, 3, 14)
GAP_WEEK = date(2026, 12, 4)  # the calendar ships school years 2024-25 and 2025-26 only


@pytest.fixture
def setup(tmp_path: Path, sqlite_url: str, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch):
    inbox, work, police = tmp_path / "inbox", tmp_path / "work", tmp_path / "police"
    for folder in (inbox, police):
        folder.mkdir()
    configure_airflow(
        monkeypatch,
        warehouse_url=sqlite_url,
        smtp_port=smtp_sink.port,
        inbox=str(inbox),
        police_inbox=str(police),
        work_dir=str(work),
        district_email=DISTRICT,
        engineer_email=ENGINEERS,
    )
    return {"inbox": inbox, "work": work, "url": sqlite_url, "sink": smtp_sink, "ref": load_reference()}


def run(dag_id: str, day: date, hour_utc: int) -> Any:
    """One dag.test() run; the stored run (state, note) and its task states."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    result = load_dag(dag_id).test(
        logical_date=datetime(day.year, day.month, day.day, hour_utc, 0, tzinfo=UTC)
    )
    with create_session() as session:
        stored = session.get(DagRun, result.id)
        tasks = {ti.task_id: str(ti.state) for ti in stored.get_task_instances(session=session)}
        return {
            "state": str(stored.state),
            "note": stored.note or "",
            "tasks": tasks,
            "run_id": stored.run_id,
        }


def plain(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Every log record that reaches the root's handlers during the test."""

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    kept: list[logging.LogRecord] = []
    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield kept
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_calendar_gap_ends_the_run_red_says_which_file_and_emails_the_engineers_once(
    setup: dict[str, Any],
) -> None:
    outcome = run("school_submissions_weekly", GAP_WEEK, 4)

    assert outcome["state"] == "failed"
    assert outcome["tasks"]["check_school_calendar"] == "failed"
    # Nothing downstream pretends: no collection, no statuses, no district email, no templates.
    for task in ("collect_new_files", "close_the_week", "send_emails", "write_next_week_templates"):
        assert outcome["tasks"][task] == "upstream_failed", task
    assert "include/reference/calendar.csv" in outcome["note"]
    assert outcome["note"].startswith("FAILED")
    with engine_for(setup["url"]).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM report.submission_status")).scalar_one() == 0

    (notice,) = received(setup["sink"])  # one email per failed run, to the engineers only
    assert [a.addr_spec for a in notice["To"].addresses] == [ENGINEERS]
    assert "FAILED school_submissions_weekly" in notice["Subject"]
    assert "check_school_calendar" in notice["Subject"]
    text_part = plain(notice)
    assert outcome["run_id"] in text_part
    assert f"/dags/school_submissions_weekly/runs/{outcome['run_id'].replace('+', '%2B')}" in text_part or (
        "/dags/school_submissions_weekly/runs/" in text_part and "/tasks/check_school_calendar" in text_part
    )


def test_the_police_reconciliation_does_not_email_counts_for_a_week_the_calendar_lacks(
    setup: dict[str, Any],
) -> None:
    outcome = run("police_reconciliation", GAP_WEEK, 5)

    assert outcome["state"] == "failed"
    assert outcome["tasks"]["email_district_counts"] == "upstream_failed"
    messages = received(setup["sink"])
    assert [m["To"] for m in messages] == [ENGINEERS]


def test_a_week_with_most_schools_missing_is_marked_red_after_its_work_is_done(
    setup: dict[str, Any], records: list[logging.LogRecord]
) -> None:
    ref, inbox = setup["ref"], setup["inbox"]
    on_time = datetime(2025, 3, 13, 15, 0, tzinfo=TIMEZONE)
    write_school_file(
        ref,
        SchoolWeek("BX-AMS", WEEK, [ClassRow(6, "6A", 32, 5, 3, 2)]),
        inbox / "AMS" / "tuan.xlsx",
        on_time,
    )
    write_school_file(
        ref,
        SchoolWeek("BX-YTY", WEEK, [ClassRow(6, "6A", 35, 5, 100, 90)]),  # absences exceed sĩ số × days
        inbox / "YTY" / "chuyen can.xlsx",
        on_time,
    )

    outcome = run("school_submissions_weekly", WEEK, 4)

    # The week's work is done (statuses, the district's email, next week's templates) and the
    # run ends red on its last check.
    assert outcome["state"] == "failed"
    assert {t for t, s in outcome["tasks"].items() if s != "success"} == {"check_schools_reported"}
    note = outcome["note"]
    active = len(ref.active_schools(WEEK))
    assert f"week 2025-03-14: 1/{active} on time" in note
    assert "rejected BX-YTY" in note
    assert "missing BX-ALU" in note
    assert "ALERT too many schools without a report" in note
    messages = received(setup["sink"])
    assert sum(m["To"] == ENGINEERS for m in messages) == 1
    assert any(m["To"] == DISTRICT for m in messages)  # the district's weekly summary went out first

    # The collection task's log: one line per file with its name, school, week, outcome and
    # rule codes; no third-party INFO (Great Expectations logs ~200 lines per validation).
    lines = [r.getMessage() for r in records if r.name.startswith("chuyencan.")]
    assert any(
        line.startswith("file AMS/tuan.xlsx: accepted, school BX-AMS, week 2025-03-14") for line in lines
    ), lines
    rejected = [
        line for line in lines if line.startswith("file YTY/chuyen can.xlsx: rejected, school BX-YTY")
    ]
    assert len(rejected) == 1
    assert "[absences_exceed_scheduled" in rejected[0] or "errors [" in rejected[0]
    chatter = [r for r in records if r.name.startswith("great_expectations") and r.levelno < logging.WARNING]
    assert chatter == []
    assert any(line.startswith("email ") and "district_weekly to district office" in line for line in lines)


def test_a_report_not_out_by_1530_ends_the_check_red_after_alerting(setup: dict[str, Any]) -> None:
    from chuyencan.core.settings import Settings
    from chuyencan.report.calendar_periods import report_date_on_or_before
    from chuyencan.submissions.pipeline import prepare_warehouse

    prepare_warehouse(
        Settings(inbox=setup["inbox"], work_dir=setup["work"], warehouse_url=setup["url"])
    )  # the warehouse is there; the report never ran
    current = report_date_on_or_before(datetime.now(TIMEZONE).date())

    outcome = run("fortnightly_report_deadline", current, 8)  # 15:30 local

    assert outcome["state"] == "failed"
    assert outcome["tasks"] == {"check_report_is_out": "failed"}
    assert outcome["note"].startswith("FAILED")
    assert "DEADLINE MISSED" in outcome["note"]
    alert, notice = received(setup["sink"])
    assert sorted(a.addr_spec for a in alert["To"].addresses) == sorted([DISTRICT, ENGINEERS])
    assert "chưa hoàn thành" in alert["Subject"]
    assert [a.addr_spec for a in notice["To"].addresses] == [ENGINEERS]
    assert "FAILED fortnightly_report_deadline" in notice["Subject"]
