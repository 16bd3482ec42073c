"""`school_submissions_weekly` end to end through Airflow's own `dag.test()`, on SQLite and
PostgreSQL, with the emails received by a real SMTP server on loopback.

The scenario (week ending Friday 14 March 2025, deadline 10:00 Asia/Ho_Chi_Minh):
- BX-AMS sends a correct file on Thursday: on time;
- BX-ALU sends a correct file on Friday afternoon: late;
- BX-YTY sends a file whose absences exceed sĩ số × số ngày học: rejected, and told why;
- a PDF renamed .xlsx lands in BX-SMS's folder: quarantined, BX-SMS told it cannot be read;
- the other ten active schools send nothing: missing.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chuyencan.core.reference import load_reference
from chuyencan.submissions.pipeline import engine_for
from tests.helpers import (
    body,
    configure_airflow,
    load_dag,
    local,
    received,
    smtp_conn,
    snapshot,
    warehouse_conn,
)
from tests.school_files import ClassRow, SchoolWeek, write_school_file

pytestmark = pytest.mark.airflow

WEEK = date(2025, 3, 14)
DISTRICT = "pgd.batxat@example.org"
STUDENT_NAME = "Giàng Thị Mỷ"
STUDENT = {
    "personal_id": "010309001234",
    "full_name": STUDENT_NAME,
    "birth_date": date(2009, 4, 2),
    "sex": "Nữ",
    "ethnicity": "Mông",
    "grade": 9,
    "class_name": "9A",
    "commune": "A Mú Sung",
    "village": "Lũng Pô",
    "parent_name": "Giàng A Sử",
    "status": "Bỏ học",
    "first_day_missed": date(2025, 2, 10),
    "sessions_missed": 40,
    "reason": "Đi làm ăn xa",
    "destination": "Bình Dương",
}
AMS = [ClassRow(6, "6A", 32, 5, 3, 2), ClassRow(9, "9A", 30, 5, 1, 10)]
AMS_CORRECTED = [ClassRow(6, "6A", 32, 5, 2, 2), ClassRow(9, "9A", 30, 5, 1, 8)]
ALU = [ClassRow(1, "1A", 25, 5, 0, 0), ClassRow(1, "1B", 24, 5, 2, 1)]
YTY_BROKEN = [ClassRow(6, "6A", 35, 5, 100, 90)]
YTY_FIXED = [ClassRow(6, "6A", 35, 5, 10, 9)]


@pytest.fixture
def setup(
    tmp_path: Path, warehouse_url: str, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    inbox, work = tmp_path / "inbox", tmp_path / "work"
    inbox.mkdir()
    configure_airflow(
        monkeypatch,
        warehouse_url=warehouse_url,
        smtp_port=smtp_sink.port,
        inbox=str(inbox),
        work_dir=str(work),
        district_email=DISTRICT,
    )
    # Ten of fourteen schools send nothing in this scenario; the alarm that marks such a week red
    # is tested in test_operator_signals.py.
    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_MISSING_ALERT_SHARE", "1")
    return {"inbox": inbox, "work": work, "url": warehouse_url, "sink": smtp_sink, "ref": load_reference()}


def run_weekly(day: date) -> str:
    run = load_dag("school_submissions_weekly").test(
        logical_date=datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)
    )
    return str(run.state)


TABLES = {
    "report.submission_status": "week_ending, school_code",
    "report.attendance_weekly": "week_ending, school_code, grade",
    "ops.submission": "submission_id",
    "ops.current_submission": "school_code, week_ending",
    "ops.class_attendance": "submission_id, class_name",
    "restricted.student_entry": "submission_id, source_row",
    "ops.email_outbox": "email_id",
}


def rate(classes: list[ClassRow]) -> float:
    return 1 - sum(c.excused + c.unexcused for c in classes) / sum(c.scheduled for c in classes)


def test_weekly_run_end_to_end(setup: dict[str, Any]) -> None:
    ref, inbox = setup["ref"], setup["inbox"]
    write_school_file(
        ref,
        SchoolWeek("BX-AMS", WEEK, AMS, [STUDENT]),
        inbox / "BX-AMS" / "tuan 14-3.xlsx",
        local(date(2025, 3, 13), 15),
    )
    write_school_file(
        ref, SchoolWeek("BX-ALU", WEEK, ALU), inbox / "BX-ALU" / "bao cao.xlsx", local(date(2025, 3, 14), 14)
    )
    write_school_file(
        ref,
        SchoolWeek("BX-YTY", WEEK, YTY_BROKEN),
        inbox / "BX-YTY" / "chuyen can.xlsx",
        local(date(2025, 3, 14), 8),
    )
    fake = inbox / "BX-SMS" / "bao cao tuan.xlsx"
    fake.parent.mkdir()
    fake.write_bytes(b"%PDF-1.4 not a workbook")
    os.utime(fake, (local(date(2025, 3, 14), 7).timestamp(),) * 2)

    assert run_weekly(WEEK) == "success"

    with engine_for(setup["url"]).connect() as conn:
        status = dict(
            conn.execute(
                text("SELECT school_code, status FROM report.submission_status WHERE week_ending = :w"),
                {"w": WEEK},
            ).all()
        )
        attendance = {
            (r.school_code, r.grade): r
            for r in conn.execute(
                text("SELECT * FROM report.attendance_weekly WHERE week_ending = :w"), {"w": WEEK}
            )
        }
        versions = dict(conn.execute(text("SELECT school_code, version FROM report.submission_status")).all())
    active = {s.code for s in ref.active_schools(WEEK)}
    assert set(status) == active
    assert status["BX-AMS"] == "on_time"
    assert status["BX-ALU"] == "late"
    assert status["BX-YTY"] == "rejected"
    assert {c for c, s in status.items() if s == "missing"} == active - {"BX-AMS", "BX-ALU", "BX-YTY"}
    assert versions["BX-AMS"] == 1
    # Grade 6 and 9 of A Mú Sung, grade 1 of A Lù (two classes), each from the counts sent.
    assert attendance[("BX-AMS", 6)].attendance_rate == pytest.approx(rate(AMS[:1]))
    assert attendance[("BX-AMS", 9)].level == "THCS"
    assert attendance[("BX-ALU", 1)].classes == 2
    assert attendance[("BX-ALU", 1)].student_days_scheduled == sum(c.scheduled for c in ALU)
    assert attendance[("BX-ALU", 1)].attendance_rate == pytest.approx(rate(ALU))
    assert attendance[("BX-ALU", 1)].level == "TH"
    assert attendance[("BX-ALU", 1)].commune == "A Lù"

    mails = received(setup["sink"])
    by_to = {m["To"]: m for m in mails}
    yty = by_to[ref.schools["BX-YTY"].email]
    assert "14/03/2025" in yty["Subject"]
    assert "sĩ số × số ngày học" in body(yty)
    assert by_to[ref.schools["BX-SMS"].email] is not None  # the unreadable file, by its folder
    district = body(by_to[DISTRICT])
    assert ref.schools["BX-THPT1"].name in district  # missing
    assert ref.schools["BX-ALU"].name in district  # late
    assert ref.schools["BX-YTY"].name in district  # rejected
    for m in mails:
        assert STUDENT_NAME not in body(m)
        assert "010309001234" not in body(m)
    quarantined = list((setup["work"] / "quarantine").rglob("*.errors.txt"))
    assert len(quarantined) == 2

    # Rerun of the same Friday: nothing changes and nobody is emailed twice.
    before = snapshot(setup["url"], TABLES)
    assert run_weekly(WEEK) == "success"
    assert snapshot(setup["url"], TABLES) == before
    assert len(received(setup["sink"])) == len(mails)

    # Resubmissions: BX-YTY's corrected file after the deadline, BX-AMS corrects its numbers.
    write_school_file(
        ref,
        SchoolWeek("BX-YTY", WEEK, YTY_FIXED),
        inbox / "BX-YTY" / "chuyen can (sua).xlsx",
        local(date(2025, 3, 14), 16),
    )
    write_school_file(
        ref,
        SchoolWeek("BX-AMS", WEEK, AMS_CORRECTED, [STUDENT]),
        inbox / "BX-AMS" / "tuan 14-3 v2.xlsx",
        local(date(2025, 3, 14), 9),
    )
    assert run_weekly(WEEK) == "success"
    with engine_for(setup["url"]).connect() as conn:
        rows = {
            r.school_code: r
            for r in conn.execute(
                text("SELECT * FROM report.submission_status WHERE week_ending = :w"), {"w": WEEK}
            )
        }
        ams = {
            r.grade: r.attendance_rate
            for r in conn.execute(
                text(
                    "SELECT grade, attendance_rate FROM report.attendance_weekly WHERE school_code = 'BX-AMS'"
                )
            )
        }
        students = conn.execute(
            text(
                "SELECT COUNT(*) FROM restricted.student_entry e JOIN ops.current_submission c ON c.submission_id = e.submission_id WHERE c.school_code = 'BX-AMS'"
            )
        ).scalar_one()
    assert rows["BX-YTY"].status == "late"
    assert (rows["BX-AMS"].status, rows["BX-AMS"].version) == ("on_time", 2)
    assert ams[6] == pytest.approx(rate(AMS_CORRECTED[:1]))
    assert ams[9] == pytest.approx(rate(AMS_CORRECTED[1:]))
    assert students == 1  # the corrected list replaces the first, it is not added to it
    # A district summary with the new facts went out; the school was not emailed again.
    new = received(setup["sink"])[len(mails) :]
    assert [m["To"] for m in new] == [DISTRICT]


def test_without_a_mail_server_emails_wait_and_go_out_once_one_is_configured(
    tmp_path: Path, sqlite_url: str, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    ref = load_reference()
    write_school_file(
        ref, SchoolWeek("BX-YTY", WEEK, YTY_BROKEN), inbox / "BX-YTY" / "a.xlsx", local(date(2025, 3, 14), 8)
    )
    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_INBOX", str(inbox))
    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL", DISTRICT)
    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_MISSING_ALERT_SHARE", "1")  # one school reports here
    monkeypatch.setenv("AIRFLOW_CONN_CHUYENCAN_WAREHOUSE", warehouse_conn(sqlite_url))
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    engine_for.cache_clear()

    assert run_weekly(WEEK) == "success"
    with engine_for(sqlite_url).connect() as conn:
        waiting = dict(
            conn.execute(
                text("SELECT kind, COUNT(*) FROM ops.email_outbox WHERE sent_at IS NULL GROUP BY kind")
            ).all()
        )
    # The school's rejection, the district's summary, and each active school's "not received"
    # notice (none has an accepted file), copied to the managing unit.
    active = ref.active_schools(WEEK)
    assert waiting == {"rejection": 1, "district_weekly": 1, "school_not_received": len(active)}

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_conn(smtp_sink.port))
    assert run_weekly(WEEK) == "success"
    mails = received(smtp_sink)
    notices = [m["To"] for m in mails if "Chưa nhận được" in m["Subject"]]
    assert sorted(notices) == sorted(f"{s.email}, {DISTRICT}" for s in active)  # the unit is the district
    others = [m["To"] for m in mails if "Chưa nhận được" not in m["Subject"]]
    assert sorted(others) == sorted([DISTRICT, ref.schools["BX-YTY"].email])
