"""The sample-data generator: deterministic, contract-valid, broken exactly where it says.

The checks below re-read the generated workbooks with openpyxl and apply the rules of
docs/contracts.md#3-school-weekly-submission that can be decided from the files and the reference
alone, independently of the generator's own code, so a generator bug cannot hide behind itself.
"""

from __future__ import annotations

import csv
import filecmp
import itertools
import os
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET, Sheet, header_keys, sex_code, status_code
from chuyencan.core.reference import Reference, School, load_reference
from chuyencan.core.text import fold
from chuyencan_dev.synth import generate
from chuyencan_dev.synth.mistakes import KINDS

FIRST, LAST = date(2025, 1, 17), date(2025, 2, 21)  # spans the Tết break
TET_WEEK = date(2025, 1, 31)
POLICE_COLUMNS = [
    "so_dinh_danh",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "xa",
    "thon",
    "chu_ho",
    "quan_he_chu_ho",
    "tinh_trang_cu_tru",
    "ngay_bien_dong",
    "noi_den",
    "noi_lam_viec",
    "ngay_xac_minh",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    # A high mistake rate so that every kind of mistake shows up in a few weeks.
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    for out in (a, b):
        generate(out, seed=3, scale="district", first_week=FIRST, last_week=LAST, mistake_rate=0.6)
    return a, b


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# -- a small independent reader of the school workbook ----------------------------------------


def _find_sheet(wb: Any, sheet: Sheet) -> Any:
    for ws in wb.worksheets:
        if fold(ws.title) in (fold(sheet.name), fold(sheet.title)):
            return ws
    raise AssertionError(f"no sheet {sheet.name}")


def _read(wb: Any, sheet: Sheet) -> tuple[int, set[str], list[tuple[int, dict[str, Any]]]]:
    """(header row, column names found, [(excel row, {name: value})])."""
    keys = {k: c.name for c in sheet.columns for k in header_keys(c)}
    rows = list(_find_sheet(wb, sheet).iter_rows(values_only=True))
    for n, row in enumerate(rows, start=1):
        names = {i: keys[fold(v)] for i, v in enumerate(row) if v is not None and fold(v) in keys}
        if len(names) >= 3:
            data = []
            for m, values in enumerate(rows[n:], start=n + 1):
                if all(v is None or str(v).strip() == "" for v in values):
                    continue
                data.append((m, {name: values[i] if i < len(values) else None for i, name in names.items()}))
            return n, set(names.values()), data
    raise AssertionError(f"no header row in {sheet.name}")


def _date(value: Any) -> date | str:
    """A date, or the name of the problem."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
        return "bad_date"
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return "date_mmdd"


def _int(value: Any) -> int | str:
    if isinstance(value, bool):
        return "text_in_number"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else "percent_attendance"
    return "percent_attendance" if "%" in str(value) else "text_in_number"


Bad = Callable[[str, str], None]  # (kind, column name): one violation on the row being checked


def check_workbook(path: Path, school_code: str, week: date, ref: Reference) -> set[tuple[str, str, int]]:
    """Contract violations as (kind, column key, excel row)."""
    school = ref.school(school_code)
    assert school is not None
    _, days = ref.school_weeks[week]
    start_year = ref.school_year_of(week).start.year
    out: set[tuple[str, str, int]] = set()
    wb = load_workbook(path, read_only=True)
    try:
        for sheet in (CLASS_SHEET, STUDENT_SHEET):
            header, found, rows = _read(wb, sheet)
            for col in sheet.columns:
                if col.required and col.name not in found:
                    out.add(("missing_column", col.key, header))
            seen_classes: set[str] = set()
            for n, r in rows:

                def bad(kind: str, name: str, n: int = n, sheet: Sheet = sheet) -> None:
                    out.add((kind, sheet.column(name).key, n))

                _check_grade_and_class(r, bad, school)
                if sheet is CLASS_SHEET:
                    _check_class_row(r, bad, school_code, week, days, seen_classes=seen_classes)
                else:
                    _check_student_row(r, bad, ref, week, start_year)
    finally:
        wb.close()
    return out


def _check_grade_and_class(r: dict[str, Any], bad: Bad, school: School) -> None:
    if "grade" in r:
        grade = _int(r["grade"])
        if isinstance(grade, str):
            bad(grade, "grade")
        elif not school.grade_min <= grade <= school.grade_max:
            bad("grade_out_of_range", "grade")
    if not str(r.get("class_name") or "").strip():
        bad("empty", "class_name")


def _check_class_row(
    r: dict[str, Any], bad: Bad, school_code: str, week: date, days: int, *, seen_classes: set[str]
) -> None:
    if str(r["school_code"]).strip().upper() != school_code:
        bad("wrong_school_code", "school_code")
    written = _date(r["week_ending"])
    if isinstance(written, str):
        bad(written, "week_ending")
    elif written.weekday() != 4:
        bad("week_not_friday", "week_ending")
    elif written != week:
        bad("other_week", "week_ending")
    if r["class_name"] in seen_classes:
        bad("duplicate_class", "class_name")
    seen_classes.add(r["class_name"])
    nums = {}
    for name in ("enrolled", "school_days", "absent_excused", "absent_unexcused"):
        if name in r:
            nums[name] = _int(r[name])
            if isinstance(nums[name], str):
                bad(nums[name], name)
            elif nums[name] < 0:
                bad("negative", name)
    if isinstance(nums.get("school_days"), int) and nums["school_days"] != days:
        bad("school_days", "school_days")
    counts = [v for v in nums.values() if isinstance(v, int)]
    if len(counts) == 4 and counts[2] + counts[3] > counts[0] * counts[1]:
        bad("absences_over_capacity", "absent_unexcused")


def _check_student_row(r: dict[str, Any], bad: Bad, ref: Reference, week: date, start_year: int) -> None:
    birth = _date(r["birth_date"]) if "birth_date" in r else None
    if isinstance(birth, str):
        bad(birth, "birth_date")
    sex = sex_code(str(r.get("sex") or "")) if "sex" in r else "M"
    if r.get("sex") not in (None, "Nam", "Nữ") or sex is None:
        bad("sex", "sex")
    grade = _int(r.get("grade"))
    if isinstance(birth, date) and isinstance(grade, int) and not 5 <= start_year - birth.year - grade <= 9:
        bad("implausible_age", "birth_date")
    _check_personal_id(r.get("personal_id"), birth, sex, bad)
    if "full_name" in r and not str(r["full_name"] or "").strip():
        bad("empty", "full_name")
    if ref.resolve_commune(str(r["commune"]), week) is None:
        bad("unknown_commune", "commune")
    if not str(r["village"] or "").strip():
        bad("empty", "village")
    code = status_code(str(r["status"])) if "status" in r else "nguy_co"
    if code is None:
        bad("unknown_status", "status")
    _check_first_day(r.get("first_day_missed"), code, week, bad)
    if "sessions_missed" in r:
        sessions = _int(r["sessions_missed"])
        if isinstance(sessions, str) or sessions < 0:
            bad("sessions", "sessions_missed")


def _check_personal_id(pid: Any, birth: date | str | None, sex: str | None, bad: Bad) -> None:
    if pid in (None, ""):
        return
    text = str(pid)
    ok = re.fullmatch(r"\d{12}", text) is not None
    if ok and isinstance(birth, date):
        century = (birth.year // 100 - 19) * 2 + (sex == "F")
        ok = text[3] == str(century) and text[4:6] == f"{birth.year % 100:02d}"
    if not ok:
        bad("invalid_personal_id", "personal_id")


def _check_first_day(first: Any, status: str | None, week: date, bad: Bad) -> None:
    if first in (None, ""):
        if status == "bo_hoc":
            bad("missing_first_day", "first_day_missed")
        return
    day = _date(first)
    if isinstance(day, str):
        bad(day, "first_day_missed")
    elif day > week:
        bad("first_day_after_week", "first_day_missed")


# -- tests ----------------------------------------------------------------------------------------


def test_same_seed_same_output(runs: tuple[Path, Path]) -> None:
    a, b = runs
    for name in ("files", "submissions", "students", "police_truth", "cases", "attendance"):
        assert (a / "truth" / f"{name}.csv").read_bytes() == (b / "truth" / f"{name}.csv").read_bytes(), name
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    # Workbooks carry their file time, not the time of generation, so they are identical too.
    _, mismatch, errors = filecmp.cmpfiles(a, b, [str(p) for p in files_a], shallow=False)
    assert not mismatch
    assert not errors


def test_layout_and_truth_agree(runs: tuple[Path, Path], ref: Reference) -> None:
    out = runs[0]
    files = _csv(out / "truth" / "files.csv")
    on_disk = {p.relative_to(out).as_posix() for p in (out / "inbox").rglob("*.xlsx")}
    assert on_disk == {f["path"] for f in files}
    weeks = {f["week_ending"] for f in files}
    assert TET_WEEK.isoformat() not in weeks  # the Tết week has no school day, so no report
    assert weeks == {w.isoformat() for w in ref.school_weeks if FIRST <= w <= LAST}
    for f in files:
        assert int(os.stat(out / f["path"]).st_mtime) == int(f["file_mtime"])
        assert datetime.fromisoformat(f["file_time"]).timestamp() == int(f["file_mtime"])
    subs = _csv(out / "truth" / "submissions.csv")
    by_key = defaultdict(list)
    for f in files:
        by_key[(f["week_ending"], f["school_code"])].append(f)
    for s in subs:
        got = by_key[(s["week_ending"], s["school_code"])]
        accepted = [f for f in got if f["expected_outcome"] == "accepted"]
        deadline = datetime.fromisoformat(f"{s['week_ending']}T10:00:00+07:00")
        if not got:
            assert s["expected_status"] == "missing"
        elif not accepted:
            assert s["expected_status"] == "rejected"
        else:
            on_time = datetime.fromisoformat(accepted[0]["file_time"]) <= deadline
            assert s["expected_status"] == ("on_time" if on_time else "late")
    active = {
        (w.isoformat(), s.code) for w in ref.school_weeks if FIRST <= w <= LAST for s in ref.active_schools(w)
    }
    assert {(s["week_ending"], s["school_code"]) for s in subs} == active


def test_correct_files_satisfy_the_contract(runs: tuple[Path, Path], ref: Reference) -> None:
    out = runs[0]
    attendance = {
        (r["week_ending"], r["school_code"], int(r["grade"])): r
        for r in _csv(out / "truth" / "attendance.csv")
    }
    cases = defaultdict(int)
    for r in _csv(out / "truth" / "cases.csv"):
        cases[(r["week_ending"], r["school_code"])] += 1
    checked = 0
    for f in _csv(out / "truth" / "files.csv"):
        if f["expected_outcome"] != "accepted":
            continue
        week = date.fromisoformat(f["week_ending"])
        path = out / f["path"]
        assert check_workbook(path, f["school_code"], week, ref) == set(), f["path"]
        # The file says what the truth says: class totals per grade and the number of students.
        wb = load_workbook(path, read_only=True)
        _, _, class_rows = _read(wb, CLASS_SHEET)
        _, _, student_rows = _read(wb, STUDENT_SHEET)
        wb.close()
        per_grade: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        for _, r in class_rows:
            g = per_grade[int(r["grade"])]
            g[0] += int(r["enrolled"])
            g[1] += int(r["absent_excused"])
            g[2] += int(r["absent_unexcused"])
        for grade, (enrolled, excused, unexcused) in per_grade.items():
            t = attendance[(f["week_ending"], f["school_code"], grade)]
            assert (enrolled, excused, unexcused) == (
                int(t["enrolled"]),
                int(t["absent_excused"]),
                int(t["absent_unexcused"]),
            )
        assert len(student_rows) == cases[(f["week_ending"], f["school_code"])]
        checked += 1
    assert checked > 50


def test_broken_files_carry_exactly_the_recorded_mistake(runs: tuple[Path, Path], ref: Reference) -> None:
    out = runs[0]
    broken = [f for f in _csv(out / "truth" / "files.csv") if f["expected_outcome"] == "rejected"]
    for f in broken:
        found = check_workbook(out / f["path"], f["school_code"], date.fromisoformat(f["week_ending"]), ref)
        assert {kind for kind, _, _ in found} == {f["mistake_kind"]}, f["path"]
        assert (f["mistake_kind"], f["mistake_column"], int(f["mistake_row"])) in found, f["path"]
    # Most broken files are followed by a corrected one for the same school and week.
    fixed = {
        (f["school_code"], f["week_ending"]) for f in _csv(out / "truth" / "files.csv") if f["attempt"] == "2"
    }
    assert len(fixed) >= 0.7 * len(broken)


def test_every_kind_of_mistake_occurs(runs: tuple[Path, Path]) -> None:
    broken = [f for f in _csv(runs[0] / "truth" / "files.csv") if f["expected_outcome"] == "rejected"]
    assert {f["mistake_kind"] for f in broken} == set(KINDS)


def test_sessions_add_up_over_weeks(runs: tuple[Path, Path], ref: Reference) -> None:
    out = runs[0]
    history: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for r in _csv(out / "truth" / "cases.csv"):
        history[r["student_id"]].append((date.fromisoformat(r["week_ending"]), int(r["sessions_missed"])))
        if r["status"] == "bo_hoc":
            assert r["first_day_missed"]
        if r["first_day_missed"]:
            assert r["first_day_missed"] <= r["week_ending"]
    weeks = sorted(w for w in ref.school_weeks if FIRST <= w <= LAST)
    for rows in history.values():
        rows.sort()
        for (w1, s1), (w2, s2) in itertools.pairwise(rows):
            between = sum(ref.school_weeks[w][1] for w in weeks if w1 < w <= w2)
            assert 0 <= s2 - s1 <= 2 * between


def test_police_extracts_hold_the_true_matches(runs: tuple[Path, Path]) -> None:
    out = runs[0]
    students = {s["student_id"]: s for s in _csv(out / "truth" / "students.csv")}
    extracts: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((out / "police_inbox").iterdir()):
        rel = path.relative_to(out).as_posix()
        if path.suffix == ".csv":
            extracts[rel] = _csv(path)
            with path.open(encoding="utf-8-sig", newline="") as fh:
                assert next(csv.reader(fh)) == POLICE_COLUMNS
        else:
            wb = load_workbook(path, read_only=True)
            rows = list(wb.worksheets[0].iter_rows(values_only=True))
            wb.close()
            assert list(rows[0]) == POLICE_COLUMNS
            width = len(POLICE_COLUMNS)
            extracts[rel] = [
                dict(zip(POLICE_COLUMNS, (*r, *[None] * width)[:width], strict=True)) for r in rows[1:]
            ]
    assert any(p.endswith(".xlsx") for p in extracts)
    truth = _csv(out / "truth" / "police_truth.csv")
    assert len({t["round"] for t in truth}) == 2
    matched = [t for t in truth if t["police_file"]]
    assert 0.85 * len(truth) <= len(matched) < len(truth)  # a few cases have no police record
    for t in matched:
        record = extracts[t["police_file"]][int(t["police_row"]) - 1]
        student = students[t["student_id"]]
        assert record["gioi_tinh"] == ("Nữ" if student["sex"] == "F" else "Nam")
        assert str(record["so_dinh_danh"] or "") in ("", student["personal_id"])
        assert fold(record["xa"]).endswith(fold(student["commune"]))
    # Residents are whole households, so a case is found among many people.
    assert sum(len(rows) for rows in extracts.values()) > 4 * len(students) / 2
