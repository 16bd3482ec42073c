"""The fortnightly report's public version: aggregates anyone may read, with small counts hidden.

    <reports>/bao_cao_cong_khai_<yyyy-mm-dd>.xlsx   one sheet, Vietnamese
    <reports>/bao_cao_cong_khai_<yyyy-mm-dd>.csv    the same table (UTF-8 with BOM, for Excel)

Rows: the district, each level, each commune. No row per school: a school's figures are its
own handful of children, and the district's internal report has them. A second sheet (and
`bao_cao_cong_khai_<date>_phan_tich.csv`) has the breakdowns of report.fortnight_breakdown
(cause, grade, when and where to they left, workplace, returns' eligibility), suppressed
together with the first: a total shown in one is the same cell as in the other.

Small-count rule (docs/personal-data.md):
1. primary: every count of children from 1 to 4 is shown as "<5" (0 is shown);
2. secondary: cells that add up to a total form a group: a column's levels with the district
   total, a column's communes with the district total, and in each row the open dropouts with
   their split by when they left, by police verdict and by eligibility, and each breakdown's
   categories with their total (per row, and per category over levels and over communes).
   A group with exactly
   one hidden cell would give it away by subtraction, so the smallest other cell of the group
   (a non-zero one if there is one) is hidden too, shown as "x" (it is not small, and "<5"
   would be false); repeated until no group has exactly one. The attendance rate is hidden
   with the enrolment it is computed on.
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
from openpyxl.worksheet.worksheet import Worksheet

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
    SECONDARY_TEXT,
    SMALL_COUNT_LIMIT,
    SUPPRESSED_TEXT,
    BreakdownTable,
    Metric,
    ReportContent,
    ScopeRow,
    breakdown_tables,
    figure,
    table_metrics,
)
from chuyencan.report.files import dated_stem, save_text, save_workbook
from chuyencan.report.wording import say, words

log = logging.getLogger(__name__)

PUBLIC_STEM = "bao_cao_cong_khai"
_W = words("public")
SHEET: str = _W["sheet"]
BREAKDOWN_SHEET: str = _W["breakdown_sheet"]
TITLE: str = _W["title"]
NOTE = say(
    "public.note", limit_minus_one=SMALL_COUNT_LIMIT - 1, primary=SUPPRESSED_TEXT, secondary=SECONDARY_TEXT
)
# Parts that add up to `dropouts_open` within a row.
ROW_PARTITIONS: tuple[tuple[str, ...], ...] = (
    ("dropouts_summer", "dropouts_hk1", "dropouts_hk2", "dropouts_after_tet"),
    ("left_locality", "in_locality", "unverified"),
    ("eligible_to_continue", "not_eligible"),
)

Cell = tuple[int, str]  # (row index, field or "dimension:category")


def hidden_text(value: int | float | None) -> str:
    """'<5' for a small count (primary), 'x' for a cell hidden to protect one (secondary)."""
    return SUPPRESSED_TEXT if isinstance(value, int) and 0 < value < SMALL_COUNT_LIMIT else SECONDARY_TEXT


@dataclass(frozen=True)
class PublicTable:
    rows: tuple[ScopeRow, ...]  # the unit's own row first, then levels, then communes
    metrics: tuple[Metric, ...]
    breakdowns: tuple[BreakdownTable, ...]
    values: dict[Cell, int | float | None]
    hidden: frozenset[Cell]
    groups: tuple[tuple[Cell, ...], ...]  # each: the total first, then its parts
    scope_labels: dict[str, str]  # scope -> its label, in the unit's words ('Toàn xã')

    def scope_label(self, row: ScopeRow) -> str:
        """'Toàn huyện', 'Cấp học', 'Xã, thị trấn': what kind of row it is."""
        return self.scope_labels.get(row.scope, row.scope)

    def shown(self, row: int, field: str) -> int | float | str | None:
        if (row, field) in self.hidden:
            return hidden_text(self.values[(row, field)])
        if field == "attendance_rate" and (row, "enrolled") in self.hidden:
            return SECONDARY_TEXT
        return self.values[(row, field)]


@dataclass(frozen=True)
class PublicFiles:
    xlsx: Path
    csv: Path
    breakdown_csv: Path


def public_files(out_dir: Path, report_date: date, unit_tag: str = "") -> PublicFiles:
    """Named like the internal report: Bát Xát's without a tag, every other unit's with its code."""
    stem = out_dir / dated_stem(PUBLIC_STEM, report_date, unit_tag)
    return PublicFiles(
        xlsx=stem.with_suffix(".xlsx"),
        csv=stem.with_suffix(".csv"),
        breakdown_csv=stem.with_name(f"{stem.name}_phan_tich.csv"),
    )


def public_table(content: ReportContent) -> PublicTable:
    rows = (content.district, *content.levels, *content.communes)
    metrics = tuple(m for m in table_metrics(content.max_sessions, with_schools=False))
    breakdowns = breakdown_tables(content)
    parts: dict[str, list[tuple[str, ...]]] = {t.total_field: [] for t in breakdowns}
    for t in breakdowns:
        parts[t.total_field].append(tuple(f"{t.dimension}:{c}" for c in t.categories))
    counts = [m.field for m in metrics if m.kind == "count"]
    counts += [f for t in breakdowns for f in (f"{t.dimension}:{c}" for c in t.categories)]
    values: dict[Cell, int | float | None] = {
        (i, f): figure(r.figures, f) for i, r in enumerate(rows) for f in counts
    }
    values |= {(i, m.field): figure(r.figures, m.field) for i, r in enumerate(rows) for m in metrics}
    levels = range(1, 1 + len(content.levels))
    communes = range(1 + len(content.levels), len(rows))
    groups: list[tuple[Cell, ...]] = []
    for field in counts:
        for members in (levels, communes):
            if len(members):
                groups.append(((0, field), *((i, field) for i in members)))
    partitions = (
        *(("dropouts_open", p) for p in ROW_PARTITIONS),
        *((t, p) for t, ps in parts.items() for p in ps),
    )
    for i in range(len(rows)):
        for total, fields_ in partitions:
            groups.append(((i, total), *((i, f) for f in fields_)))
    return PublicTable(
        scope_labels={k: content.say(f"public.scopes.{k}") for k in words("public.scopes")},
        rows=rows,
        metrics=metrics,
        breakdowns=breakdowns,
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
    return row.label


def write_public_report(content: ReportContent, out_dir: Path) -> PublicFiles:
    table = public_table(content)
    files = public_files(out_dir, content.report_date, content.unit.file_tag)
    save_workbook(_workbook(table, content), files.xlsx)
    save_text(_csv(table), files.csv)
    save_text(_breakdown_csv(table), files.breakdown_csv)
    log.info(
        "public report %s written: %d rows, %d cells hidden",
        content.report_date,
        len(table.rows),
        len(table.hidden),
    )
    return files


def _headers(table: PublicTable) -> list[str]:
    return [
        _W["scope"],
        _W["name"],
        *(f"{m.group} - {m.header}" if m.group else m.header for m in table.metrics),
    ]


def _breakdown_rows(table: PublicTable) -> list[list[object]]:
    """Long form: scope, name, what, category, value (shown or hidden), per breakdown cell."""
    out: list[list[object]] = []
    for t in table.breakdowns:
        for i, row in enumerate(table.rows):
            label = (table.scope_label(row), _label(row))
            for field, header in zip(
                (*(f"{t.dimension}:{c}" for c in t.categories), t.total_field), t.headers, strict=True
            ):
                out.append([*label, t.title, header, table.shown(i, field)])
    return out


def _breakdown_csv(table: PublicTable) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_W["scope"], _W["name"], _W["dimension"], _W["category"], ""])
    for r in _breakdown_rows(table):
        writer.writerow([_csv_text(v) for v in r])
    return buffer.getvalue()


def _workbook(table: PublicTable, content: ReportContent) -> Workbook:
    issuer = content.unit.letterhead
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    headers = _headers(table)
    last = len(headers)
    widths(ws, [14, 22, *([12] * len(table.metrics))])
    merge(ws, 1, 1, last, issuer.office_name.upper(), style=font(12, bold=True), align=LEFT)
    merge(ws, 2, 1, last, TITLE, style=font(14, bold=True), height=24)
    day = say(
        "public.day",
        date=f"{content.report_date:%d/%m/%Y}",
        weeks=say("and").join(f"{w:%d/%m/%Y}" for w in content.weeks),
    )
    merge(ws, 3, 1, last, day, style=font(12, italic=True))
    top = 5
    header_row(ws, top, headers, height=62)
    for i, row in enumerate(table.rows):
        r = top + 1 + i
        put(ws, r, 1, table.scope_label(row), align=LEFT, border=True)
        put(ws, r, 2, _label(row), style=font(bold=i == 0), align=LEFT, border=True)
        for col, metric in enumerate(table.metrics, start=3):
            value = table.shown(i, metric.field)
            fmt = RATE_FORMAT if metric.kind == "rate" else COUNT_FORMAT
            put(ws, r, col, value, align=CENTER if isinstance(value, str) else RIGHT, fmt=fmt, border=True)
    note_row = top + len(table.rows) + 2
    note = f"{say('notes_title')} {NOTE}"
    merge(ws, note_row, 1, last, note, style=font(11, italic=True), align=LEFT, height=45)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")
    _breakdown_sheet(wb.create_sheet(BREAKDOWN_SHEET), table, day, note)
    wb.properties.title = say("document_title", title=TITLE, date=f"{content.report_date:%d/%m/%Y}")
    wb.properties.creator = issuer.office_name
    wb.properties.language = "vi-VN"
    return wb


def _breakdown_sheet(ws: Worksheet, table: PublicTable, day: str, note: str) -> None:
    widest = max(len(t.headers) for t in table.breakdowns)
    last = 2 + widest
    widths(ws, [14, 22, *([12] * widest)])
    merge(ws, 1, 1, last, TITLE, style=font(14, bold=True), height=24)
    merge(ws, 2, 1, last, day, style=font(12, italic=True))
    row = 4
    for t in table.breakdowns:
        merge(ws, row, 1, last, t.title, style=font(12, bold=True), align=LEFT)
        header_row(ws, row + 1, [_W["scope"], _W["name"], *t.headers], height=45)
        row += 2
        for i, scope_row in enumerate(table.rows):
            put(ws, row, 1, table.scope_label(scope_row), align=LEFT, border=True)
            put(
                ws,
                row,
                2,
                _label(scope_row),
                style=font(bold=i == 0),
                align=LEFT,
                border=True,
            )
            cells = (*(f"{t.dimension}:{c}" for c in t.categories), t.total_field)
            for col, field in enumerate(cells, start=3):
                value = table.shown(i, field)
                put(
                    ws,
                    row,
                    col,
                    value,
                    align=CENTER if isinstance(value, str) else RIGHT,
                    fmt=COUNT_FORMAT,
                    border=True,
                )
            row += 1
        row += 1
    merge(ws, row, 1, last, note, style=font(11, italic=True), align=LEFT, height=45)
    page_setup(ws, None)


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
                _csv_text(table.scope_label(row)),
                _csv_text(_label(row)),
                *(_csv_text(table.shown(i, m.field)) for m in table.metrics),
            ]
        )
    return buffer.getvalue()
