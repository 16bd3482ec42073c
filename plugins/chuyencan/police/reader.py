"""Read a commune police household extract (.csv UTF-8 or .xlsx) into one canonical table.

What the contract allows, the reader accepts: a UTF-8 CSV with or without BOM (comma, semicolon
or tab separated), an .xlsx with title rows above the header, headers in Vietnamese or as the
contract's keys (ignoring case, spacing and diacritics), residence statuses as codes or
Vietnamese labels, birth dates as dates or a year alone, IDs with their leading zeros (cells
are read as text; an ID typed as a number gets its zeros back). What it cannot read becomes an
`ExtractIssue`; rule checks happen afterwards in the GX suite (`police.validate`).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import python_calamine as pc

from chuyencan.core.contract import sex_code
from chuyencan.core.inbox import FILE_TOO_LARGE, POLICE_LIMITS, READ_FAILURES, Limits, sniff
from chuyencan.core.messages import CellError, to_date
from chuyencan.core.text import clean_cell_text, fold, nfc
from chuyencan.core.wording import catalogue
from chuyencan.police.extract_contract import EXTRACT_COLUMNS, FRAME_COLUMNS, ExtractColumn, residence_code
from chuyencan.police.issues import UNREADABLE_RULES, ExtractIssue

log = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 30
# Merged communes (2025 reform) have up to a few hundred thousand people, wards more; the
# matcher is bounded per case (docs/matching.md), so this only stops a runaway file.
MAX_ROWS = 1_000_000
MAX_CELL_CHARS = 500
_YEAR = re.compile(r"^\d{4}$")
_DELIMITERS = (",", ";", "\t")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
# Bytes of Windows-1258 that only Vietnamese text uses: its combining tone marks and the
# letters ă â đ ê ô ơ ư (both cases).
_CP1258_MARKS = frozenset(b"\xcc\xd2\xde\xec\xf2\xc3\xe3\xc2\xe2\xd0\xf0\xca\xea\xd4\xf4\xd5\xf5\xdd\xfd")


@dataclass
class ParsedExtract:
    path: Path
    file_format: str | None = None  # csv / xlsx
    frame: pd.DataFrame | None = None  # FRAME_COLUMNS
    issues: list[ExtractIssue] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return self.frame is not None and not any(i.rule in UNREADABLE_RULES for i in self.issues)


def read_extract(path: Path, limits: Limits = POLICE_LIMITS) -> ParsedExtract:
    """The extract's rows, or why they cannot be read. Never raises on what a file holds: a
    reader failure on hostile bytes is the file's problem (`reader_failed`)."""
    try:
        return _read_extract(path, limits)
    except READ_FAILURES as exc:
        log.warning("reading %s failed: %s", path.name, type(exc).__name__)
        parsed = ParsedExtract(path=path)
        parsed.issues.append(ExtractIssue("error", "reader_failed"))
        return parsed


def _read_extract(path: Path, limits: Limits) -> ParsedExtract:
    parsed = ParsedExtract(path=path)
    size = path.stat().st_size
    if size == 0:
        parsed.issues.append(ExtractIssue("error", "empty_file"))
        return parsed
    if limits.over(size):
        parsed.issues.append(
            ExtractIssue(
                "error",
                FILE_TOO_LARGE,
                params=(("size_mb", size // (1024 * 1024)), ("limit_mb", limits.file_bytes // (1024 * 1024))),
            )
        )
        return parsed
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith((b"PK", b"\xd0\xcf\x11\xe0")):
        refusal = sniff(path, limits)
        if refusal is not None:
            parsed.issues.append(ExtractIssue("error", refusal.rule, params=refusal.params))
            return parsed
        parsed.file_format = "xlsx"
        rows = _xlsx_rows(path, parsed.issues)
    else:
        parsed.file_format = "csv"
        with path.open("rb") as fh:
            data = fh.read(limits.file_bytes + 1)  # under the limit: checked above
        rows = _csv_rows(data, parsed.issues)
    if rows is not None:
        parsed.frame = _table(rows, parsed.issues)
    return parsed


# --- bytes -> rows ------------------------------------------------------------------------------


def _csv_rows(data: bytes, issues: list[ExtractIssue]) -> list[list[Any]] | None:
    if data.startswith(_UTF32_BOMS):
        issues.append(ExtractIssue("error", "not_utf8", params=(("detected", "UTF-32 (Unicode text)"),)))
        return None
    if data.startswith(b"%PDF") or (b"\x00" in data[:4096] and not data.startswith(_UTF16_BOMS)):
        issues.append(ExtractIssue("error", "not_extract", params=(("detected", _describe(data)),)))
        return None
    if data.startswith(_UTF16_BOMS):
        issues.append(ExtractIssue("error", "not_utf8", params=(("detected", "UTF-16 (Unicode text)"),)))
        return None
    try:
        text = data.removeprefix(_UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        issues.append(ExtractIssue("error", "not_utf8", params=(("detected", guess_encoding(data)),)))
        return None
    del data
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(_DELIMITERS, key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[Any]] = []
    try:
        for row in reader:
            if any("\n" in cell or "\r" in cell for cell in row):
                # A quote that never closes swallows the lines after it into one cell.
                raise csv.Error("line break inside a field")
            rows.append([cell if cell.strip() else None for cell in row])
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                break  # _table says "too many rows"; the rest is not read
    except csv.Error:
        issues.append(ExtractIssue("error", "malformed_csv", row=reader.line_num))
        return None
    return rows


FILE_KINDS: dict[str, str] = catalogue("file_kinds")


def guess_encoding(data: bytes) -> str:
    """A name for a CSV that is not UTF-8, for the message: Vietnamese Windows or something else."""
    high = [b for b in data if b >= 0x80]
    if high and sum(b in _CP1258_MARKS for b in high) / len(high) > 0.3:
        return FILE_KINDS["cp1258"]
    return FILE_KINDS["legacy_encoding"]


def _describe(data: bytes) -> str:
    return FILE_KINDS["pdf"] if data.startswith(b"%PDF") else FILE_KINDS["binary"]


def _xlsx_rows(path: Path, issues: list[ExtractIssue]) -> list[list[Any]] | None:
    try:
        workbook = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError:
        issues.append(ExtractIssue("error", "password_protected"))
        return None
    except (pc.CalamineError, OSError, ValueError):
        issues.append(ExtractIssue("error", "corrupt_file"))
        return None
    # The extract is the first sheet with a header row; clerks sometimes put a cover sheet first.
    first: list[list[Any]] | None = None
    for name in workbook.sheet_names:
        try:
            rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except (pc.CalamineError, ValueError):
            issues.append(ExtractIssue("error", "corrupt_file"))
            return None
        first = rows if first is None else first
        if _find_header(rows) is not None:
            return rows
    return first or []


# --- rows -> table ------------------------------------------------------------------------------


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[int, list[ExtractColumn]]] | None:
    index = {key: col for col in EXTRACT_COLUMNS for key in col.header_keys}
    best: tuple[int, dict[int, list[ExtractColumn]]] | None = None
    best_hits = 0
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[int, list[ExtractColumn]] = {}
        for c, cell in enumerate(row):
            col = index.get(fold(cell)) if isinstance(cell, str) else None
            if col is not None:
                found.setdefault(c, []).append(col)
        hits = len({col.key for cols in found.values() for col in cols})
        if hits > best_hits:
            best, best_hits = (r, found), hits
    return best if best is not None and best_hits >= 3 else None


def _table(rows: list[list[Any]], issues: list[ExtractIssue]) -> pd.DataFrame | None:  # noqa: C901 - to split (issue 10 follow-up)
    header = _find_header(rows)
    if header is None:
        issues.append(ExtractIssue("error", "header_not_found"))
        return None
    header_idx, found = header
    mapping: dict[int, ExtractColumn] = {}
    seen: set[str] = set()
    for c, cols in sorted(found.items()):
        col = cols[0]
        if col.key in seen:
            issues.append(ExtractIssue("error", "duplicate_column", row=header_idx + 1, column=col.key))
            continue
        seen.add(col.key)
        mapping[c] = col
    for col in EXTRACT_COLUMNS:
        if col.required and col.key not in seen:
            issues.append(ExtractIssue("error", "missing_column", row=header_idx + 1, column=col.key))
    if any(i.rule in UNREADABLE_RULES for i in issues):
        return None
    data_rows = rows[header_idx + 1 :]
    filled = [
        (header_idx + offset + 2, row) for offset, row in enumerate(data_rows) if any(map(_present, row))
    ]
    header_row = rows[header_idx]
    again = next((n for n, row in filled if row == header_row), None)
    if again is not None:
        # Two exports pasted one after the other: whose rows are whose is a guess.
        issues.append(ExtractIssue("error", "repeated_header", row=again))
        return None
    if len(filled) > MAX_ROWS:
        issues.append(ExtractIssue("error", "too_many_rows", params=(("limit", MAX_ROWS),)))
        return None
    if not filled:
        issues.append(ExtractIssue("error", "no_rows"))
        return None
    source_rows = [excel_row for excel_row, _ in filled]
    columns: dict[str, list[Any]] = {name: [None] * len(filled) for name in FRAME_COLUMNS}
    columns["source_row"] = source_rows
    for c, col in mapping.items():
        # Extracts repeat the same commune, village, sex, status and dates on thousands of rows:
        # each distinct cell value is coerced once.
        memo: dict[tuple[type, Any], tuple[dict[str, Any], str | None]] = {}
        for i, (excel_row, row) in enumerate(filled):
            value = row[c] if c < len(row) else None
            if not _present(value):
                continue
            key = (type(value), value)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = _coerce(col, value)
            values, rule = hit
            if rule is not None:
                issues.append(
                    ExtractIssue("error", rule, row=excel_row, column=col.key, value=_display(value))
                )
            for name, v in values.items():
                columns[name][i] = v
    return pd.DataFrame(columns, columns=list(FRAME_COLUMNS))


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _coerce(col: ExtractColumn, value: Any) -> tuple[dict[str, Any], str | None]:
    """The frame values one cell gives (by frame column), or the rule it breaks."""
    try:
        match col.kind:
            case "code":
                return {col.name: _id_text(value)}, None
            case "birth":
                year = _year_only(value)
                if year is not None:
                    return {"birth_year": year}, None
                born = to_date(value)
                return {"birth_date": born, "birth_year": born.year}, None
            case "date":
                return {col.name: to_date(value)}, None
            case "sex":
                text = _text(value)
                return {col.name: sex_code(text) or text}, None
            case "residence":
                text = _text(value)
                return {col.name: residence_code(text) or text}, None
            case _:
                return {col.name: _text(value)}, None
    except CellError as exc:
        return {}, exc.rule


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    text = nfc(clean_cell_text(str(value)))
    if len(text) > MAX_CELL_CHARS:
        raise CellError("text_too_long")
    return text


def _id_text(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer():
            return str(value)
        digits = str(int(value))
        # Excel drops the leading zero of a number; every province code is 001-096, so a 10- or
        # 11-digit number is a 12-digit ID without its zeros.
        return digits.zfill(12) if 10 <= len(digits) <= 11 else digits
    return re.sub(r"[\s.\-]", "", _text(value))


def _year_only(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return int(value) if 1800 <= value <= 2200 else None
    if isinstance(value, str):
        # The same clean-up _to_date applies, so a pasted zero-width space is no more fatal here.
        text = clean_cell_text(value)
        return int(text) if _YEAR.match(text) else None
    return None


def _display(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return clean_cell_text(str(value))
