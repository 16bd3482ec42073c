"""Bad (and awkward but valid) school weekly files, each with the outcome the contract implies.

Expected outcomes come from docs/contracts.md#3-school-weekly-submission and the rules catalogue
(docs/validation-rules.md), not from running the code: a file that breaks a rule is quarantined
with that rule; what the contract allows (title rows, headers without diacritics, text dates
dd/mm/yyyy, extra sheets …) loads.

Every case writes its file(s) under `<inbox>/<school>/<case id>/`, as a school drops files into
its own folder, so the school can be told even when its file cannot be read. Cases that load use
a (school, week) no other loading case uses, so all cases can share one collection run.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET
from chuyencan.core.settings import TIMEZONE
from tests.bad_input import raw
from tests.workbooks import CLASSES, STUDENTS, Workbook, baseline_students, class_row

NOW = datetime(2025, 3, 21, 11, 30, tzinfo=TIMEZONE)  # the Friday run after the 10:00 deadline
STUDENTS_FROM = date(2025, 2, 28)  # the baseline students' first days missed are before this
HISTORY_WEEK = date(2025, 2, 21)
# A school the corpus's reference data closes on 31/12/2024 (validity dates,
# docs/contracts.md#6-reference-data).
CLOSED_SCHOOL = "BX-NTH"
CLOSED_ON = date(2024, 12, 31)

Builder = Callable[[Path], list[Path]]


@dataclass(frozen=True)
class Case:
    id: str
    what: str  # English, for the docs table
    school: str  # whose folder the file lands in; who must be told
    build: Builder
    outcome: (
        str  # per file, joined with " + ": loaded / loaded with warnings / quarantined / waiting / ignored
    )
    rules: tuple[str, ...] = ()  # errors (quarantined) or warnings (loaded with warnings), exactly
    week: date | None = None  # loaded cases: the week the warehouse must hold
    classes: int | None = None  # loaded cases: class rows the warehouse must hold
    fresh: bool = False  # still being written: modified seconds before the run
    tags: frozenset[str] = field(default_factory=frozenset)


# --- valid files for any school's grade range ---------------------------------------------------

_GRADES = {(1, 9): (1, 3, 6, 7, 8), (6, 9): (6, 7, 8, 9), (10, 12): (10, 11, 12), (6, 12): (6, 7, 8, 10, 12)}
_RANGES = {
    "BX-AMS": (1, 9),
    "BX-ALU": (1, 9),
    "BX-NPU": (1, 9),
    "BX-NTH": (1, 9),
    "BX-THCS-QK": (6, 9),
    "BX-THCS-TT": (6, 9),
    "BX-YTY": (6, 9),
    "BX-SMS": (6, 9),
    "BX-DTH": (6, 9),
    "BX-THPT1": (10, 12),
    "BX-THPT2": (10, 12),
    "BX-GDTX": (10, 12),
    "BX-THCSTHPT": (6, 12),
    "BX-DTNT": (6, 12),
}


def good(school: str, week: date, **knobs: Any) -> Workbook:
    """A valid file for the school and week: a class per grade, the baseline students whose
    grade the school teaches (students only from late February: their first day missed)."""
    grades = _GRADES[_RANGES[school]]
    classes = [
        class_row(g, f"{g}A", enrolled=30 + g, days=5, excused=(g % 3) + 1, unexcused=g % 2) for g in grades
    ]
    students = (
        [_own(s, school) for s in baseline_students() if s["khoi"] in grades] if week >= STUDENTS_FROM else []
    )
    return Workbook(school=school, week=week, classes=classes, students=students, **knobs)


def _own(student: dict[str, Any], school: str) -> dict[str, Any]:
    """The baseline student as one of this school's own children: a personal ID of its own
    (the serial digits), so two schools never list the same child by accident."""
    pid = student.get("so_dinh_danh")
    if not isinstance(pid, str):
        return dict(student)
    return {**student, "so_dinh_danh": pid[:6] + f"{list(_RANGES).index(school):02d}" + pid[8:]}


def n_classes(school: str) -> int:
    return len(_GRADES[_RANGES[school]])


def _save(wb: Workbook, name: str = "bao cao.xlsx") -> Builder:
    def build(folder: Path) -> list[Path]:
        return [wb.save(folder / name)]

    return build


def _bytes(data: bytes, name: str) -> Builder:
    def build(folder: Path) -> list[Path]:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return [path]

    return build


def _with(fn: Callable[[Path], Path], name: str = "bao cao.xlsx") -> Builder:
    def build(folder: Path) -> list[Path]:
        return [fn(folder / name)]

    return build


def _rows(wb: Workbook) -> dict[str, list[list[Any]]]:
    """The workbook's two sheets as plain rows (header first), for the hand-made writer."""
    out: dict[str, list[list[Any]]] = {}
    for sheet in (CLASS_SHEET, STUDENT_SHEET):
        rows: list[list[Any]] = [[c.header for c in sheet.columns]]
        for row in wb.rows(sheet.name):
            cells = []
            for c in sheet.columns:
                v = row.get(c.key)
                cells.append(v.strftime("%d/%m/%Y") if isinstance(v, date) else v)
            rows.append(cells)
        out[sheet.name] = rows
    return out


# --- builders of the odder files ------------------------------------------------------------------


def _truncated(folder: Path) -> list[Path]:
    whole = good("BX-YTY", date(2025, 3, 14)).save(folder / "whole.tmp")
    data = whole.read_bytes()
    whole.unlink()
    path = folder / "bao cao.xlsx"
    path.write_bytes(data[: len(data) * 6 // 10])
    return [path]


def _garbled_sheet(folder: Path) -> list[Path]:
    """A zip that is an .xlsx on the outside, whose worksheet is not XML (a bad disk sector)."""
    rows = _rows(good("BX-SMS", date(2025, 3, 14)))
    path = raw.write_xlsx(folder / "bao cao.xlsx", rows)
    garbage = random.Random(7).randbytes(3000)
    target = folder / "bao cao (hong).xlsx"
    import zipfile

    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = garbage if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info.filename)
            zout.writestr(info.filename, data)
    path.unlink()
    return [target]


def _growing(folder: Path) -> list[Path]:
    """Half of a workbook: the share is still copying it (its time is set to just now)."""
    whole = good("BX-THPT2", date(2025, 3, 21)).save(folder / "whole.tmp")
    data = whole.read_bytes()
    whole.unlink()
    path = folder / "bao cao.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return [path]


def finish_growing(path: Path) -> None:
    """The copy completes: the whole workbook is in place."""
    good("BX-THPT2", date(2025, 3, 21)).save(path)


def _two_names(folder: Path) -> list[Path]:
    first = good("BX-THCSTHPT", date(2025, 3, 14)).save(folder / "bao cao.xlsx")
    second = folder / "ban sao" / "bao cao - Copy.xlsx"
    second.parent.mkdir(parents=True)
    shutil.copyfile(first, second)
    return [first, second]


def _macro(folder: Path) -> list[Path]:
    plain = good("BX-GDTX", date(2025, 3, 14)).save(folder / "plain.tmp")
    path = raw.add_members(plain, folder / "bao cao.xlsm", {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0VBA"})
    plain.unlink()
    return [path]


def _bomb(folder: Path) -> list[Path]:
    plain = good("BX-DTNT", date(2025, 3, 14)).save(folder / "plain.tmp")
    path = raw.zip_bomb(plain, folder / "bao cao.xlsx", megabytes=160)
    plain.unlink()
    return [path]


def _docx(folder: Path) -> list[Path]:
    import zipfile

    path = folder / "bao cao.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return [path]


def _csv_text() -> bytes:
    header = ",".join(c.header for c in CLASS_SHEET.columns)
    return (header + "\r\nBX-THCS-QK,14/03/2025,6,6A,32,5,1,0\r\n").encode("utf-8")


def _formulas(cached: bool) -> Builder:
    def build(folder: Path) -> list[Path]:
        school, week = ("BX-THCS-QK", date(2025, 3, 7)) if cached else ("BX-THCS-QK", date(2025, 3, 14))
        rows = _rows(good(school, week))
        for r, row in enumerate(rows[CLASSES][1:], start=2):
            enrolled = row[4]
            # Enrolment as the sum of boys and girls, absences as a SUM over days.
            row[4] = raw.Formula(f"{enrolled - 15}+15", enrolled if cached else None)
            row[6] = raw.Formula(f"SUM(J{r}:N{r})", row[6] if cached else None)
        return [raw.write_xlsx(folder / "bao cao.xlsx", rows)]

    return build


def _merged_two_rows(folder: Path) -> list[Path]:
    """Each header cell merged with the empty cell below it (a taller header band)."""
    rows = _rows(good("BX-THCS-TT", date(2025, 3, 14)))
    merges = {}
    for sheet in (CLASSES, STUDENTS):
        header = rows[sheet][0]
        rows[sheet].insert(1, [None] * len(header))
        merges[sheet] = [f"{raw._col(c)}1:{raw._col(c)}2" for c in range(len(header))]
    return [raw.write_xlsx(folder / "bao cao.xlsx", rows, merges=merges)]


def _merged_group(folder: Path) -> list[Path]:
    """'Số lượt vắng' merged over two columns, 'Có phép' / 'Không phép' below it."""
    rows = _rows(good("BX-THCS-TT", date(2025, 3, 7)))
    header = rows[CLASSES][0]
    top = [*header[:6], "Số lượt vắng", None]
    below = [None] * 6 + ["Có phép", "Không phép"]
    rows[CLASSES] = [top, below, *rows[CLASSES][1:]]
    merges = {CLASSES: ["G1:H1", *(f"{raw._col(c)}1:{raw._col(c)}2" for c in range(6))]}
    return [raw.write_xlsx(folder / "bao cao.xlsx", rows, merges=merges)]


def _control_chars(folder: Path) -> list[Path]:
    """Control characters pasted from other systems, in the file as Excel escapes them
    (`_x0007_`) and raw; NUL too (PostgreSQL refuses it in text)."""
    rows = _rows(good("BX-AMS", date(2025, 3, 7)))
    students = rows[STUDENTS]
    col = {c.key: i for i, c in enumerate(STUDENT_SHEET.columns)}
    students[1][col["thon"]] = raw.RawText("Phìn_x0007_ Hồ_x0000_")
    students[1][col["noi_den"]] = raw.RawText("Bắc_x001B_ Ninh_x000B_")
    students[1][col["ly_do"]] = "Đi làm\x1b ăn xa"
    rows[CLASSES][1][3] = raw.RawText("1A_x0008_")  # class name
    return [raw.write_xlsx(folder / "bao cao.xlsx", rows)]


def _many_rows(folder: Path) -> list[Path]:
    """100,000 class rows (a province's table pasted in); text dates, as the contract allows."""
    header = [c.header for c in CLASS_SHEET.columns]

    def rows() -> Any:
        yield header
        for i in range(100_000):
            yield ["BX-ALU", "07/03/2025", 6, f"6/{i}", 30, 5, 1, 0]

    return [
        raw.write_xlsx(
            folder / "bao cao.xlsx", {CLASSES: rows(), STUDENTS: [[c.header for c in STUDENT_SHEET.columns]]}
        )
    ]


def _trailing_empty_rows(folder: Path) -> list[Path]:
    """6,000 rows of empty-string cells below the data (formatted rows, copied down)."""
    rows = _rows(good("BX-ALU", date(2025, 3, 14)))
    rows[CLASSES] += [[""] * 8 for _ in range(6_000)]
    return [raw.write_xlsx(folder / "bao cao.xlsx", rows)]


def _ods(folder: Path) -> list[Path]:
    return [raw.write_ods(folder / "bao cao.xlsx")]


def _injection() -> Workbook:
    wb = good("BX-NPU", date(2025, 3, 21))
    wb.set(CLASSES, 0, "lop", '=HYPERLINK("http://example.com/x","1A")')
    wb.set(STUDENTS, 3, "lop", '=HYPERLINK("http://example.com/x","1A")')
    wb.set(STUDENTS, 0, "thon", "+84 Phìn Hồ")
    wb.set(STUDENTS, 0, "ly_do", "-Đi làm ăn xa")
    wb.set(STUDENTS, 0, "noi_den", "@SUM(1+1)*cmd|' /C calc'!A0")
    wb.set(STUDENTS, 1, "cha_me", "=1+1")
    return wb


INJECTION_CLASS = '=HYPERLINK("http://example.com/x","1A")'


def _injection_build(folder: Path) -> list[Path]:
    """openpyxl would store a str starting with '=' as a formula: force every cell to text, as
    a school typing a leading apostrophe gets."""
    import openpyxl

    path = _injection().save(folder / "bao cao.xlsx")
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    wb.save(path)
    return [path]


def _text_numbers(values: dict[str, Any], school: str, week: date) -> Workbook:
    wb = good(school, week)
    for key, value in values.items():
        wb.set(CLASSES, 0, key, value)
    return wb


def _bool_cell() -> Workbook:
    wb = good("BX-YTY", date(2025, 3, 14))
    return wb.set(STUDENTS, 0, "ly_do", True)


def _total_row() -> Workbook:
    wb = good("BX-THCS-TT", date(2025, 3, 14))
    classes = wb.rows(CLASSES)
    total: dict[str, Any] = {"lop": "TỔNG CỘNG"}
    for key in ("si_so", "vang_co_phep", "vang_khong_phep"):
        total[key] = sum(int(r[key]) for r in classes)
    return wb.add_row(CLASSES, total)


def _random_bytes() -> bytes:
    return random.Random(6).randbytes(4096).replace(b"PK", b"pk").replace(b"\xd0\xcf", b"\xd0\xce")


# --- the registry ------------------------------------------------------------------------------

W14, W07, W21, W28 = date(2025, 3, 14), date(2025, 3, 7), date(2025, 3, 21), date(2025, 2, 28)
FILE = frozenset({"file"})
NASTY = frozenset({"file", "nasty"})
PG = frozenset({"postgres"})


def _case(id: str, what: str, school: str, build: Builder, outcome: str, *rules: str, **kw: Any) -> Case:
    return Case(id, what, school, build, outcome, tuple(sorted(set(rules))), **kw)


def school_cases() -> list[Case]:
    q, ok, warn = "quarantined", "loaded", "loaded with warnings"
    cases = [
        # -- not a workbook at all --
        _case(
            "empty_file",
            "an empty file (0 bytes)",
            "BX-AMS",
            _bytes(b"", "bao cao.xlsx"),
            q,
            "empty_file",
            tags=NASTY | PG,
        ),
        _case(
            "random_bytes",
            "random bytes named .xlsx",
            "BX-ALU",
            _bytes(_random_bytes(), "bao cao.xlsx"),
            q,
            "not_xlsx",
            tags=FILE,
        ),
        _case(
            "pdf_renamed",
            "a PDF renamed to .xlsx",
            "BX-YTY",
            _bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "bao cao.xlsx"),
            q,
            "not_xlsx",
            tags=NASTY | PG,
        ),
        _case(
            "csv_renamed",
            "a CSV export renamed to .xlsx",
            "BX-THCS-QK",
            _bytes(_csv_text(), "bao cao.xlsx"),
            q,
            "not_xlsx",
            tags=FILE,
        ),
        _case(
            "xls_renamed",
            "an Excel 97-2003 .xls (OLE2/BIFF8) renamed to .xlsx",
            "BX-SMS",
            _with(raw.write_xls),
            q,
            "xls_format",
            tags=FILE | PG,
        ),
        _case(
            "ods_renamed",
            "a LibreOffice .ods renamed to .xlsx",
            "BX-DTH",
            _with(raw.write_ods),
            q,
            "not_xlsx",
            tags=FILE,
        ),
        _case(
            "docx_renamed",
            "a Word .docx renamed to .xlsx (a zip, not a workbook)",
            "BX-THPT1",
            _docx,
            q,
            "not_xlsx",
            tags=FILE,
        ),
        _case(
            "truncated_xlsx",
            "a corrupt .xlsx: the first 60 % of the bytes",
            "BX-YTY",
            _truncated,
            q,
            "corrupt_file",
            tags=NASTY,
        ),
        _case(
            "garbled_sheet",
            "a corrupt .xlsx: valid zip, worksheet bytes are garbage",
            "BX-SMS",
            _garbled_sheet,
            q,
            "corrupt_file",
            tags=NASTY | PG,
        ),
        _case(
            "password_protected",
            "a workbook with a password to open (OLE2 with EncryptionInfo)",
            "BX-THPT1",
            _with(raw.write_encrypted_workbook),
            q,
            "password_protected",
            tags=NASTY | PG,
        ),
        _case(
            "macro_xlsm",
            "a macro-enabled .xlsm (VBA project inside)",
            "BX-GDTX",
            _macro,
            q,
            "macro_file",
            tags=FILE | PG,
        ),
        _case(
            "zip_bomb",
            "a zip bomb: 160 MB of zeros declared inside a workbook of a few hundred KB",
            "BX-DTNT",
            _bomb,
            q,
            "too_large",
            tags=NASTY | PG,
        ),
        _case(
            "growing_file",
            "half a workbook, modified seconds ago (still being copied)",
            "BX-THPT2",
            _growing,
            "waiting",
            fresh=True,
            tags=NASTY,
        ),
        _case(
            "excel_lock_file",
            "Excel's lock file ~$bao cao.xlsx beside the real file",
            "BX-ALU",
            _bytes(b"\x0bNguyen Van A" + bytes(150), "~$bao cao.xlsx"),
            "ignored",
        ),
        _case(
            "thumbs_db",
            "Windows' Thumbs.db in the school's folder",
            "BX-ALU",
            _bytes(raw.CFB_MAGIC + bytes(504), "Thumbs.db"),
            "ignored",
        ),
        # -- sheets and headers --
        _case(
            "missing_sheet",
            "the HocSinh sheet deleted",
            "BX-AMS",
            _save(good("BX-AMS", W14).rename_sheet(STUDENTS, None)),
            q,
            "missing_sheet",
        ),
        _case(
            "renamed_sheet",
            "the ChuyenCan sheet renamed Sheet1",
            "BX-AMS",
            _save(good("BX-AMS", W14).rename_sheet(CLASSES, "Sheet1")),
            q,
            "missing_sheet",
        ),
        _case(
            "sheet_titles",
            "sheets named by their Vietnamese titles 'Chuyên cần', 'Học sinh'",
            "BX-AMS",
            _save(good("BX-AMS", W14).rename_sheet(CLASSES, "Chuyên cần").rename_sheet(STUDENTS, "Học sinh")),
            ok,
            week=W14,
            classes=n_classes("BX-AMS"),
        ),
        _case(
            "extra_sheets",
            "extra sheets (instructions, a draft) besides the two",
            "BX-ALU",
            _save(good("BX-ALU", W07, extra_sheets=("Hướng dẫn", "Nháp"))),
            ok,
            week=W07,
            classes=n_classes("BX-ALU"),
        ),
        _case(
            "missing_column",
            "the Sĩ số column deleted",
            "BX-YTY",
            _save(good("BX-YTY", W14).drop_column(CLASSES, "si_so")),
            q,
            "missing_column",
        ),
        _case(
            "duplicated_column",
            "the Vắng có phép column twice",
            "BX-YTY",
            _save(good("BX-YTY", W14).duplicate_column(CLASSES, "vang_co_phep")),
            q,
            "duplicate_column",
        ),
        _case(
            "misspelled_column",
            "'Sĩ số' typed 'Sĩ sô học sinh'",
            "BX-YTY",
            _save(good("BX-YTY", W14).rename_header(CLASSES, "si_so", "Sĩ sô học sinh")),
            q,
            "missing_column",
        ),
        _case(
            "header_tone_slip",
            "headers with wrong tone marks and odd case ('SỈ SỐ', 'vẮng Không Phép')",
            "BX-NPU",
            _save(
                good("BX-NPU", W07)
                .rename_header(CLASSES, "si_so", "SỈ SỐ")
                .rename_header(CLASSES, "vang_khong_phep", "vẮng Không Phép")
            ),
            ok,
            week=W07,
            classes=n_classes("BX-NPU"),
        ),
        _case(
            "headers_no_diacritics",
            "headers typed without diacritics",
            "BX-THCS-QK",
            _save(good("BX-THCS-QK", W28, headers="no_diacritics")),
            ok,
            week=W28,
            classes=n_classes("BX-THCS-QK"),
        ),
        _case(
            "headers_ascii_keys",
            "headers as the contract's ASCII keys (ma_truong …)",
            "BX-THCS-TT",
            _save(good("BX-THCS-TT", W28, headers="keys")),
            ok,
            week=W28,
            classes=n_classes("BX-THCS-TT"),
        ),
        _case(
            "title_rows",
            "three title rows above the header row, STT and note columns",
            "BX-YTY",
            _save(good("BX-YTY", W07, title_rows=3, extra_columns=True)),
            ok,
            week=W07,
            classes=n_classes("BX-YTY"),
        ),
        _case(
            "merged_header_rows",
            "each header cell merged over two rows",
            "BX-THCS-TT",
            _merged_two_rows,
            ok,
            week=W14,
            classes=n_classes("BX-THCS-TT"),
        ),
        _case(
            "merged_header_group",
            "'Số lượt vắng' merged over 'Có phép' / 'Không phép' (not the template's headers)",
            "BX-THCS-TT",
            _merged_group,
            q,
            "missing_column",
        ),
        _case(
            "no_header_row",
            "the header row deleted: data only",
            "BX-SMS",
            _save(
                good("BX-SMS", W14, headers="keys")
                .rename_header(CLASSES, "ma_truong", "")
                .rename_header(CLASSES, "tuan", "")
                .rename_header(CLASSES, "khoi", "")
                .rename_header(CLASSES, "lop", "")
                .rename_header(CLASSES, "si_so", "")
                .rename_header(CLASSES, "so_ngay_hoc", "")
                .rename_header(CLASSES, "vang_co_phep", "")
                .rename_header(CLASSES, "vang_khong_phep", "")
            ),
            q,
            "header_not_found",
        ),
        _case(
            "no_classes",
            "the template sent back empty: no class rows",
            "BX-SMS",
            _save(Workbook(school="BX-SMS", week=W14, classes=[], students=[])),
            q,
            "no_classes",
        ),
        _case(
            "trailing_empty_rows",
            "6,000 formatted empty rows below the data",
            "BX-ALU",
            _trailing_empty_rows,
            ok,
            week=W14,
            classes=n_classes("BX-ALU"),
        ),
        _case("rows_100000", "100,000 class rows", "BX-ALU", _many_rows, q, "too_many_rows", tags=FILE),
        # -- cell values --
        _case(
            "formulas_cached",
            "formulas with the values Excel stored (=17+15, =SUM(…))",
            "BX-THCS-QK",
            _formulas(True),
            ok,
            week=W07,
            classes=n_classes("BX-THCS-QK"),
        ),
        _case(
            "formulas_not_computed",
            "formulas with no stored value (written by a tool, never opened in Excel)",
            "BX-THCS-QK",
            _formulas(False),
            q,
            "formula_not_computed",
        ),
        _case(
            "numbers_as_text",
            "counts typed as text ('32', ' 5 ')",
            "BX-DTH",
            _save(_text_numbers({"si_so": "32", "so_ngay_hoc": " 5 "}, "BX-DTH", W07)),
            ok,
            week=W07,
            classes=n_classes("BX-DTH"),
        ),
        _case(
            "decimal_comma_whole",
            "counts with a Vietnamese decimal comma, whole ('32,0', '2,00')",
            "BX-DTH",
            _save(_text_numbers({"si_so": "32,0", "vang_co_phep": "2,00"}, "BX-DTH", W14)),
            ok,
            week=W14,
            classes=n_classes("BX-DTH"),
        ),
        _case(
            "decimal_comma_fraction",
            "a fractional count with a decimal comma ('2,5')",
            "BX-DTH",
            _save(_text_numbers({"vang_co_phep": "2,5"}, "BX-DTH", W21)),
            q,
            "not_integer",
        ),
        _case(
            "percent_in_count",
            "absences typed as a percentage ('5%')",
            "BX-DTH",
            _save(_text_numbers({"vang_khong_phep": "5%"}, "BX-DTH", W21)),
            q,
            "not_integer",
        ),
        _case(
            "fraction_number",
            "a fractional number in Sĩ số (31.5)",
            "BX-DTH",
            _save(_text_numbers({"si_so": 31.5}, "BX-DTH", W21)),
            q,
            "not_integer",
        ),
        _case(
            "dates_text_slash",
            "every date as text dd/mm/yyyy",
            "BX-YTY",
            _save(good("BX-YTY", W28, text_dates=True)),
            ok,
            week=W28,
            classes=n_classes("BX-YTY"),
        ),
        _case(
            "dates_text_dash",
            "the week as text dd-mm-yyyy",
            "BX-SMS",
            _save(good("BX-SMS", W07).set_all(CLASSES, "tuan", "07-03-2025")),
            ok,
            week=W07,
            classes=n_classes("BX-SMS"),
        ),
        _case(
            "dates_text_dot",
            "the week as text dd.mm.yyyy",
            "BX-SMS",
            _save(good("BX-SMS", W28).set_all(CLASSES, "tuan", "28.02.2025")),
            ok,
            week=W28,
            classes=n_classes("BX-SMS"),
        ),
        _case(
            "dates_iso_text",
            "the week as text yyyy-mm-dd",
            "BX-DTH",
            _save(good("BX-DTH", W28).set_all(CLASSES, "tuan", "2025-02-28")),
            ok,
            week=W28,
            classes=n_classes("BX-DTH"),
        ),
        _case(
            "dates_excel_serial",
            "the week as a bare Excel serial number (45730)",
            "BX-THPT1",
            _save(good("BX-THPT1", W14).set_all(CLASSES, "tuan", (W14 - date(1899, 12, 30)).days)),
            ok,
            week=W14,
            classes=n_classes("BX-THPT1"),
        ),
        _case(
            "date_ambiguous_ddmm",
            "the week '07/03/2025': day first, so 7 March (a Friday), never 3 July",
            "BX-THPT1",
            _save(good("BX-THPT1", W07).set_all(CLASSES, "tuan", "07/03/2025")),
            ok,
            week=W07,
            classes=n_classes("BX-THPT1"),
        ),
        _case(
            "date_mmdd",
            "the week written month first '03/14/2025'",
            "BX-THPT1",
            _save(good("BX-THPT1", W21).set_all(CLASSES, "tuan", "03/14/2025")),
            q,
            "invalid_date",
        ),
        _case(
            "date_two_digit_year",
            "the week written '14/03/25'",
            "BX-THPT1",
            _save(good("BX-THPT1", W21).set_all(CLASSES, "tuan", "14/03/25")),
            q,
            "date_two_digit_year",
        ),
        _case(
            "date_in_words",
            "the week written '14 tháng 3 năm 2025'",
            "BX-THPT1",
            _save(good("BX-THPT1", W21).set_all(CLASSES, "tuan", "14 tháng 3 năm 2025")),
            q,
            "not_date",
        ),
        _case(
            "week_not_friday",
            "the week ending on a Thursday (13/03/2025)",
            "BX-GDTX",
            _save(good("BX-GDTX", date(2025, 3, 13))),
            q,
            "week_not_friday",
        ),
        _case(
            "week_in_future",
            "a week two Fridays ahead (04/04/2025)",
            "BX-GDTX",
            _save(good("BX-GDTX", date(2025, 4, 4))),
            q,
            "week_in_future",
        ),
        _case(
            "week_outside_school_year",
            "a Friday of the summer holiday (02/08/2024)",
            "BX-GDTX",
            _save(good("BX-GDTX", date(2024, 8, 2))),
            q,
            "week_outside_school_year",
        ),
        _case(
            "unknown_school",
            "a school code not in the list (BX-ABC)",
            "BX-DTNT",
            _save(good("BX-DTNT", W14).set_all(CLASSES, "ma_truong", "BX-ABC")),
            q,
            "unknown_school",
        ),
        _case(
            "closed_school",
            f"a school closed on {CLOSED_ON:%d/%m/%Y} reporting in March",
            CLOSED_SCHOOL,
            _save(good(CLOSED_SCHOOL, W14)),
            q,
            "school_inactive",
        ),
        _case(
            "two_schools",
            "two schools in one file",
            "BX-THCSTHPT",
            _save(
                good("BX-THCSTHPT", W07)
                .set(CLASSES, 3, "ma_truong", "BX-DTNT")
                .set(CLASSES, 4, "ma_truong", "BX-DTNT")
            ),
            q,
            "school_code_differs",
        ),
        _case(
            "two_weeks",
            "two weeks in one file",
            "BX-THCSTHPT",
            _save(good("BX-THCSTHPT", W07).set(CLASSES, 4, "tuan", W28)),
            q,
            "week_differs",
        ),
        _case(
            "duplicate_class",
            "the same class twice ('6A' and '6 a ')",
            "BX-THCSTHPT",
            _save(good("BX-THCSTHPT", W21).copy_row(CLASSES, 0, lop="6 a ")),
            q,
            "duplicate_class",
        ),
        _case(
            "negative_counts",
            "a negative absence count",
            "BX-THCSTHPT",
            _save(good("BX-THCSTHPT", W21).set(CLASSES, 1, "vang_khong_phep", -3)),
            q,
            "negative",
        ),
        _case(
            "absences_impossible",
            "absences above sĩ số × số ngày học (a rate typed as a count)",
            "BX-THCSTHPT",
            _save(
                good("BX-THCSTHPT", W21)
                .set(CLASSES, 2, "vang_co_phep", 97)
                .set(CLASSES, 2, "vang_khong_phep", 98)
            ),
            q,
            "absences_exceed_capacity",
        ),
        _case(
            "school_days_7",
            "7 school days in a week",
            "BX-THCSTHPT",
            _save(good("BX-THCSTHPT", W21).set(CLASSES, 0, "so_ngay_hoc", 7)),
            q,
            "school_days_range",
        ),
        _case(
            "grade_not_taught",
            "a grade-10 class in a lower-secondary school",
            "BX-SMS",
            _save(
                good("BX-SMS", W21).add_row(
                    CLASSES, class_row(10, "10A", enrolled=30, days=5, excused=0, unexcused=0)
                )
            ),
            q,
            "grade_outside_school",
        ),
        _case(
            "attendance_far_below_usual",
            "attendance 40 points below the school's usual weeks",
            "BX-DTH",
            _save(good("BX-DTH", W21).set(CLASSES, 0, "vang_khong_phep", 70)),
            warn,
            "attendance_drop",
            week=W21,
            classes=n_classes("BX-DTH"),
        ),
        _case(
            "enrolment_far_off_usual",
            "Sĩ số 360 for a class of 36 last week (a digit too many)",
            "BX-YTY",
            _save(good("BX-YTY", W21).set(CLASSES, 0, "si_so", 360)),
            warn,
            "enrolment_off_usual",
            week=W21,
            classes=n_classes("BX-YTY"),
        ),
        _case(
            "invalid_personal_id",
            "a personal ID of 11 digits with a letter",
            "BX-AMS",
            _save(good("BX-AMS", W21).set(STUDENTS, 0, "so_dinh_danh", "01021100A21")),
            q,
            "personal_id_format",
        ),
        _case(
            "personal_id_mismatch",
            "a personal ID whose sex/year digits contradict the student",
            "BX-AMS",
            _save(good("BX-AMS", W21).set(STUDENTS, 0, "so_dinh_danh", "010312004217")),
            q,
            "personal_id_inconsistent",
        ),
        _case(
            "birth_date_impossible",
            "a grade-7 student born in 2021",
            "BX-AMS",
            _save(
                good("BX-AMS", W21)
                .set(STUDENTS, 0, "ngay_sinh", date(2021, 4, 12))
                .set(STUDENTS, 0, "so_dinh_danh", None)
            ),
            q,
            "age_implausible",
        ),
        _case(
            "birth_date_future",
            "a birth date after the report week (2026)",
            "BX-AMS",
            _save(good("BX-AMS", W21).set(STUDENTS, 2, "ngay_sinh", date(2026, 1, 20))),
            q,
            "age_implausible",
        ),
        _case(
            "unknown_status",
            "a student status that is not in the list ('Chuyển trường')",
            "BX-ALU",
            _save(good("BX-ALU", W21).set(STUDENTS, 1, "tinh_trang", "Chuyển trường")),
            q,
            "status_invalid",
        ),
        _case(
            "unknown_commune",
            "a home commune that does not exist ('Xã Mây Trắng')",
            "BX-ALU",
            _save(good("BX-ALU", W21).set(STUDENTS, 2, "xa", "Xã Mây Trắng")),
            q,
            "unknown_commune",
        ),
        _case(
            "dropout_without_date",
            "a dropout without the first day missed",
            "BX-ALU",
            _save(good("BX-ALU", W21).set(STUDENTS, 0, "ngay_nghi", None)),
            q,
            "first_day_missed_required",
        ),
        _case(
            "student_class_unknown",
            "a student in a class the ChuyenCan sheet does not list",
            "BX-NPU",
            _save(good("BX-NPU", W14).set(STUDENTS, 1, "lop", "3B")),
            warn,
            "class_not_in_attendance_sheet",
            week=W14,
            classes=n_classes("BX-NPU"),
        ),
        _case("boolean_cell", "TRUE in the reason column", "BX-YTY", _save(_bool_cell()), q, "not_text"),
        _case(
            "total_row",
            "a 'TỔNG CỘNG' line under the classes (a total, not a class)",
            "BX-THCS-TT",
            _save(_total_row()),
            q,
            "total_row",
        ),
        _case(
            "formula_injection",
            "text starting with =, +, -, @ (spreadsheet formula injection)",
            "BX-NPU",
            _injection_build,
            ok,
            week=W21,
            classes=n_classes("BX-NPU"),
            tags=NASTY | PG,
        ),
        _case(
            "control_characters",
            "control characters (BEL, ESC, VT, NUL) inside text cells",
            "BX-AMS",
            _control_chars,
            ok,
            week=W07,
            classes=n_classes("BX-AMS"),
            tags=NASTY | PG,
        ),
        _case(
            "cell_10000_chars",
            "a 10,000-character cell",
            "BX-NPU",
            _save(good("BX-NPU", W21).set(STUDENTS, 0, "noi_den", "Bắc Ninh " * 1250)),
            q,
            "text_too_long",
            tags=NASTY | PG,
        ),
        _case(
            "same_bytes_two_names",
            "the same bytes under two names (a copy in a subfolder)",
            "BX-THCSTHPT",
            _two_names,
            "loaded + ignored",
            week=W14,
            classes=n_classes("BX-THCSTHPT"),
            tags=PG,
        ),
        _case(
            "nbsp_and_nfd",
            "non-breaking spaces and decomposed (NFD) Vietnamese text",
            "BX-NPU",
            _save(
                good("BX-NPU", W28)
                .set(STUDENTS, 0, "xa", "A\u00a0Mu\u0301 Sung")
                .set_all(CLASSES, "ma_truong", " bx-npu\u00a0")
            ),
            ok,
            week=W28,
            classes=n_classes("BX-NPU"),
        ),
    ]
    return cases


def history() -> list[tuple[Workbook, str]]:
    """Earlier accepted weeks: the usual attendance and enrolment the warnings compare with."""
    return [(good("BX-DTH", HISTORY_WEEK), "BX-DTH"), (good("BX-YTY", HISTORY_WEEK), "BX-YTY")]


def deadline_time(week: date) -> datetime:
    """Thursday afternoon before the week's Friday: every file in the corpus is on time."""
    return datetime.combine(week - timedelta(days=1), time(15, 0), tzinfo=TIMEZONE)
