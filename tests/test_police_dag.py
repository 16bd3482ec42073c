"""`police_reconciliation` end to end through Airflow's own `dag.test()`, on SQLite and
PostgreSQL, with the district's emails received by a real SMTP server on loopback.

The scenario (week ending Friday 14 March 2025): two schools' files loaded by the collection
step (seven open cases from A Mú Sung, one from Y Tý); A Mú Sung's police extract (CSV with
BOM) and a Y Tý extract saved in Windows-1258, which is refused. Then: every verdict as the
records imply, the review list, one rejection email and one counts email to the district, and
no name, ID, birth date, village or parent in any email or log line. A second run changes
nothing and emails nobody.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chuyencan.core.schema import case_verdict, match_audit, ops_email_outbox
from chuyencan.core.settings import TIMEZONE
from chuyencan.orchestration.police_tasks import announce_new_cases, announce_new_extracts
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.helpers import body, configure_airflow, load_dag, received
from tests.test_police_intake import AMS_BOOK, DISTRICT, assert_no_personal_data, make_settings, write_extract
from tests.test_police_verdicts import EXPECTED, STUDENT_ROWS, key_of, write_scenario

pytestmark = pytest.mark.airflow

WEEK = date(2025, 3, 14)
FRIDAY_NOON = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)  # 12:00 in Vietnam, the weekly run


def personal_rows() -> list[dict[str, Any]]:
    """Every personal value of the scenario, as police-row dicts (for assert_no_personal_data)."""
    students = [
        {
            "so_dinh_danh": s["personal_id"] or "",
            "ho_ten": s["full_name"],
            "ngay_sinh": s["birth_date"].strftime("%d/%m/%Y"),
            "thon": s["village"],
            "chu_ho": s["parent_name"],
        }
        for s in STUDENT_ROWS
    ]
    return [*AMS_BOOK, *students]


@pytest.fixture
def setup(
    tmp_path: Path, warehouse_url: str, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    settings = make_settings(tmp_path, warehouse_url)
    configure_airflow(
        monkeypatch,
        warehouse_url=warehouse_url,
        smtp_port=smtp_sink.port,
        inbox=str(settings.inbox),
        police_inbox=str(settings.police_inbox),
        work_dir=str(settings.work_dir),
        district_email=DISTRICT,
    )
    prepare_warehouse(settings)
    write_scenario(settings)
    assert settings.police_inbox is not None
    write_extract(
        settings.police_inbox / "Y-Ty_2025-03-11.csv",
        [dict(r, xa="Y Tý") for r in AMS_BOOK[:6]],
        received_at=datetime(2025, 3, 12, 8, tzinfo=TIMEZONE),
        encoding="cp1258",
    )
    # The schools' collection step (its own DAGs) has loaded the week's files.
    assert collect_new_files(settings, now=FRIDAY_NOON)["accepted"] == 2
    return {"settings": settings, "sink": smtp_sink}


def run_reconciliation(logical_date: datetime) -> str:
    return str(load_dag("police_reconciliation").test(logical_date=logical_date).state)


def test_police_reconciliation_end_to_end(
    setup: dict[str, Any], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    settings, sink = setup["settings"], setup["sink"]
    url = settings.warehouse_url
    with caplog.at_level(logging.DEBUG):
        assert run_reconciliation(FRIDAY_NOON) == "success"

    with engine_for(url).connect() as conn:
        verdicts = {r.student_key: r for r in conn.execute(select(case_verdict))}
        audit_rows = len(conn.execute(select(match_audit)).all())
    assert {label: verdicts[key_of(label)].verdict for label in EXPECTED} == EXPECTED
    assert audit_rows == sum(v != "no_police_data" for v in EXPECTED.values())
    review_files = list((settings.work_dir / "police" / "review").glob("danh_sach_xac_minh_*.xlsx"))
    assert [p.name for p in review_files] == ["danh_sach_xac_minh_2025-03-14.xlsx"]
    assert review_files[0].stat().st_mode & 0o777 == 0o600

    mails = received(sink)
    assert [m["To"] for m in mails] == [DISTRICT, DISTRICT]
    by_subject = {("rejected" if "chưa được tiếp nhận" in m["Subject"] else "counts"): m for m in mails}
    assert set(by_subject) == {"rejected", "counts"}
    rejected = body(by_subject["rejected"])
    assert "Y-Ty_2025-03-11.csv" in rejected
    assert "UTF-8" in rejected
    counts = body(by_subject["counts"])
    expected_counts = {
        "Đã rời địa phương (tạm vắng, đã chuyển đi)": 2,
        "Đang ở địa phương (ưu tiên đến thăm tại nhà)": 2,
        "Đã mất": 1,
        "Cần xác minh (nhiều bản ghi gần giống)": 1,
        "Không tìm thấy trong danh sách nhân khẩu": 1,
        "Chưa có danh sách nhân khẩu của xã": 1,
    }
    for label, n in expected_counts.items():
        assert re.search(re.escape(label) + rf"\s+{n}\b", counts), label
    assert "14/03/2025" in by_subject["counts"]["Subject"]

    # Nothing personal in any email (subject, text, HTML) or any log line of the run.
    everything = "\n".join(
        m["Subject"] + "\n".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text")
        for m in mails
    )
    with engine_for(url).connect() as conn:
        everything += "\n".join(conn.execute(select(ops_email_outbox.c.body_text)).scalars())
    assert_no_personal_data(everything, personal_rows())
    out, err = capfd.readouterr()
    assert "verdicts recorded" in caplog.text + out + err  # the run's own log lines were captured
    assert_no_personal_data(caplog.text + out + err, personal_rows())

    # A second run: same verdicts, no new audit rows, nobody emailed again.
    assert run_reconciliation(FRIDAY_NOON) == "success"
    with engine_for(url).connect() as conn:
        again = {r.student_key: r for r in conn.execute(select(case_verdict))}
        assert len(conn.execute(select(match_audit)).all()) == audit_rows
    assert again == verdicts
    assert len(received(sink)) == len(mails)


def test_announcing_tasks_stay_silent_when_nothing_new_came() -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    # A skipped task emits no asset event (Airflow sends outlets on success only).
    with pytest.raises(AirflowSkipException):
        announce_new_cases.function({"files_found": 3, "accepted": 0, "rejected": 3})
    with pytest.raises(AirflowSkipException):
        announce_new_extracts.function({"files_found": 1, "accepted": 0})
    assert announce_new_cases.function({"accepted": 2}) == {"accepted": 2}
    assert announce_new_extracts.function({"accepted": 1, "communes_updated": ["Y Tý"]})["communes"] == [
        "Y Tý"
    ]
