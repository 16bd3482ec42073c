"""The district's review of doubtful matches: the review list it reads, the decisions it records.

**The review list** (`<work dir>/police/review/danh_sach_xac_minh_<date>.xlsx`, owner-only, in
Vietnamese) has one row per candidate police record:
- sheet `CanXacMinh`: every `ambiguous` case with its candidate records, best first;
- sheet `RoiDiaPhuong`: every `left_locality` verdict, for a second look (a child marked as gone
  stops being visited);
with the student's and the record's fields side by side, the matcher's score and the fields
that agreed and disagreed, and a `Quyết định` column.

**Recording a decision**, either way:
- write `Đúng` (this record is the student: confirm) or `Sai` (it is not: reject) in
  `Quyết định`, your name in `Người xác minh`, save, and drop the file into
  `<work dir>/police/review/returned/`; every run reads that folder (the file's time is the
  decision's time; a later decision replaces an earlier one);
- or call `record_decision(...)` / insert into `restricted.review_decision` directly.
Decisions are keyed by the student and the record's stable keys, so they hold across reruns and
newer extracts; the columns `Mã học sinh` and `Mã bản ghi` carry those keys (do not edit them).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import python_calamine as pc
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Connection, Engine, select

from chuyencan.core.contract import RESIDENCE_LABELS, SEX_LABELS
from chuyencan.core.reference import Reference
from chuyencan.core.safe_cells import CellValue, set_value
from chuyencan.core.schema import case_match, case_verdict, police_resident, review_decision
from chuyencan.core.settings import Settings
from chuyencan.core.sql import as_utc
from chuyencan.core.text import clean_cell_text, fold
from chuyencan.police.cases import fetch_residents, open_cases
from chuyencan.police.intake import police_dir
from chuyencan.police.verdicts import confirmed_records, load_decisions

log = logging.getLogger(__name__)

CONFIRM_WORDS = frozenset({"dung", "dungnguoi", "xacnhan", "co", "x", "confirm", "dongy"})
REJECT_WORDS = frozenset({"sai", "khongdung", "khongphai", "khong", "tuchoi", "reject", "saiguoi"})
FIELD_LABELS = {
    "personal_id": "số định danh",
    "surname": "họ",
    "given_name": "tên",
    "middle_name": "tên đệm",
    "birth_date": "ngày sinh",
    "sex": "giới tính",
    "commune": "xã",
    "village": "thôn",
    "parent": "cha mẹ / chủ hộ",
}
SHEET_AMBIGUOUS = "CanXacMinh"
SHEET_LEFT = "RoiDiaPhuong"
DECISION_HEADER = "Quyết định (Đúng / Sai)"
REVIEWER_HEADER = "Người xác minh"
NOTE_HEADER = "Ghi chú"
STUDENT_KEY_HEADER = "Mã học sinh (không sửa)"
RESIDENT_KEY_HEADER = "Mã bản ghi (không sửa)"
COLUMNS = (
    "STT",
    "Trường",
    "Họ và tên học sinh",
    "Ngày sinh",
    "Giới tính",
    "Xã",
    "Thôn",
    "Cha/mẹ",
    "Bản ghi số",
    "Họ và tên (công an)",
    "Ngày/năm sinh (công an)",
    "Giới tính (công an)",
    "Thôn (công an)",
    "Chủ hộ",
    "Quan hệ với chủ hộ",
    "Tình trạng cư trú",
    "Nơi đến",
    "Nơi làm việc",
    "Điểm khớp",
    "Thông tin khớp",
    "Thông tin không khớp",
    DECISION_HEADER,
    REVIEWER_HEADER,
    NOTE_HEADER,
    STUDENT_KEY_HEADER,
    RESIDENT_KEY_HEADER,
)
GUIDE = (
    "DANH SÁCH HỌC SINH CẦN XÁC MINH VỚI DỮ LIỆU NHÂN KHẨU CỦA CÔNG AN XÃ",
    "Tài liệu có thông tin cá nhân của trẻ em: chỉ người có trách nhiệm được xem; không gửi qua thư điện tử, không in để nơi công cộng.",
    "",
    f"Trang {SHEET_AMBIGUOUS}: học sinh có nhiều bản ghi nhân khẩu gần giống nhau; hệ thống không tự kết luận được.",
    f"Trang {SHEET_LEFT}: học sinh được kết luận là đã rời địa phương (tạm vắng hoặc đã chuyển đi); đề nghị kiểm tra lại vì học sinh này sẽ không còn được đến thăm tại nhà.",
    "",
    "Mỗi dòng là một bản ghi của công an so với một học sinh. Cách ghi quyết định:",
    f'  - Cột "{DECISION_HEADER}": ghi Đúng nếu bản ghi đúng là học sinh này; ghi Sai nếu không phải.',
    f'  - Cột "{REVIEWER_HEADER}": ghi họ tên người xác minh (bắt buộc).',
    f'  - Không sửa hai cột "{STUDENT_KEY_HEADER}" và "{RESIDENT_KEY_HEADER}".',
    "  - Lưu tệp rồi chép vào thư mục review/returned (cùng thư mục với tệp này, thư mục con returned). Lần chạy sau hệ thống sẽ ghi nhận.",
    "  - Quyết định được giữ cho các lần đối chiếu sau, kể cả khi công an gửi danh sách mới.",
    "",
    '"Thông tin khớp" / "Thông tin không khớp" là kết quả so sánh của hệ thống với bản ghi số 1 (bản ghi giống nhất).',
)


def review_dir(settings: Settings) -> Path:
    folder = police_dir(settings) / "review"
    (folder / "returned").mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def returned_dir(settings: Settings) -> Path:
    return review_dir(settings) / "returned"


# --- the review list ------------------------------------------------------------------------------


def write_review_list(engine: Engine, ref: Reference, settings: Settings, day: date) -> dict[str, Any]:
    """Write the review list for the district; counts only in the return value."""
    cases = open_cases(engine, ref).set_index("case_id")
    with engine.connect() as conn:
        verdicts = {r.student_key: r for r in conn.execute(select(case_verdict))}
        matches = {r.student_key: r for r in conn.execute(select(case_match))}
        decided = {(r.student_key, r.resident_key): r for r in conn.execute(select(review_decision))}
        ambiguous = [
            k for k, v in verdicts.items() if v.verdict == "ambiguous" and k in matches and k in cases.index
        ]
        left = [
            k
            for k, v in verdicts.items()
            if v.verdict == "left_locality" and k in matches and k in cases.index
        ]
        wanted: dict[str, list[str]] = {}
        for k in ambiguous:
            wanted[k] = json.loads(matches[k].candidates or "[]") or [matches[k].resident_id]
        for k in left:
            m = matches[k]
            # A reviewer may have confirmed a record other than the matcher's; show the one the verdict rests on.
            wanted[k] = [m.resident_id] if m.resident_id else []
        ids = [rid for rids in wanted.values() for rid in rids if rid]
        records = {f"{r.extract_id}:{r.source_row}": r for r in fetch_residents(conn, ids)}
        confirmed = _confirmed_records(conn, {k for k in left if verdicts[k].decided_by == "reviewer"})
    wb = Workbook()
    guide = wb.active
    guide.title = "HuongDan"
    for line in GUIDE:
        _append(guide, [line])
    guide["A1"].font = Font(bold=True, size=13)
    guide.column_dimensions["A"].width = 140
    data = _ListData(cases, matches, records, decided, wanted)
    rows_ambiguous = _sheet(wb, SHEET_AMBIGUOUS, ambiguous, data)
    rows_left = _sheet(wb, SHEET_LEFT, left, replace(data, confirmed=confirmed))
    folder = review_dir(settings)
    path = folder / f"danh_sach_xac_minh_{day.isoformat()}.xlsx"
    tmp = path.with_name(f".{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        wb.save(fh)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    summary = {
        "ambiguous_cases": len(ambiguous),
        "left_locality_cases": len(left),
        "rows": rows_ambiguous + rows_left,
        "file": str(path),
    }
    log.info("review list written: %d ambiguous cases, %d left-locality cases", len(ambiguous), len(left))
    return summary


def _confirmed_records(conn: Connection, students: set[str]) -> dict[str, Any]:
    """For verdicts a reviewer decided, the confirmed record (it may not be the matcher's)."""
    if not students:
        return {}
    decisions = {k: v for k, v in load_decisions(conn).items() if k in students}
    found = confirmed_records(conn, decisions)
    ids = {k: rs[0].resident_id for k, rs in found.items() if rs}
    rows = {f"{r.extract_id}:{r.source_row}": r for r in fetch_residents(conn, ids.values())}
    return {k: rows[rid] for k, rid in ids.items() if rid in rows}


def _fmt_date(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else ""


def _fields(names: str | None) -> str:
    return ", ".join(FIELD_LABELS.get(n, n) for n in (names or "").split(",") if n)


@dataclass
class _ListData:
    cases: pd.DataFrame  # open cases by case_id
    matches: dict[str, Any]  # case_match rows
    records: dict[str, Any]  # household records by resident id
    decided: dict[tuple[str, str], Any]  # review_decision rows
    wanted: dict[str, list[str]]  # case -> resident ids to list, best first
    confirmed: dict[str, Any] = field(default_factory=dict)  # case -> record a reviewer confirmed


def _append(ws: Worksheet, values: list[CellValue]) -> None:
    """`ws.append` through `safe_cells`: names, villages and workplaces come from schools' and
    police files, and a value like "=HYPERLINK(…)" must stay text in the district's list."""
    row = 1 if ws.max_row == 1 and ws.cell(row=1, column=1).value is None else ws.max_row + 1
    for column, value in enumerate(values, start=1):
        set_value(ws.cell(row=row, column=column), value)


def _sheet(wb: Workbook, title: str, keys: list[str], data: _ListData) -> int:
    cases, matches, records, decided, wanted, confirmed = (
        data.cases,
        data.matches,
        data.records,
        data.decided,
        data.wanted,
        data.confirmed,
    )
    ws = wb.create_sheet(title)
    _append(ws, list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF5")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    decision_col = COLUMNS.index(DECISION_HEADER) + 1
    validation = DataValidation(type="list", formula1='"Đúng,Sai"', allow_blank=True)
    ws.add_data_validation(validation)
    order = sorted(keys, key=lambda k: (cases.at[k, "school_code"], str(cases.at[k, "full_name"])))
    n = 0
    for number, key in enumerate(order, start=1):
        case, match = cases.loc[key], matches[key]
        chosen = [confirmed[key]] if key in confirmed else [records[r] for r in wanted[key] if r in records]
        for rank, rec in enumerate(chosen, start=1):
            previous = decided.get((key, rec.resident_key))
            born = _fmt_date(rec.birth_date) or str(rec.birth_year)
            _append(
                ws,
                [
                    number,
                    case["school_code"],
                    case["full_name"],
                    _fmt_date(case["birth_date"]),
                    SEX_LABELS.get(case["sex"], case["sex"]),
                    case["commune"] or "",
                    case["village"] or "",
                    case["parent_name"] or "",
                    rank,
                    rec.full_name,
                    born,
                    SEX_LABELS.get(rec.sex, rec.sex),
                    rec.village or "",
                    rec.household_head or "",
                    rec.relation or "",
                    RESIDENCE_LABELS.get(rec.residence_status, rec.residence_status),
                    rec.destination or "",
                    rec.workplace or "",
                    round(match.score, 3) if rank == 1 and match.score is not None else None,
                    _fields(match.agreed) if rank == 1 else "",
                    _fields(match.disagreed) if rank == 1 else "",
                    ("Đúng" if previous.decision == "confirm" else "Sai") if previous is not None else None,
                    previous.reviewer if previous is not None else None,
                    previous.note if previous is not None else None,
                    key,
                    rec.resident_key,
                ],
            )
            n += 1
    if n:
        validation.add(
            f"{ws.cell(row=2, column=decision_col).coordinate}:{ws.cell(row=n + 1, column=decision_col).coordinate}"
        )
    ws.freeze_panes = "C2"
    for idx, header in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=idx).column_letter].width = max(
            10, min(28, len(header) + 4)
        )
    return n


# --- decisions --------------------------------------------------------------------------------------


def decision_code(text: str) -> str | None:
    key = fold(text)
    if key in CONFIRM_WORDS:
        return "confirm"
    if key in REJECT_WORDS:
        return "reject"
    return None


def record_decision(
    conn: Connection,
    *,
    student_key: str,
    resident_key: str,
    decision: str,
    reviewer: str,
    decided_at: datetime,
    source: str = "table",
    note: str | None = None,
) -> bool:
    """Record a reviewer's decision unless a later one exists for the same student and record;
    True if recorded. Runs in the caller's transaction."""
    if decision not in ("confirm", "reject"):
        raise ValueError("decision must be 'confirm' or 'reject'")
    if not reviewer.strip():
        raise ValueError("a decision needs the reviewer's name")
    rd = review_decision
    existing = conn.execute(
        select(rd.c.decided_at).where(rd.c.student_key == student_key, rd.c.resident_key == resident_key)
    ).first()
    if existing is not None and as_utc(existing.decided_at) >= as_utc(decided_at):
        return False
    name_key = conn.execute(
        select(police_resident.c.name_key).where(police_resident.c.resident_key == resident_key).limit(1)
    ).scalar()
    conn.execute(rd.delete().where(rd.c.student_key == student_key, rd.c.resident_key == resident_key))
    conn.execute(
        rd.insert().values(
            student_key=student_key,
            resident_key=resident_key,
            name_key=name_key,
            decision=decision,
            reviewer=reviewer.strip(),
            decided_at=as_utc(decided_at),
            source=source,
            note=note,
        )
    )
    return True


@dataclass
class ReturnedReview:
    files: int = 0
    decisions: int = 0  # rows with a decision
    recorded: int = 0  # new or newer decisions stored
    without_reviewer: int = 0
    unreadable_files: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "decisions": self.decisions,
            "recorded": self.recorded,
            "without_reviewer": self.without_reviewer,
            "unreadable_files": len(self.unreadable_files),
        }


def take_returned_reviews(engine: Engine, settings: Settings) -> ReturnedReview:
    """Record the decisions of every filled-in review list in `review/returned/` (idempotent:
    a decision is replaced only by a later one)."""
    result = ReturnedReview()
    folder = returned_dir(settings)
    for path in sorted(
        p for p in folder.iterdir() if p.suffix.lower() == ".xlsx" and not p.name.startswith(("~$", "."))
    ):
        result.files += 1
        decided_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        try:
            rows = _decision_rows(path)
        except (pc.CalamineError, OSError, ValueError):
            result.unreadable_files.append(path.name)
            # Officers name these files; a name may be a student's, so it stays out of the log.
            log.warning("a returned review file could not be read (%d so far)", len(result.unreadable_files))
            continue
        with engine.begin() as conn:
            for student_key, resident_key, word, reviewer, note in rows:
                decision = decision_code(word)
                if decision is None:
                    continue
                result.decisions += 1
                if not reviewer:
                    result.without_reviewer += 1
                    continue
                result.recorded += record_decision(
                    conn,
                    student_key=student_key,
                    resident_key=resident_key,
                    decision=decision,
                    reviewer=reviewer,
                    decided_at=decided_at,
                    source=path.name,
                    note=note or None,
                )
    log.info("returned review files: %s", result.summary())
    return result


def _decision_rows(path: Path) -> list[tuple[str, str, str, str, str]]:
    workbook = pc.CalamineWorkbook.from_path(str(path))
    wanted = {
        fold(h): h
        for h in (DECISION_HEADER, REVIEWER_HEADER, NOTE_HEADER, STUDENT_KEY_HEADER, RESIDENT_KEY_HEADER)
    }
    out = []
    for name in workbook.sheet_names:
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        # The header is the first row naming every column we need (title rows may be added above).
        found = next(
            (
                (
                    r,
                    {
                        wanted[fold(c)]: i
                        for i, c in enumerate(row)
                        if isinstance(c, str) and fold(c) in wanted
                    },
                )
                for r, row in enumerate(rows[:10])
                if sum(isinstance(c, str) and fold(c) in wanted for c in row) == len(wanted)
            ),
            None,
        )
        if found is None:
            continue
        start, header = found

        def cell(row: list[Any], column: str, header: dict[str, int] = header) -> str:
            i = header[column]
            value = row[i] if i < len(row) else None
            return clean_cell_text(str(value)) if value is not None else ""

        for row in rows[start + 1 :]:
            student, resident = cell(row, STUDENT_KEY_HEADER), cell(row, RESIDENT_KEY_HEADER)
            word = cell(row, DECISION_HEADER)
            if student and resident and word:
                out.append((student, resident, word, cell(row, REVIEWER_HEADER), cell(row, NOTE_HEADER)))
    return out
