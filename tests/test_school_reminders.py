"""Schools reminded before the deadline and told after it (issue 13, item 1), through Airflow's
`dag.test()` with the emails received by a real SMTP server on loopback.

The scenario, week ending Friday 14 March 2025 (deadline 10:00 Asia/Ho_Chi_Minh), with the GDTX
centre closed on 7 March (a copy of include/reference with its `valid_to` set):
- BX-AMS sends a correct file on Thursday: never reminded, never told;
- BX-YTY sends a broken file at 07:00: rejected, so still without an accepted file at 08:00;
- BX-ALU sends a correct file at 09:00, after the reminder and before the deadline;
- the others send nothing.
"""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from chuyencan.core.reference import load_reference
from chuyencan.core.settings import REFERENCE_DIR
from chuyencan.submissions.pipeline import engine_for
from tests.helpers import body, configure_airflow, load_dag, local, query, received
from tests.school_files import SchoolWeek, write_school_file
from tests.test_dag_weekly import ALU, AMS, STUDENT, STUDENT_NAME, YTY_BROKEN

pytestmark = pytest.mark.airflow

WEEK = date(2025, 3, 14)
TET_WEEK = date(2025, 1, 31)  # Monday 27 to Friday 31 January: all Tết break
CLOSED = "BX-GDTX"
DISTRICT = "district.summary@example.org"
UNIT = "pgd.batxat@example.org"  # BAT_XAT's contact in contacts.csv: the schools' managing unit
REMINDER_SUBJECT = "Nhắc nộp báo cáo chuyên cần"
NOT_RECEIVED_SUBJECT = "Chưa nhận được báo cáo chuyên cần"


def reference_with_a_closed_school(folder: Path) -> Path:
    shutil.copytree(REFERENCE_DIR, folder)
    path = folder / "schools.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["school_code"] == CLOSED:
            row["valid_to"] = "2025-03-07"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.fixture
def setup(
    tmp_path: Path, sqlite_url: str, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    inbox, work = tmp_path / "inbox", tmp_path / "work"
    inbox.mkdir()
    reference = reference_with_a_closed_school(tmp_path / "reference")
    configure_airflow(
        monkeypatch,
        warehouse_url=sqlite_url,
        smtp_port=smtp_sink.port,
        inbox=str(inbox),
        work_dir=str(work),
        district_email=DISTRICT,
        reference_dir=str(reference),
    )
    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_MISSING_ALERT_SHARE", "1")  # most schools send nothing here
    return {"inbox": inbox, "url": sqlite_url, "sink": smtp_sink, "ref": load_reference(reference)}


def run(dag_id: str, moment: datetime) -> str:
    return str(load_dag(dag_id).test(logical_date=moment.astimezone(UTC)).state)


def of_kind(mails: list[EmailMessage], subject: str) -> dict[str, EmailMessage]:
    """Emails whose subject starts with `subject`, by school code (named in the body)."""
    out: dict[str, EmailMessage] = {}
    for m in mails:
        if subject in m["Subject"]:
            [code] = [c for c in CODES if f"({c})" in body(m)]
            assert code not in out, f"{code} got two '{subject}' emails"
            out[code] = m
    return out


CODES = [s.code for s in load_reference().schools.values()]


def test_reminders_and_not_received_notices_go_out_once_per_school_and_week(setup: dict[str, Any]) -> None:
    ref, inbox, sink = setup["ref"], setup["inbox"], setup["sink"]
    write_school_file(
        ref,
        SchoolWeek("BX-AMS", WEEK, AMS, [STUDENT]),
        inbox / "BX-AMS" / "tuan.xlsx",
        local(date(2025, 3, 13), 15),
    )
    write_school_file(
        ref, SchoolWeek("BX-YTY", WEEK, YTY_BROKEN), inbox / "BX-YTY" / "tuan.xlsx", local(WEEK, 7)
    )
    active = {s.code for s in ref.active_schools(WEEK)}
    assert CLOSED not in active
    assert len(active) == 13

    # Friday 08:00: every active school without an accepted file is reminded, BX-YTY included.
    assert run("school_submission_reminders", local(WEEK, 8)) == "success"
    reminders = of_kind(received(sink), REMINDER_SUBJECT)
    assert set(reminders) == active - {"BX-AMS"}
    yty = reminders["BX-YTY"]
    assert yty["To"] == ref.schools["BX-YTY"].email
    assert "14/03/2025" in yty["Subject"]
    assert "10:00 Thứ Sáu, ngày 14/03/2025" in body(yty)
    assert ref.schools["BX-YTY"].name in body(yty)
    mails_after_reminders = len(received(sink))

    # A rerun of the same morning sends nothing new.
    assert run("school_submission_reminders", local(WEEK, 8)) == "success"
    assert len(received(sink)) == mails_after_reminders

    # BX-ALU sends at 09:00; at 11:00 the weekly run tells the others and their managing unit.
    write_school_file(ref, SchoolWeek("BX-ALU", WEEK, ALU), inbox / "BX-ALU" / "tuan.xlsx", local(WEEK, 9))
    assert run("school_submissions_weekly", local(WEEK, 11)) == "success"
    mails = received(sink)
    notices = of_kind(mails, NOT_RECEIVED_SUBJECT)
    assert set(notices) == active - {"BX-AMS", "BX-ALU"}
    for code, notice in notices.items():
        assert notice["To"] == f"{ref.schools[code].email}, {UNIT}", code
        assert "Phòng Giáo dục và Đào tạo huyện Bát Xát" in body(notice)
    # The district's summary keeps listing the schools without a file.
    [district] = [m for m in mails if m["To"] == DISTRICT]
    assert ref.schools["BX-THPT1"].name in body(district)
    assert ref.schools["BX-YTY"].name in body(district)
    # The closed school hears nothing at all.
    assert all(ref.schools[CLOSED].email not in m["To"] for m in mails)

    # The weekly run again: nobody is told twice.
    assert run("school_submissions_weekly", local(WEEK, 11)) == "success"
    assert len(received(sink)) == len(mails)
    outbox = query(
        setup["url"],
        "SELECT kind, COUNT(*) AS n FROM ops.email_outbox WHERE kind IN ('school_reminder', 'school_not_received') GROUP BY kind",
    )
    assert {r.kind: r.n for r in outbox} == {"school_reminder": 12, "school_not_received": 11}

    # No child's data in any email, subject or body.
    for m in received(sink):
        for secret in (STUDENT_NAME, str(STUDENT["personal_id"]), str(STUDENT["parent_name"])):
            assert secret not in body(m, ("plain",))
            assert secret not in body(m)
            assert secret not in m["Subject"]
    engine_for.cache_clear()


def test_no_reminder_in_a_week_without_school_days(setup: dict[str, Any]) -> None:
    assert not setup["ref"].is_school_week(TET_WEEK)
    assert run("school_submission_reminders", local(TET_WEEK, 8)) == "success"
    assert run("school_submissions_weekly", local(TET_WEEK, 11)) == "success"
    assert received(setup["sink"]) == []
    assert query(setup["url"], "SELECT COUNT(*) AS n FROM ops.email_outbox")[0].n == 0
    engine_for.cache_clear()


def test_a_school_without_contact_is_reported_not_skipped(
    setup: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = tmp_path / "reference"
    contacts = reference / "contacts.csv"
    kept = [
        line
        for line in contacts.read_text(encoding="utf-8").splitlines()
        if not line.startswith("school,BX-NPU,")
    ]
    contacts.write_text("\n".join(kept) + "\n", encoding="utf-8")
    school_contacts = reference / "school_contacts.csv"
    school_contacts.write_text(
        "\n".join(
            line
            for line in school_contacts.read_text(encoding="utf-8").splitlines()
            if not line.startswith("BX-NPU,")
        )
        + "\n",
        encoding="utf-8",
    )
    assert run("school_submission_reminders", local(WEEK, 8)) == "success"
    reminders = of_kind(received(setup["sink"]), REMINDER_SUBJECT)
    assert "BX-NPU" not in reminders
    assert len(reminders) == 12  # the 13 active schools but BX-NPU
    gaps = query(setup["url"], "SELECT recipient_kind, recipient_key, purpose, period FROM ops.contact_gap")
    assert [(g.recipient_kind, g.recipient_key, g.purpose, str(g.period)) for g in gaps] == [
        ("school", "BX-NPU", "school_reminder", WEEK.isoformat())
    ]
    engine_for.cache_clear()
