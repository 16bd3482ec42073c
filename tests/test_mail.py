"""The mail layer end to end: templates, the outbox on SQLite (and PostgreSQL when it answers on
127.0.0.1:5432), and delivery through Airflow's SmtpHook to a real SMTP server on loopback."""

from __future__ import annotations

import json
import logging
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, select

from chuyencan.core.mail import (
    DistrictWeeklyContext,
    IssueLine,
    LateSchool,
    OutgoingEmail,
    RejectedSchool,
    RejectionContext,
    RenderedEmail,
    SchoolRef,
    SendReport,
    UnattributedFile,
    UnreadableFileContext,
    queue_email,
    render_district_weekly,
    render_rejection,
    render_unreadable_file,
    send_pending,
)
from chuyencan.core.schema import ops_email_outbox
from chuyencan.core.settings import TIMEZONE
from chuyencan.core.warehouse import ensure_schema, make_engine
from chuyencan.orchestration.smtp import airflow_smtp_sender
from chuyencan_dev.mail_sink import SmtpSink
from tests.databases import PG_ADMIN_URL, fresh_pg_database

REPO = Path(__file__).resolve().parents[1]
SENDER = "Phòng Giáo dục và Đào tạo huyện Bát Xát <pgd.batxat@example.org>"
SCHOOL_EMAIL = "thcs.quangkim@example.org"
NOW = datetime(2025, 4, 3, 14, 6, tzinfo=TIMEZONE)


# --- fixtures ----------------------------------------------------------------------------------


def _postgres_answers() -> bool:
    url = make_url(PG_ADMIN_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if not _postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432")
    with fresh_pg_database("chuyencan_test_mail") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine("sqlite:///" + str(tmp_path / "w.db"))
        ensure_schema(eng)
    else:
        eng = make_engine(request.getfixturevalue("pg_url"))
        ensure_schema(eng)
        with eng.begin() as conn:  # one database per module: start each test with an empty outbox
            conn.execute(ops_email_outbox.delete())
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine("sqlite:///" + str(tmp_path / "w.db"))
    ensure_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def smtp_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Configure Airflow's `smtp_default` connection and sender; returns 'point it at a port'."""
    monkeypatch.setenv("AIRFLOW__EMAIL__FROM_EMAIL", SENDER)

    def point_at(port: int) -> None:
        conn = {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 5},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))

    return point_at


@pytest.fixture
def sink(tmp_path: Path, smtp_at: Callable[[int], None]) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "mail") as running:
        smtp_at(running.port)
        yield running


def _free_port() -> int:
    # Bound then released: nothing listens there, so a connection is refused at once.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _issue(i: int, value: str | None = "-3") -> IssueLine:
    return IssueLine(
        sheet="ChuyenCan",
        row=6 + i,
        column="Sĩ số",
        class_name=f"6A{i}",
        value=value,
        message=f"Lỗi thứ {i:03d}: sĩ số phải là số nguyên không âm.",
        fix="Nhập số học sinh của lớp (từ 0 trở lên).",
    )


def _rejection(n_errors: int = 3, **overrides: object) -> RejectionContext:
    values: dict[str, object] = {
        "school_code": "BX-THCSQK",
        "school_name": "Trường THCS Quang Kim",
        "week_ending": date(2025, 4, 4),
        "file_name": "Báo cáo tuần 4-4.xlsx",
        "received_at": datetime(2025, 4, 3, 14, 5, tzinfo=TIMEZONE),
        "deadline": datetime(2025, 4, 4, 10, 0, tzinfo=TIMEZONE),
        "error_count": n_errors,
        "errors": [_issue(i) for i in range(1, n_errors + 1)],
        "warnings": [
            IssueLine(
                "ChuyenCan",
                9,
                "Vắng không phép",
                "7B",
                "40",
                "Tỷ lệ chuyên cần thấp hơn 20 điểm so với thường lệ.",
                "Kiểm tra lại số ngày vắng.",
            )
        ],
    }
    values.update(overrides)
    return RejectionContext(**values)  # type: ignore[arg-type]


def _queue(engine: Engine, key: str, email: RenderedEmail, **kwargs: object) -> bool:
    with engine.begin() as conn:
        return queue_email(
            conn,
            dedup_key=key,
            kind="rejection",
            recipients=[SCHOOL_EMAIL],
            email=email,
            now=NOW,
            **kwargs,  # type: ignore[arg-type]
        )


def _rows(engine: Engine) -> list:
    with engine.begin() as conn:
        return list(conn.execute(select(ops_email_outbox).order_by(ops_email_outbox.c.email_id)))


# --- delivery through Airflow's SmtpHook -------------------------------------------------------------


def test_rejection_arrives_intact_through_airflow_smtp(
    sqlite_engine: Engine, sink: SmtpSink, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    email = render_rejection(_rejection())
    full_list = tmp_path / "danh_sách_lỗi.csv"
    full_list.write_text("Sheet,Dòng,Lỗi\nChuyenCan,7,Sĩ số âm\n", encoding="utf-8")
    assert _queue(sqlite_engine, "rejection:abc", email, attachments=[full_list])

    report = send_pending(sqlite_engine, airflow_smtp_sender(), now=NOW)

    assert (report.sent, report.failed, report.pending) == (1, 0, 0)
    [received] = sink.messages()
    assert received["Subject"] == email.subject
    assert "Đề nghị sửa và gửi lại báo cáo tuần kết thúc 04/04/2025" in received["Subject"]
    assert received["From"].addresses[0].display_name == "Phòng Giáo dục và Đào tạo huyện Bát Xát"
    assert received["From"].addresses[0].addr_spec == "pgd.batxat@example.org"
    assert received["To"].addresses[0].addr_spec == SCHOOL_EMAIL
    assert received["Message-ID"].startswith("<chuyencan.1.")
    html = received.get_body(("html",))
    assert html is not None
    assert html.get_content() == email.html  # byte for byte, diacritics included
    assert "Kính gửi: <strong>Ban Giám hiệu Trường THCS Quang Kim</strong>" in email.html
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "danh_sách_lỗi.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True).decode("utf-8") == full_list.read_text(encoding="utf-8")
    # The plain-text twin travels as the alternative to the HTML, for clients without HTML.
    text_part = received.get_body(("plain",))
    assert text_part is not None
    assert text_part.get_content() == email.text
    assert [p.get_content_type() for p in received.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/csv",
    ]
    # Logs name email ids and counts, never recipients or content.
    assert SCHOOL_EMAIL not in caplog.text
    assert "Quang Kim" not in caplog.text
    row = _rows(sqlite_engine)[0]
    assert row.sent_at is not None
    assert row.attempts == 0


def test_queue_twice_gives_one_row_and_one_email(engine: Engine, sink: SmtpSink) -> None:
    email = render_rejection(_rejection())
    assert _queue(engine, "rejection:same-file", email) is True
    assert _queue(engine, "rejection:same-file", email) is False
    assert len(_rows(engine)) == 1

    first = send_pending(engine, airflow_smtp_sender(), now=NOW)
    second = send_pending(engine, airflow_smtp_sender(), now=NOW)

    assert (first.sent, second.sent) == (1, 0)
    assert len(sink.messages()) == 1


def test_smtp_down_then_up_sends_each_email_exactly_once(
    engine: Engine, smtp_at: Callable[[int], None], tmp_path: Path
) -> None:
    port = _free_port()
    smtp_at(port)
    first = render_rejection(_rejection())
    second = render_rejection(_rejection(school_name="Trường PTDTBT THCS Y Tý", school_code="BX-YTY"))
    assert _queue(engine, "rejection:one", first)
    assert _queue(engine, "rejection:two", second)

    down = send_pending(engine, airflow_smtp_sender(), now=NOW)

    # The server is unreachable: the run stops, nothing is lost, and no message's attempts are
    # spent (the failure is the server's, not the message's).
    assert (down.sent, down.failed, down.pending) == (0, 1, 2)
    assert down.failures[0].startswith("email ")
    assert "ConnectionRefusedError" in down.failures[0]
    assert down.server_unreachable is not None
    rows = _rows(engine)
    assert [r.attempts for r in rows] == [0, 0]
    assert rows[0].last_error.startswith("ConnectionRefusedError")
    assert all(r.sent_at is None for r in rows)

    with SmtpSink(tmp_path / "mail", port=port) as sink:
        up = send_pending(engine, airflow_smtp_sender(), now=NOW)
        again = send_pending(engine, airflow_smtp_sender(), now=NOW)
        received = sink.messages()

    assert (up.sent, up.failed, up.pending) == (2, 0, 0)
    assert again.sent == 0
    assert sorted(m["Subject"] for m in received) == sorted([first.subject, second.subject])
    rows = _rows(engine)
    assert all(r.sent_at is not None and r.last_error is None for r in rows)


def test_missing_smtp_connection_stops_the_run_without_burning_attempts(
    sqlite_engine: Engine, smtp_at: Callable[[int], None]
) -> None:
    for key in ("a", "b"):
        _queue(sqlite_engine, key, render_rejection(_rejection()))

    report = send_pending(sqlite_engine, airflow_smtp_sender("chuyencan_no_such_smtp"), now=NOW)

    assert (report.sent, report.failed, report.pending) == (0, 1, 2)
    assert "MailServerUnavailable" in report.failures[0]
    assert "SMTP connection is not found" in report.failures[0]
    assert [r.attempts for r in _rows(sqlite_engine)] == [0, 0]


# --- the outbox's own rules (the transport is a plain callable here) --------------------------------


def test_a_bad_message_does_not_stop_the_others_and_is_given_up_after_max_attempts(
    sqlite_engine: Engine,
) -> None:
    for key in ("a", "b"):
        _queue(sqlite_engine, key, render_rejection(_rejection()))
    delivered: list[OutgoingEmail] = []

    def send(message: OutgoingEmail) -> None:
        if message.dedup_key == "a":
            raise smtplib.SMTPRecipientsRefused({SCHOOL_EMAIL: (550, b"no such user")})
        delivered.append(message)

    report = send_pending(sqlite_engine, send, now=NOW, max_attempts=2)
    assert (report.sent, report.failed, report.pending) == (1, 1, 1)
    assert SCHOOL_EMAIL not in report.failures[0]  # addresses are masked in error reasons
    assert "<address>" in report.failures[0]
    assert [m.dedup_key for m in delivered] == ["b"]
    assert delivered[0].recipients == [SCHOOL_EMAIL]

    report = send_pending(sqlite_engine, send, now=NOW, max_attempts=2)
    assert (report.sent, report.failed, report.pending, report.given_up) == (0, 1, 0, 1)
    report = send_pending(sqlite_engine, send, now=NOW, max_attempts=2)
    assert (report.failed, report.given_up) == (0, 1)  # out of attempts: not tried again
    assert _rows(sqlite_engine)[0].attempts == 2


def test_only_one_sender_works_at_a_time(engine: Engine) -> None:
    _queue(engine, "a", render_rejection(_rejection()))
    inner: list[SendReport] = []

    def send(message: OutgoingEmail) -> None:
        # An overlapping run starts while this one is sending.
        inner.append(send_pending(engine, lambda m: None, now=NOW))

    outer = send_pending(engine, send, now=NOW)
    assert outer.sent == 1
    [overlapping] = inner
    assert overlapping.busy
    assert overlapping.sent == 0


def test_queue_rejects_bad_recipients(sqlite_engine: Engine) -> None:
    email = render_rejection(_rejection())
    with sqlite_engine.begin() as conn:
        for bad in ([], ["not-an-address"], ["a@example.org, b@example.org"]):
            with pytest.raises(ValueError, match="recipient"):
                queue_email(conn, dedup_key="k", kind="x", recipients=bad, email=email, now=NOW)
        with pytest.raises(TypeError):
            queue_email(conn, dedup_key="k", kind="x", recipients="a@example.org", email=email, now=NOW)


# --- templates ---------------------------------------------------------------------------------------


def test_error_table_is_capped_at_fifty_lines() -> None:
    email = render_rejection(_rejection(n_errors=120))
    for body in (email.html, email.text):
        assert "Lỗi thứ 050" in body
        assert "Lỗi thứ 051" not in body
        assert "và 70 lỗi khác" in body
    assert "Danh sách đầy đủ các lỗi được lưu cùng tệp bị trả lại" in email.text
    assert "(120 lỗi)" in email.subject

    attached = render_rejection(_rejection(n_errors=120, full_list_attachment="loi.csv"))
    assert "tệp đính kèm “loi.csv”" in attached.html


def test_html_escapes_what_the_school_typed() -> None:
    script = "<script>alert('x')</script>"
    email = render_rejection(_rejection(errors=[_issue(1, value=script)], file_name="<b>bc</b>.xlsx"))
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert "<b>bc</b>" not in email.html
    assert script in email.text  # plain text shows it as typed


def test_times_are_shown_in_vietnam_time_the_vietnamese_way() -> None:
    email = render_rejection(
        _rejection(
            received_at=datetime(2025, 4, 4, 4, 30, tzinfo=UTC),  # 11:30 in Vietnam: after the deadline
        )
    )
    assert "Thời điểm nhận: 04/04/2025 11:30" in email.text
    assert "(10:00 Thứ Sáu, ngày 04/04/2025) đã qua" in email.text
    assert "nộp muộn" in email.html

    on_time = render_rejection(_rejection())
    assert "Hạn nộp: 10:00 Thứ Sáu, ngày 04/04/2025." in on_time.text
    assert "Thời điểm nhận: 03/04/2025 14:05" in on_time.text

    with pytest.raises(ValueError, match="timezone-aware"):
        render_rejection(_rejection(received_at=datetime(2025, 4, 3, 14, 5)))


def test_district_weekly_lists_schools_and_counts() -> None:
    tz = TIMEZONE
    ctx = DistrictWeeklyContext(
        week_ending=date(2025, 4, 4),
        deadline=datetime(2025, 4, 4, 10, 0, tzinfo=tz),
        expected=14,
        on_time=10,
        late=[LateSchool("BX-THPT2", "Trường THPT số 2 Bát Xát", datetime(2025, 4, 4, 11, 20, tzinfo=tz))],
        missing=[SchoolRef("BX-AMS", "Trường PTDTBT TH&THCS A Mú Sung")],
        rejected=[
            RejectedSchool(
                "BX-THCSQK",
                "Trường THCS Quang Kim",
                datetime(2025, 4, 3, 14, 5, tzinfo=tz),
                12,
                "Sheet ChuyenCan, dòng 7, cột “Sĩ số”: sĩ số phải là số nguyên không âm.",
            )
        ],
        unattributed=[UnattributedFile("khac/bao cao.xlsx", "Mã trường “BX-XYZ” không có trong danh mục.")],
        generated_at=datetime(2025, 4, 4, 17, 0, tzinfo=tz),
    )
    email = render_district_weekly(ctx)
    assert email.subject == (
        "[Chuyên cần] Tình hình nộp báo cáo tuần kết thúc 04/04/2025: 10/14 trường đúng hạn, "
        "1 nộp muộn, 1 chưa nộp, 1 bị trả lại"
    )
    for body in (email.text, email.html):
        assert "Trường THPT số 2 Bát Xát" in body
        assert "04/04/2025 11:20" in body
        assert "khac/bao cao.xlsx" in body
        assert "71,4%" in body
    assert "Trường PTDTBT TH&amp;THCS A Mú Sung" in email.html
    assert "Trường PTDTBT TH&THCS A Mú Sung (BX-AMS)" in email.text

    quiet = render_district_weekly(
        DistrictWeeklyContext(date(2025, 4, 4), datetime(2025, 4, 4, 10, 0, tzinfo=tz), expected=0, on_time=0)
    )
    assert quiet.text.count("Không có.") == 4
    assert quiet.html.count("Không có.") == 4


def test_unreadable_file_goes_to_the_school_or_to_the_district() -> None:
    base = {
        "file_name": "bao cao.xls",
        "inbox_path": "Y Ty/bao cao.xls",
        "received_at": datetime(2025, 4, 4, 9, 0, tzinfo=TIMEZONE),
        "problem": "Tệp được đặt mật khẩu nên hệ thống không mở được.",
        "fix": "Gỡ mật khẩu, lưu lại rồi gửi lại.",
        "deadline": datetime(2025, 4, 4, 10, 0, tzinfo=TIMEZONE),
    }
    to_school = render_unreadable_file(UnreadableFileContext(**base, school_name="Trường PTDTBT THCS Y Tý"))  # type: ignore[arg-type]
    assert "Kính gửi: Ban Giám hiệu Trường PTDTBT THCS Y Tý" in to_school.text
    assert "đặt mật khẩu" in to_school.text
    assert "Hạn nộp: 10:00 Thứ Sáu, ngày 04/04/2025." in to_school.text

    to_district = render_unreadable_file(UnreadableFileContext(**base))  # type: ignore[arg-type]
    assert "chưa xác định được trường gửi" in to_district.subject
    assert "Đường dẫn: Y Ty/bao cao.xls" in to_district.text
    assert "Ban Giám hiệu" not in to_district.text


# --- the sink's command line ---------------------------------------------------------------------


def test_sink_command_line_stores_messages(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(REPO / d) for d in ("plugins", "devtools"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chuyencan_dev.mail_sink", "--dir", str(tmp_path), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except ConnectionRefusedError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the sink did not start")
                time.sleep(0.05)
        message = EmailMessage()
        message["Subject"] = "Thử nghiệm"
        message["From"] = "a@example.org"
        message["To"] = "b@example.org"
        message.set_content("Xin chào")
        with client:
            client.send_message(message)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 0, output
    assert (tmp_path / "1.eml").exists()
    assert "b@example.org" not in output
    # A restarted sink continues the numbering instead of overwriting 1.eml.
    with SmtpSink(tmp_path) as sink, smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as client:
        client.send_message(message)
        assert [p.name for p in sink.paths()] == ["1.eml", "2.eml"]
        assert [m["Subject"] for m in sink.messages()] == ["Thử nghiệm", "Thử nghiệm"]
