"""`fortnightly_report` end to end through Airflow's own `dag.test()`, on SQLite and PostgreSQL, with
a real SMTP server on loopback; and `fortnightly_report_deadline`, its 14:00 check.

The run for Friday 4 April 2025 (13:30 Asia/Ho_Chi_Minh) sweeps in the files of
tests/fortnight_scenario.py, closes the weeks ending 28 March and 4 April, flags students at
risk, publishes the summary, writes the Excel report and the schools' restricted lists, and
emails the district the report as an attachment.
"""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chuyencan.core.contacts import load_contacts
from chuyencan.core.reference import load_reference
from chuyencan.core.settings import REPORT_DEADLINE, REPORT_TIME, TIMEZONE
from chuyencan.report.calendar_periods import report_date_on_or_before
from chuyencan.submissions.pipeline import engine_for
from tests.fortnight_scenario import REPORT_DATE, S, write_drops
from tests.helpers import configure_airflow, load_dag, received, snapshot

pytestmark = pytest.mark.airflow

DISTRICT = "pgd.batxat@example.org"
ENGINEERS = "data.engineers@example.org"


@pytest.fixture(scope="module")
def dag(airflow_db: Path) -> Any:
    return load_dag("fortnightly_report")


@pytest.fixture
def setup(
    tmp_path: Path, warehouse_url: str, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    inbox, work, police = tmp_path / "inbox", tmp_path / "work", tmp_path / "police"
    police.mkdir()
    configure_airflow(
        monkeypatch,
        warehouse_url=warehouse_url,
        smtp_port=smtp_sink.port,
        inbox=str(inbox),
        work_dir=str(work),
        police_inbox=str(police),
        district_email=DISTRICT,
        engineer_email=ENGINEERS,
        settle_seconds="0",
    )
    return {"inbox": inbox, "work": work, "url": warehouse_url, "sink": smtp_sink}


TABLES = {
    "report.fortnight_summary": "report_date, scope, scope_key",
    "restricted.student_risk": "report_date, student_key",
    "report.submission_status": "week_ending, school_code",
    "report.attendance_weekly": "week_ending, school_code, grade",
    "ops.submission": "submission_id",
    "restricted.student_entry": "submission_id, source_row",
    "ops.email_outbox": "email_id",
}


def run(dag: Any, day: date, at: time = REPORT_TIME) -> str:
    """`dag.test()` for the run of a report Friday (13:30 local: the report; 14:00: its check)."""
    logical = datetime.combine(day, at, tzinfo=TIMEZONE).astimezone(UTC)
    return str(dag.test(logical_date=logical).state)


def settings_of(setup: dict[str, Any]) -> Any:
    from chuyencan.core.settings import Settings

    return Settings(
        inbox=setup["inbox"],
        work_dir=setup["work"],
        warehouse_url=setup["url"],
        district_emails=(DISTRICT,),
        engineer_emails=(ENGINEERS,),
    )


def test_fortnightly_run_end_to_end(dag: Any, setup: dict[str, Any]) -> None:
    write_drops(load_reference(), setup["inbox"])

    assert run(dag, REPORT_DATE) == "success"

    with engine_for(setup["url"]).connect() as conn:
        district = (
            conn.execute(
                text(
                    "SELECT schools_expected, submissions_on_time, submissions_late, submissions_rejected,"
                    " dropouts_open, returned, at_risk FROM report.fortnight_summary"
                    " WHERE report_date = :d AND scope = 'district'"
                ),
                {"d": REPORT_DATE},
            )
            .one()
            ._tuple()
        )
        scopes = conn.execute(
            text("SELECT COUNT(*) FROM report.fortnight_summary WHERE report_date = :d"), {"d": REPORT_DATE}
        ).scalar_one()
    # See the scenario: 14 schools; 5 on time, 1 late, 1 rejected; 8 dropouts, 2 back, 4 at risk.
    assert district == (14, 5, 1, 1, 8, 2, 4)
    assert scopes == 1 + 3 + 21 + 1 + 14  # the communes and "Chưa xác định xã"

    reports = setup["work"] / "reports"
    xlsx = reports / "bao_cao_chuyen_can_2025-04-04.xlsx"
    assert xlsx.is_file()
    lists = sorted((reports / "restricted").glob("*.xlsx"))
    assert lists  # one per school with students on its list, readable by the owner only
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in lists)

    mails = received(setup["sink"])
    to_district = [m for m in mails if m["To"] == DISTRICT]
    assert len(to_district) == 1  # the fortnightly report; the weekly summary is not sent again
    attachments = [(p.get_filename(), p.get_content()) for p in to_district[0].iter_attachments()]
    assert [name for name, _ in attachments] == [xlsx.name]
    assert attachments[0][1] == xlsx.read_bytes()
    ref = load_reference()
    # Each commune's contacts are told their verification list is in their folder (no child's data).
    communes = {e for c in load_contacts().contacts if c.recipient_kind == "commune" for e in c.emails}
    assert {m["To"] for m in mails} & communes
    # Each school with anyone on its list got it in its folder on the share, with a notice.
    notices = [
        m
        for m in mails
        if str(m["Subject"]).startswith("[Chuyên cần] Có tài liệu mới") and m["To"] not in communes
    ]
    with_lists = ("BX-AMS", "BX-ALU", "BX-THPT1", "BX-THPT2", "BX-YTY")
    assert sorted(m["To"] for m in notices) == sorted(ref.schools[c].email for c in with_lists)
    for code in with_lists:
        assert len(list((setup["work"] / "share" / "school" / code).glob("*.xlsx"))) == 1
    schools = {m["To"] for m in mails if m not in notices} - {DISTRICT} - communes
    # THPT1's rejected file, and the calendar warnings to AMS and THPT2.
    assert schools == {ref.schools[c].email for c in ("BX-THPT1", "BX-AMS", "BX-THPT2")}
    for m in mails:
        content = "".join(str(p.get_content()) for p in m.walk() if p.get_content_maintype() == "text")
        assert not [n for n, s in S.items() if str(s["full_name"]) in content]

    # Rerun of the same Friday: the warehouse is as it was and nobody is emailed again.
    before = snapshot(setup["url"], TABLES)
    assert run(dag, REPORT_DATE) == "success"
    assert snapshot(setup["url"], TABLES) == before
    assert len(received(setup["sink"])) == len(mails)

    # The 14:00 check finds it out (send=None would raise if it tried to alert anyone).
    from chuyencan.report.pipeline import check_report_out

    at_check = datetime.combine(REPORT_DATE, REPORT_DEADLINE, tzinfo=TIMEZONE)
    seen = check_report_out(settings_of(setup), REPORT_DATE, now=at_check, send=None)
    assert (seen["published"], seen["alerted"]) == (True, False)


@pytest.fixture(scope="module")
def deadline_dag(airflow_db: Path) -> Any:
    return load_dag("fortnightly_report_deadline")


def test_the_check_runs_after_the_report_on_every_report_friday_without_catch_up(
    dag: Any, deadline_dag: Any
) -> None:
    from airflow.timetables.base import DataInterval, TimeRestriction

    report_run = datetime.combine(date(2025, 4, 18), REPORT_TIME, tzinfo=TIMEZONE)
    after = DataInterval.exact(report_run.astimezone(UTC))
    restriction = TimeRestriction(earliest=None, latest=None, catchup=True)
    check = deadline_dag.timetable.next_dagrun_info(
        last_automated_data_interval=after, restriction=restriction
    )
    report = dag.timetable.next_dagrun_info(last_automated_data_interval=after, restriction=restriction)
    assert check.logical_date.astimezone(TIMEZONE) == datetime.combine(
        date(2025, 5, 2), REPORT_DEADLINE, tzinfo=TIMEZONE
    )
    assert report.logical_date.astimezone(TIMEZONE) == datetime.combine(
        date(2025, 5, 2), REPORT_TIME, tzinfo=TIMEZONE
    )
    assert deadline_dag.catchup is False
    assert dag.deadline is None  # a DeadlineAlert would break `airflow dags test` (apache/airflow#73428)


def test_a_report_not_out_by_the_check_alerts_the_district_and_the_engineers(
    deadline_dag: Any, setup: dict[str, Any]
) -> None:
    from chuyencan.submissions.pipeline import prepare_warehouse

    prepare_warehouse(settings_of(setup))  # the warehouse is there; the report never ran
    current = report_date_on_or_before(datetime.now(TIMEZONE).date())

    # Red after alerting (test_operator_signals.py checks the run's note and the engineers' notice).
    assert run(deadline_dag, current, at=REPORT_DEADLINE) == "failed"

    message, notice = received(setup["sink"])
    assert notice["To"] == ENGINEERS
    assert sorted(a.addr_spec for a in message["To"].addresses) == sorted([DISTRICT, ENGINEERS])
    assert "chưa hoàn thành" in message["Subject"]
    assert current.strftime("%d/%m/%Y") in message["Subject"]
    assert f"{REPORT_DEADLINE:%H:%M}" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "chưa có bảng tổng hợp hoặc tệp báo cáo Excel" in body
    assert "chạy lại" in body


def test_an_older_fortnight_not_out_alerts_nobody(setup: dict[str, Any]) -> None:
    from chuyencan.report.pipeline import check_report_out
    from chuyencan.submissions.pipeline import prepare_warehouse

    settings = settings_of(setup)
    prepare_warehouse(settings)
    now = datetime(2025, 4, 25, 9, 0, tzinfo=TIMEZONE)  # a week after the 18 April report

    # send=None would raise if it tried to alert anyone.
    seen = check_report_out(settings, date(2025, 4, 4), now=now, send=None)

    assert (seen["published"], seen["alerted"]) == (False, False)
    assert received(setup["sink"]) == []
