"""Verdicts: the mapping rules on their own, then the whole reconciliation on real school files
(loaded by the collection step), hand-made police extracts and the real matcher, on both
warehouses: every residence status, the ambiguous path to the review list, a reviewer's decision
surviving reruns and a newer extract, no police data, audit rows, and retention.

Expected verdicts come from how the scenario is built (which police record each student has),
never from the code under test.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from chuyencan.core.reference import load_reference
from chuyencan.core.schema import case_match, case_verdict, match_audit, police_resident, review_decision
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.police import pipeline as police
from chuyencan.police.review import DECISION_HEADER, REVIEWER_HEADER, STUDENT_KEY_HEADER
from chuyencan.police.verdicts import MatchRow, Resident, ReviewDecision, decide
from chuyencan.submissions.load import student_key
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.school_files import ClassRow, SchoolWeek, write_school_file
from tests.test_police_intake import AMS_BOOK, make_settings, write_extract

WEEK = date(2025, 3, 14)

# --- the decision rules on their own ----------------------------------------------------------------


def resident(rid: str, status: str, key: str | None = None) -> Resident:
    return Resident(
        rid,
        int(rid.split(":", maxsplit=1)[0]),
        key or f"key-{rid}",
        f"name-{rid}",
        "A Mú Sung",
        status,
        "Hà Nội",
        "Xưởng may",
    )


def match(decision: str, rid: str | None = None, candidates: tuple[str, ...] = ()) -> MatchRow:
    return MatchRow(
        "case",
        "BX-AMS",
        "A Mú Sung",
        1,
        decision,
        rid,
        0.995 if decision == "match" else 0.4,
        candidates,
        "surname",
        "village",
    )


ROUNDS = {1: date(2025, 3, 11)}


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("thuong_tru", "in_locality"),
        ("tam_tru", "in_locality"),
        ("tam_vang", "left_locality"),
        ("da_chuyen_di", "left_locality"),
        ("da_chet", "deceased"),
    ],
)
def test_a_confident_match_gives_the_records_status(status: str, verdict: str) -> None:
    record = resident("1:5", status)
    v = decide(match("match", "1:5"), {"1:5": record}, [], [], ROUNDS)
    assert (v.verdict, v.decided_by, v.resident_key, v.extract_round) == (
        verdict,
        "auto",
        "key-1:5",
        ROUNDS[1],
    )
    # Only someone who left has a destination and workplace kept.
    assert (v.destination is not None) == (verdict == "left_locality")


def test_only_a_confident_match_may_say_left() -> None:
    records = {"1:5": resident("1:5", "tam_vang"), "1:6": resident("1:6", "da_chuyen_di")}
    v = decide(match("ambiguous", None, ("1:5", "1:6")), records, [], [], ROUNDS)
    assert (v.verdict, v.destination) == ("ambiguous", None)
    assert decide(match("no_match"), records, [], [], ROUNDS).verdict == "not_found"
    nodata = MatchRow("case", "BX-AMS", "Y Tý", None, "no_police_data", None, None, (), None, None)
    assert decide(nodata, records, [], [], ROUNDS).verdict == "no_police_data"


def test_reviewer_decisions_confirm_or_remove_records() -> None:
    records = {"1:5": resident("1:5", "tam_vang"), "1:6": resident("1:6", "thuong_tru")}
    when = datetime(2025, 3, 15, tzinfo=UTC)

    def decision(rid: str, what: str, minutes: int = 0) -> ReviewDecision:
        return ReviewDecision(
            "case", f"key-{rid}", None, what, "Nguyễn Văn Cán", when + timedelta(minutes=minutes)
        )

    ambiguous = match("ambiguous", None, ("1:5", "1:6"))
    confirmed = decide(ambiguous, records, [decision("1:6", "confirm")], [records["1:6"]], ROUNDS)
    assert (confirmed.verdict, confirmed.decided_by, confirmed.reviewer) == (
        "in_locality",
        "reviewer",
        "Nguyễn Văn Cán",
    )
    # One candidate rejected: still a person's call; both rejected: not found, by the reviewer.
    one = decide(ambiguous, records, [decision("1:5", "reject")], [], ROUNDS)
    assert one.verdict == "ambiguous"
    both = decide(ambiguous, records, [decision("1:5", "reject"), decision("1:6", "reject", 1)], [], ROUNDS)
    assert (both.verdict, both.decided_by, both.decided_at) == (
        "not_found",
        "reviewer",
        when + timedelta(minutes=1),
    )
    # A confident match the reviewer rejects is no longer trusted.
    rejected = decide(match("match", "1:5"), records, [decision("1:5", "reject")], [], ROUNDS)
    assert (rejected.verdict, rejected.destination) == ("not_found", None)
    # The latest decision wins.
    later = decide(
        ambiguous,
        records,
        [decision("1:5", "confirm"), decision("1:6", "confirm", 5)],
        list(records.values()),
        ROUNDS,
    )
    assert later.verdict == "in_locality"


# --- the scenario on real files ---------------------------------------------------------------------


def student(
    name: str,
    born: date,
    sex: str,
    grade: int,
    *,
    pid: str | None,
    village: str,
    parent: str,
    status: str = "Bỏ học",
    commune: str = "A Mú Sung",
) -> dict[str, Any]:
    return {
        "personal_id": pid,
        "full_name": name,
        "birth_date": born,
        "sex": sex,
        "ethnicity": "Mông",
        "grade": grade,
        "class_name": f"{grade}A",
        "commune": commune,
        "village": village,
        "parent_name": parent,
        "status": status,
        "first_day_missed": date(2025, 2, 10) if status == "Bỏ học" else None,
        "sessions_missed": 30,
        "reason": "Đi làm ăn xa",
    }


# Each student's true police record is in AMS_BOOK (or not): the verdict follows from it.
AMS_STUDENTS = {
    "left_tam_vang": student(
        "Giàng Thị Mỷ", date(2009, 4, 2), "Nữ", 9, pid="010309001234", village="Lũng Pô", parent="Giàng A Sử"
    ),
    "in_thuong_tru": student(
        "Sùng A Páo",
        date(2010, 6, 15),
        "Nam",
        8,
        pid="010210004567",
        village="Lũng Pô",
        parent="Sùng A Tủa",
        status="Vắng dài ngày",
    ),
    "left_chuyen_di": student(
        "Vàng Thị Dế", date(2008, 2, 20), "Nữ", 9, pid="010308007788", village="Pờ Hồ", parent="Vàng Seo Phử"
    ),
    "in_tam_tru": student(
        "Lý Thị Sểnh",
        date(2009, 9, 9),
        "Nữ",
        9,
        pid="010309003344",
        village="Pờ Hồ",
        parent="Lý A Sáng",
        status="Nguy cơ bỏ học",
    ),
    "deceased": student(
        "Tẩn A Khé", date(2011, 1, 5), "Nam", 7, pid="010211005566", village="Lũng Pô", parent="Tẩn Văn Lìn"
    ),
    "ambiguous": student(
        "Lý A Chải", date(2009, 5, 1), "Nam", 9, pid=None, village="Lũng Pô", parent="Lý A Sử"
    ),
    "not_found": student(
        "Phàn Thị Mây", date(2009, 3, 3), "Nữ", 9, pid="010309008888", village="Pờ Hồ", parent="Phàn Văn Tả"
    ),
}
YTY_STUDENTS = {
    "no_police_data": student(
        "Chảo Thị Hương",
        date(2010, 8, 8),
        "Nữ",
        8,
        pid="010310002222",
        village="Tả Giàng Phìn",
        parent="Chảo Láo Sử",
        commune="Y Tý",
    ),
}
EXPECTED = {
    "left_tam_vang": "left_locality",
    "in_thuong_tru": "in_locality",
    "left_chuyen_di": "left_locality",
    "in_tam_tru": "in_locality",
    "deceased": "deceased",
    "ambiguous": "ambiguous",
    "not_found": "not_found",
    "no_police_data": "no_police_data",
}
STUDENT_ROWS = [*AMS_STUDENTS.values(), *YTY_STUDENTS.values()]


def key_of(label: str) -> str:
    s = {**AMS_STUDENTS, **YTY_STUDENTS}[label]
    school = "BX-AMS" if label in AMS_STUDENTS else "BX-YTY"
    return student_key(s["personal_id"], s["full_name"], s["birth_date"], school)


def write_scenario(settings: Settings) -> None:
    ref = load_reference()
    ams_classes = [
        ClassRow(7, "7A", 30, 5, 2, 1),
        ClassRow(8, "8A", 30, 5, 1, 3),
        ClassRow(9, "9A", 28, 5, 2, 6),
    ]
    write_school_file(
        ref,
        SchoolWeek("BX-AMS", WEEK, ams_classes, list(AMS_STUDENTS.values())),
        settings.inbox / "BX-AMS" / "tuan.xlsx",
        datetime(2025, 3, 13, 15, tzinfo=TIMEZONE),
    )
    write_school_file(
        ref,
        SchoolWeek("BX-YTY", WEEK, [ClassRow(8, "8A", 32, 5, 0, 4)], list(YTY_STUDENTS.values())),
        settings.inbox / "BX-YTY" / "tuan.xlsx",
        datetime(2025, 3, 13, 16, tzinfo=TIMEZONE),
    )
    assert settings.police_inbox is not None
    write_extract(
        settings.police_inbox / "A-Mu-Sung_2025-03-11.csv",
        AMS_BOOK,
        received_at=datetime(2025, 3, 11, 16, tzinfo=TIMEZONE),
        bom=True,
    )


@pytest.fixture
def settings(tmp_path: Path, warehouse_url: str) -> Settings:
    s = make_settings(tmp_path, warehouse_url)
    engine_for.cache_clear()
    prepare_warehouse(s)
    write_scenario(s)
    collected = collect_new_files(s, now=datetime(2025, 3, 14, 4, 0, tzinfo=UTC))
    assert collected["accepted"] == 2
    return s


def table(url: str, t: Any, order: Any) -> list[dict[str, Any]]:
    with engine_for(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(order))]


def verdicts(url: str) -> dict[str, dict[str, Any]]:
    return {r["student_key"]: r for r in table(url, case_verdict, case_verdict.c.student_key)}


def test_every_case_gets_the_verdict_its_record_implies(settings: Settings) -> None:
    summary = police.reconcile(settings)
    got = verdicts(settings.warehouse_url)
    assert {label: got[key_of(label)]["verdict"] for label in EXPECTED} == EXPECTED
    assert len(got) == len(EXPECTED)
    left = got[key_of("left_tam_vang")]
    assert (left["destination"], left["workplace"]) == ("Bình Dương", "Công ty TNHH giày da")
    assert (left["extract_commune"], left["decided_by"]) == ("A Mú Sung", "auto")
    assert got[key_of("in_thuong_tru")]["destination"] is None
    assert summary["verdicts"]["audit_rows_added"] == len(AMS_STUDENTS)  # no audit without police data
    audit = table(settings.warehouse_url, match_audit, match_audit.c.audit_id)
    assert {a["student_key"] for a in audit} == {key_of(label) for label in AMS_STUDENTS}
    assert {a["commune"] for a in audit} == {"A Mú Sung"}

    # A rerun with nothing new changes nothing and audits nothing again.
    before = (table(settings.warehouse_url, case_verdict, case_verdict.c.student_key), len(audit))
    again = police.reconcile(settings)
    assert again["verdicts"]["audit_rows_added"] == 0
    assert (
        table(settings.warehouse_url, case_verdict, case_verdict.c.student_key),
        len(table(settings.warehouse_url, match_audit, match_audit.c.audit_id)),
    ) == before


def _review_rows(path: Path, sheet: str) -> tuple[list[str], list[list[Any]]]:
    wb = openpyxl.load_workbook(path)
    rows = [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def test_a_reviewers_decision_survives_reruns_and_a_newer_extract(settings: Settings) -> None:
    police.reconcile(settings)
    review = police.write_review_list(settings, WEEK)
    path = settings.work_dir / "police" / "review" / review["file_name"]
    assert path.stat().st_mode & 0o777 == 0o600
    header, rows = _review_rows(path, "CanXacMinh")
    col = {h: i for i, h in enumerate(header)}
    chai = [r for r in rows if r[col[STUDENT_KEY_HEADER]] == key_of("ambiguous")]
    assert len(chai) == 2  # both registrations of the boy are shown
    assert {r[col["Tình trạng cư trú"]] for r in chai} == {"Thường trú", "Tạm vắng"}
    _, left_rows = _review_rows(path, "RoiDiaPhuong")
    assert len(left_rows) == 2  # the two students said to have left, for a second look

    # The officer recognises the record of the boy who is at home, and drops the file back.
    wb = openpyxl.load_workbook(path)
    ws = wb["CanXacMinh"]
    for r, values in enumerate(rows, start=2):
        if values[col[STUDENT_KEY_HEADER]] == key_of("ambiguous"):
            ws.cell(
                row=r,
                column=col[DECISION_HEADER] + 1,
                value="Đúng" if values[col["Tình trạng cư trú"]] == "Thường trú" else "Sai",
            )
            ws.cell(row=r, column=col[REVIEWER_HEADER] + 1, value="Nguyễn Văn Cán")
    # A "Sai" without the officer's name is not taken: every decision says who made it.
    wb["RoiDiaPhuong"].cell(row=2, column=col[DECISION_HEADER] + 1, value="Sai")
    returned = settings.work_dir / "police" / "review" / "returned" / "da_xac_minh.xlsx"
    wb.save(returned)
    os.utime(returned, (datetime(2025, 3, 17, 9, tzinfo=TIMEZONE).timestamp(),) * 2)

    summary = police.reconcile(settings)
    assert (summary["reviews"]["recorded"], summary["reviews"]["without_reviewer"]) == (2, 1)
    assert summary["verdicts"]["left_locality"] == 2
    decided = verdicts(settings.warehouse_url)[key_of("ambiguous")]
    assert (decided["verdict"], decided["decided_by"]) == ("in_locality", "reviewer")
    audit = [
        a
        for a in table(settings.warehouse_url, match_audit, match_audit.c.audit_id)
        if a["student_key"] == key_of("ambiguous")
    ]
    assert [(a["verdict"], a["decided_by"], a["reviewer"]) for a in audit] == [
        ("ambiguous", "auto", None),
        ("in_locality", "reviewer", "Nguyễn Văn Cán"),
    ]

    # A rerun reads the same returned file again: nothing changes.
    assert police.reconcile(settings)["reviews"]["recorded"] == 0
    assert verdicts(settings.warehouse_url)[key_of("ambiguous")]["verdict"] == "in_locality"

    # April's extract lists the households in another order (every row number changes).
    assert settings.police_inbox is not None
    april = [dict(r, ngay_xac_minh="08/04/2025") for r in reversed(AMS_BOOK)]
    write_extract(
        settings.police_inbox / "A-Mu-Sung_2025-04-08.csv",
        april,
        received_at=datetime(2025, 4, 8, 16, tzinfo=TIMEZONE),
    )
    police.reconcile(settings)
    with engine_for(settings.warehouse_url).connect() as conn:
        matched_extracts = set(
            conn.execute(select(case_match.c.extract_id).where(case_match.c.commune == "A Mú Sung")).scalars()
        )
    assert len(matched_extracts) == 1
    decided = verdicts(settings.warehouse_url)[key_of("ambiguous")]
    assert (decided["verdict"], decided["decided_by"], decided["extract_round"]) == (
        "in_locality",
        "reviewer",
        date(2025, 4, 8),
    )
    assert len(table(settings.warehouse_url, review_decision, review_decision.c.student_key)) == 2


def test_a_decision_recorded_in_the_table_counts_too(settings: Settings) -> None:
    from chuyencan.police.review import record_decision

    police.reconcile(settings)
    with engine_for(settings.warehouse_url).begin() as conn:
        resident_key = conn.execute(
            select(police_resident.c.resident_key).where(police_resident.c.personal_id == "010309001234")
        ).scalar_one()
        assert record_decision(
            conn,
            student_key=key_of("left_tam_vang"),
            resident_key=resident_key,
            decision="reject",
            reviewer="Lò Thị Hoa",
            decided_at=datetime(2025, 3, 17, tzinfo=UTC),
        )
    police.reconcile(settings)
    rejected = verdicts(settings.warehouse_url)[key_of("left_tam_vang")]
    # The only record was rejected: the student is not said to have left any more.
    assert (rejected["verdict"], rejected["decided_by"], rejected["destination"]) == (
        "not_found",
        "reviewer",
        None,
    )


def test_retention_deletes_household_records_and_keeps_verdicts_and_audit(settings: Settings) -> None:
    police.reconcile(settings)
    url = settings.warehouse_url
    kept = (verdicts(url), table(url, match_audit, match_audit.c.audit_id))
    archive = settings.work_dir / "police" / "archive"
    assert len([p for p in archive.rglob("*") if p.is_file()]) == 1
    assert len(table(url, police_resident, police_resident.c.source_row)) == len(AMS_BOOK)

    # Not yet: the window is counted from loading.
    early = police.apply_retention(
        settings, datetime.now(UTC) + timedelta(days=settings.police_retention_days - 1)
    )
    assert early["extracts_purged"] == 0
    summary = police.apply_retention(
        settings, datetime.now(UTC) + timedelta(days=settings.police_retention_days + 1)
    )

    assert (summary["extracts_purged"], summary["household_rows_deleted"]) == (1, len(AMS_BOOK))
    assert table(url, police_resident, police_resident.c.source_row) == []
    # Only the matcher's row of the case without police data is left (it points to no extract).
    remaining = table(url, case_match, case_match.c.student_key)
    assert [(r["student_key"], r["extract_id"]) for r in remaining] == [(key_of("no_police_data"), None)]
    assert [p for p in archive.rglob("*") if p.is_file()] == []
    assert (verdicts(url), table(url, match_audit, match_audit.c.audit_id)) == kept
    # The inbox still holds the file, but its bytes are remembered: not loaded again, and the
    # students keep their verdicts until the commune's next extract.
    police.reconcile(settings)
    assert table(url, police_resident, police_resident.c.source_row) == []
    assert {k: v["verdict"] for k, v in verdicts(url).items()} == {
        k: v["verdict"] for k, v in kept[0].items()
    }
