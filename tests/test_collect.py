"""The collection step's guarantees, on SQLite and PostgreSQL, without Airflow."""

from __future__ import annotations

import os
import re
import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chuyencan.core import warehouse as wh
from chuyencan.core.reference import load_reference, write_reference
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.submissions.collect import collect
from tests.helpers import digest_tree
from tests.school_files import ClassRow, SchoolWeek, write_school_file

WEEK = date(2025, 3, 14)
REF = load_reference()


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=TIMEZONE)


@pytest.fixture
def env(tmp_path: Path, warehouse_url: str) -> dict[str, Any]:
    engine = wh.make_engine(warehouse_url)
    wh.ensure_schema(engine)
    write_reference(engine, REF)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = Settings(inbox=inbox, work_dir=tmp_path / "work", warehouse_url=warehouse_url)
    yield {"engine": engine, "settings": settings, "inbox": inbox}
    engine.dispose()


def rows(engine: Any, sql: str, **params: Any) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def test_same_bytes_under_two_names_are_one_submission_and_the_inbox_is_untouched(
    env: dict[str, Any],
) -> None:
    first = write_school_file(
        REF,
        SchoolWeek("BX-AMS", WEEK, [ClassRow(6, "6A", 30, 5, 2, 1)]),
        env["inbox"] / "BX-AMS" / "a.xlsx",
        at(13, 9),
    )
    copy = env["inbox"] / "khac" / "ban sao.xlsx"
    copy.parent.mkdir()
    shutil.copy2(first, copy)
    before = digest_tree(env["inbox"])

    result = collect(env["engine"], REF, env["settings"])
    again = collect(env["engine"], REF, env["settings"])

    assert result.summary()["accepted"] == 1
    assert again.summary()["accepted"] == 0
    assert rows(env["engine"], "SELECT COUNT(*) FROM ops.submission") == [(1,)]
    assert digest_tree(env["inbox"]) == before  # never modified, moved or deleted


def test_a_file_still_being_copied_waits_for_the_next_run(env: dict[str, Any]) -> None:
    path = write_school_file(
        REF, SchoolWeek("BX-AMS", WEEK, [ClassRow(6, "6A", 30, 5, 2, 1)]), env["inbox"] / "a.xlsx", at(13, 9)
    )
    now = datetime.now(UTC)
    os.utime(path, ((now - timedelta(seconds=5)).timestamp(),) * 2)

    assert collect(env["engine"], REF, env["settings"], now=now).summary()["accepted"] == 0
    later = now + timedelta(seconds=env["settings"].settle_seconds + 1)
    assert collect(env["engine"], REF, env["settings"], now=later).summary()["accepted"] == 1


def test_the_newest_file_is_in_effect_whatever_the_processing_order(env: dict[str, Any]) -> None:
    newer = [ClassRow(6, "6A", 30, 5, 0, 0)]
    older = [ClassRow(6, "6A", 30, 5, 30, 30)]
    write_school_file(REF, SchoolWeek("BX-AMS", WEEK, newer), env["inbox"] / "v2.xlsx", at(14, 9))
    collect(env["engine"], REF, env["settings"])
    # The older version turns up afterwards (copied late from a teacher's USB stick).
    write_school_file(REF, SchoolWeek("BX-AMS", WEEK, older), env["inbox"] / "v1.xlsx", at(13, 9))
    collect(env["engine"], REF, env["settings"])

    assert rows(env["engine"], "SELECT attendance_rate FROM report.attendance_weekly") == [(1.0,)]
    assert rows(
        env["engine"], "SELECT status, version FROM report.submission_status WHERE school_code = 'BX-AMS'"
    ) == [("on_time", 2)]


def test_unreadable_files_are_quarantined_with_reasons(env: dict[str, Any]) -> None:
    for name, content in {
        "empty.xlsx": b"",
        "report.xlsx": b"%PDF-1.7 ...",
        "old.xlsx": bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600,
    }.items():
        path = env["inbox"] / "BX-YTY" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        os.utime(path, (at(14, 8).timestamp(),) * 2)

    result = collect(env["engine"], REF, env["settings"])

    assert result.summary()["rejected"] == 3
    rules = {r[0] for r in rows(env["engine"], "SELECT rule FROM ops.submission_issue")}
    assert rules == {"empty_file", "not_xlsx", "xls_format"}
    reports = sorted((env["settings"].quarantine_dir).rglob("*.errors.txt"))
    assert len(reports) == 3
    assert all("Cách sửa" in p.read_text(encoding="utf-8") for p in reports)


def test_overlapping_collections_store_each_file_once(env: dict[str, Any]) -> None:
    for code, grade in (("BX-AMS", 6), ("BX-ALU", 7), ("BX-YTY", 8), ("BX-SMS", 9)):
        write_school_file(
            REF,
            SchoolWeek(code, WEEK, [ClassRow(grade, f"{grade}A", 30, 5, 1, 1)]),
            env["inbox"] / f"{code}.xlsx",
            at(13, 9),
        )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            collect(env["engine"], REF, env["settings"])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert rows(env["engine"], "SELECT COUNT(*), COUNT(DISTINCT sha256) FROM ops.submission") == [(4, 4)]
    assert rows(env["engine"], "SELECT COUNT(*) FROM ops.class_attendance") == [(4,)]
    assert rows(env["engine"], "SELECT MAX(version) FROM ops.submission") == [(1,)]


def test_adult_learners_at_the_continuing_education_centre_and_a_blank_list_sheet(tmp_path: Path) -> None:
    """GDTX classes include adults, so no upper age there; a school with nobody to report may
    leave the student sheet entirely blank."""
    import openpyxl

    from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET
    from chuyencan.submissions.validate import check_workbooks

    paths = []
    for code in ("BX-GDTX", "BX-THPT1"):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = CLASS_SHEET.name
        ws.append([c.header for c in CLASS_SHEET.columns])
        ws.append([code, WEEK, 10, "10A", 30, 5, 2, 1])
        hs = wb.create_sheet(STUDENT_SHEET.name)
        hs.append(
            [
                "Họ và tên",
                "Ngày sinh",
                "Giới tính",
                "Khối",
                "Lớp",
                "Xã",
                "Thôn",
                "Tình trạng",
                "Số buổi nghỉ lũy kế",
            ]
        )
        hs.append(["Lò Văn Sử", date(1990, 1, 1), "Nam", 10, "10A", "Quang Kim", "Thôn 1", "nguy_co", 3])
        paths.append(tmp_path / f"{code}.xlsx")
        wb.save(paths[-1])
    wb = openpyxl.Workbook()
    wb.active.title = CLASS_SHEET.name
    wb.active.append([c.header for c in CLASS_SHEET.columns])
    wb.active.append(["BX-AMS", WEEK, 6, "6A", 30, 5, 2, 1])
    wb.create_sheet(STUDENT_SHEET.name)
    paths.append(tmp_path / "blank-list.xlsx")
    wb.save(paths[-1])

    gdtx, thpt, blank = check_workbooks(paths, REF)

    assert gdtx.accepted
    assert [i.rule for i in thpt.errors] == ["age_implausible"]
    assert blank.accepted


def test_a_file_accepted_with_warnings_tells_its_school_what_to_check_once(
    env: dict[str, Any], smtp_sink: Any
) -> None:
    """Warnings do not reject a file, but the school must hear about them while it can still
    correct the figures; a file without warnings, or the same bytes again, emails nobody."""
    from chuyencan.submissions.pipeline import collect_new_files, send_emails
    from chuyencan_dev.mail_sink import SmtpSink
    from tests.fortnight_scenario import student
    from tests.helpers import body

    sink: SmtpSink = smtp_sink
    dropped = student(1, 6, "6A", "bo_hoc", 12, first_day=date(2025, 3, 10))  # no reason given
    warned = write_school_file(
        REF,
        SchoolWeek("BX-AMS", WEEK, [ClassRow(6, "6A", 30, 5, 2, 1)], [dropped]),
        env["inbox"] / "ams.xlsx",
        at(13, 15),
    )
    write_school_file(
        REF,
        SchoolWeek("BX-YTY", WEEK, [ClassRow(6, "6A", 28, 5, 0, 0)]),
        env["inbox"] / "yty.xlsx",
        at(13, 16),
    )
    settings = env["settings"]
    now = at(14, 9).astimezone(UTC)

    assert collect_new_files(settings, now=now)["accepted"] == 2
    shutil.copy(warned, env["inbox"] / "ams (copy).xlsx")  # the same bytes again
    collect_new_files(settings, now=now + timedelta(minutes=10))
    report = send_emails(settings, _sender_to(sink))

    assert report["sent"] == 1
    [message] = sink.messages()
    ams = REF.schools["BX-AMS"]
    assert message["To"].addresses[0].addr_spec == ams.email
    assert message["Subject"] == (
        f"[Chuyên cần] Đã tiếp nhận báo cáo tuần kết thúc 14/03/2025 – {ams.name} (1 cảnh báo cần kiểm tra)"
    )
    plain = message.get_body(("plain",)).get_content()
    html_text = body(message)
    for text_body in (plain, html_text):
        assert "TIẾP NHẬN" in text_body.upper()
        assert "Lý do" in text_body  # the column the warning is about
    assert re.search(r"Sheet HocSinh, dòng \d+, cột “Lý do”, lớp 6A\n.*\n   Cảnh báo: ", plain)
    assert "Học Sinh Số 1" not in plain + html_text  # the child's name never travels


def _sender_to(sink: Any) -> Any:
    """Deliver straight to the sink with the project's own MIME builder (no Airflow needed)."""
    import smtplib
    from email.utils import parseaddr

    from chuyencan.orchestration.smtp import build_message, encode_address

    sender = encode_address("Phòng GD&ĐT Bát Xát <pgd@example.org>")

    def send(message: Any) -> None:
        with smtplib.SMTP("127.0.0.1", sink.port) as client:
            client.sendmail(
                parseaddr(sender)[1], message.recipients, build_message(message, sender).as_string()
            )

    return send
