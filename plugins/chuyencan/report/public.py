"""The fortnightly report's public version: aggregates anyone may read, with small counts hidden.

    <reports>/bao_cao_cong_khai_<yyyy-mm-dd>.xlsx   one sheet, Vietnamese
    <reports>/bao_cao_cong_khai_<yyyy-mm-dd>.csv    the same table (UTF-8 with BOM, for Excel)

Rows: the district, each level, each commune. No row per school: a school's figures are its
own handful of children, and the district's internal report has them.

Small-count rule (docs/personal-data.md):
1. primary: every count of children from 1 to 4 is shown as "<5" (0 is shown);
2. secondary: cells that add up to a total form a group: a column's levels with the district
   total, a column's communes with the district total, and in each row the open dropouts with
   their split by when they left, by police verdict and by eligibility. A group with exactly
   one hidden cell would give it away by subtraction, so the smallest other cell of the group
   (a non-zero one if there is one) is hidden too; repeated until no group has exactly one.
   The attendance rate is hidden with the enrolment it is computed on.
Counts of schools and submissions are not about children and are not part of this table.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook

from chuyencan.core.safe_cells import is_formula_like
from chuyencan.core.sheet_style import (
    CENTER,
    COUNT_FORMAT,
    LEFT,
    RATE_FORMAT,
    RIGHT,
    font,
    header_row,
    merge,
    page_setup,
    put,
    widths,
)
from chuyencan.report.content import (
    DISTRICT_LABEL,
    SMALL_COUNT_LIMIT,
    SUPPRESSED_TEXT,
    Issuer,
    Metric,
    ReportContent,
    ScopeRow,
    figure,
    table_metrics,
)
from chuyencan.report.files import save_text, save_workbook

log = logging.getLogger(__name__)

PUBLIC_STEM = "bao_cao_cong_khai"
SHEET = "Công khai"
TITLE = "SỐ LIỆU CÔNG KHAI VỀ CHUYÊN CẦN VÀ HỌC SINH BỎ HỌC"
SCOPE_LABELS = {"district": "Toàn huyện", "level": "Cấp học", "commune": "Xã, thị trấn"}
NOTE = (
    f"Để bảo vệ thông tin cá nhân của học sinh, số liệu từ 1 đến {SMALL_COUNT_LIMIT - 1} học sinh được "
    f'ghi "{SUPPRESSED_TEXT}"; một số ô khác cũng được ghi "{SUPPRESSED_TEXT}" để không thể tính ngược '
    "ra các ô đã ẩn từ số tổng. Không công bố số liệu theo từng trường."
)
# Parts that add up to `dropouts_open` within a row.
ROW_PARTITIONS: tuple[tuple[str, ...], ...] = (
    ("dropouts_summer", "dropouts_hk1", "dropouts_hk2", "dropouts_after_tet"),
    ("left_locality", "in_locality", "unverified"),
    ("eligible_to_continue", "not_eligible"),
)

Cell = tuple[int, str]  # (row index, field)


@dataclass(frozen=True)
class PublicTable:
    rows: tuple[ScopeRow, ...]  # district first, then levels, then communes
    metrics: tuple[Metric, ...]
    values: dict[Cell, int | float | None]
    hidden: frozenset[Cell]
    groups: tuple[tuple[Cell, ...], ...]  # each: the total first, then its parts

    def shown(self, row: int, field: str) -> int | float | str | None:
        if (row, field) in self.hidden:
            return SUPPRESSED_TEXT
        if field == "attendance_rate" and (row, "enrolled") in self.hidden:
            return SUPPRESSED_TEXT
        return self.values[(row, field)]


@dataclass(frozen=True)
class PublicFiles:
    xlsx: Path
    csv: Path


def public_files(out_dir: Path, report_date: date) -> PublicFiles:
    stem = out_dir / f"{PUBLIC_STEM}_{report_date.isoformat()}"
    return PublicFiles(xlsx=stem.with_suffix(".xlsx"), csv=stem.with_suffix(".csv"))


def public_table(content: ReportContent) -> PublicTable:
    rows = (content.district, *content.levels, *content.communes)
    metrics = tuple(m for m in table_metrics(content.max_sessions, with_schools=False))
    counts = [m.field for m in metrics if m.kind == "count"]
    values: dict[Cell, int | float | None] = {
        (i, m.field): figure(r.figures, m.field) for i, r in enumerate(rows) for m in metrics
    }
    levels = range(1, 1 + len(content.levels))
    communes = range(1 + len(content.levels), len(rows))
    groups: list[tuple[Cell, ...]] = []
    for field in counts:
        for members in (levels, communes):
            if len(members):
                groups.append(((0, field), *((i, field) for i in members)))
    for i in range(len(rows)):
        for parts in ROW_PARTITIONS:
            groups.append(((i, "dropouts_open"), *((i, f) for f in parts)))
    return PublicTable(
        rows=rows,
        metrics=metrics,
        values=values,
        hidden=frozenset(suppressed(values, counts, groups)),
        groups=tuple(groups),
    )


def suppressed(
    values: dict[Cell, int | float | None], counts: Sequence[str], groups: Iterable[tuple[Cell, ...]]
) -> set[Cell]:
    """Primary (1..4) then secondary suppression until no group has exactly one hidden cell."""
    hidden = {
        c for c, v in values.items() if c[1] in counts and isinstance(v, int) and 0 < v < SMALL_COUNT_LIMIT
    }
    groups = list(groups)
    changed = True
    while changed:
        changed = False
        for group in groups:
            if sum(c in hidden for c in group) != 1:
                continue
            open_cells = [c for c in group if c not in hidden and isinstance(values[c], int)]
            if not open_cells:
                continue
            nonzero = [c for c in open_cells if values[c]] or open_cells
            # The smallest figure loses least; a part rather than the total on a tie.
            hidden.add(min(nonzero, key=lambda c: (values[c], c == group[0], c)))
            changed = True
    return hidden


def _label(row: ScopeRow) -> str:
    return DISTRICT_LABEL if row.scope == "district" else row.label


def write_public_report(content: ReportContent, issuer: Issuer, out_dir: Path) -> PublicFiles:
    table = public_table(content)
    files = public_files(out_dir, content.report_date)
    save_workbook(_workbook(table, content, issuer), files.xlsx)
    save_text(_csv(table), files.csv)
    log.info(
        "public report %s written: %d rows, %d cells hidden",
        content.report_date,
        len(table.rows),
        len(table.hidden),
    )
    return files


def _headers(table: PublicTable) -> list[str]:
    return ["Phạm vi", "Tên", *(f"{m.group} - {m.header}" if m.group else m.header for m in table.metrics)]


def _workbook(table: PublicTable, content: ReportContent, issuer: Issuer) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    headers = _headers(table)
    last = len(headers)
    widths(ws, [14, 22, *([12] * len(table.metrics))])
    merge(ws, 1, 1, last, issuer.office_name.upper(), style=font(12, bold=True), align=LEFT)
    merge(ws, 2, 1, last, TITLE, style=font(14, bold=True), height=24)
    merge(
        ws,
        3,
        1,
        last,
        f"Ngày báo cáo: {content.report_date:%d/%m/%Y} (các tuần kết thúc ngày "
        + " và ".join(f"{w:%d/%m/%Y}" for w in content.weeks)
        + ")",
        style=font(12, italic=True),
    )
    top = 5
    header_row(ws, top, headers, height=62)
    for i, row in enumerate(table.rows):
        r = top + 1 + i
        put(ws, r, 1, SCOPE_LABELS.get(row.scope, row.scope), align=LEFT, border=True)
        put(ws, r, 2, _label(row), style=font(bold=row.scope == "district"), align=LEFT, border=True)
        for col, metric in enumerate(table.metrics, start=3):
            value = table.shown(i, metric.field)
            fmt = RATE_FORMAT if metric.kind == "rate" else COUNT_FORMAT
            put(ws, r, col, value, align=RIGHT if value != SUPPRESSED_TEXT else CENTER, fmt=fmt, border=True)
    note_row = top + len(table.rows) + 2
    merge(ws, note_row, 1, last, f"Ghi chú: {NOTE}", style=font(11, italic=True), align=LEFT, height=45)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")
    wb.properties.title = f"{TITLE} ngày {content.report_date:%d/%m/%Y}"
    wb.properties.creator = issuer.office_name
    wb.properties.language = "vi-VN"
    return wb


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    text = str(value)
    # The same neutralisation as the workbook's quote prefix, the form a CSV can carry.
    return f"'{text}" if is_formula_like(text) else text


def _csv(table: PublicTable) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_headers(table))
    for i, row in enumerate(table.rows):
        writer.writerow(
            [
                _csv_text(SCOPE_LABELS.get(row.scope, row.scope)),
                _csv_text(_label(row)),
                *(_csv_text(table.shown(i, m.field)) for m in table.metrics),
            ]
        )
    return buffer.getvalue()
