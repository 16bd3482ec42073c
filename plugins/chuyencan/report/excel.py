"""The fortnightly report a reporting unit files (Bát Xát's district; after the 2025 reform each
commune and the provincial department): an Excel workbook in the official Vietnamese style, with
the unit's letterhead and area words from the organisation's data (`chuyencan.report.unit`).

Sheets: the summary (header block of an administrative report, the unit's totals by level
beside the previous report's with the change, notes, signature block), for a unit with child
units the roll-up by unit ("Theo đơn vị"), tables by level,
commune and school, the breakdowns by cause, grade, when and where to they left, workplace and
the returns' eligibility, reporting completeness by school, and a chart of attendance and open
dropouts over the school year. Wording: include/templates/report/wording.vi.json. Aggregates only:
no names, no IDs. Text comes from files schools control, so every cell goes through
`safe_cells` (no formula is ever written).

    files = write_report(engine, date(2025, 4, 4), work_dir / "reports", ref)
    files = write_report(engine, date(2025, 10, 3), work_dir / "reports", ref, unit="XA_Y_TY")
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart
from openpyxl.chart import Reference as ChartRef
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RichTextProperties
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine

from chuyencan.core.reference import Reference
from chuyencan.core.settings import DISTRICT_KEY
from chuyencan.core.sheet_style import (
    BORDER,
    CENTER,
    CHANGE_FORMAT,
    CHANGE_RATE_FORMAT,
    COUNT_FORMAT,
    DATE_FORMAT,
    HEADER_FILL,
    LEFT,
    RATE_FORMAT,
    RIGHT,
    TOTAL_FILL,
    fit_rows,
    font,
    header_row,
    merge,
    page_setup,
    put,
    widths,
)
from chuyencan.report import markdown
from chuyencan.report.content import (
    BREAKDOWN_TITLE,
    COMPLETENESS_TITLE,
    DEFAULT_MAX_SESSIONS,
    STATUS_LABELS,
    SUPPRESSED_TEXT,
    TREND_TITLE,
    BreakdownTable,
    Metric,
    ReportContent,
    ScopeTable,
    breakdown_tables,
    change,
    figure,
    hidden,
    load_content,
    official_date,
    scope_tables,
    share,
    status_text,
    summary_lines,
    units_table,
)
from chuyencan.report.files import ReportFiles, report_files, save_text, save_workbook
from chuyencan.report.offices import add_office_sheets, police_notes
from chuyencan.report.unit import ReportUnit
from chuyencan.report.verification_findings import verification_notes
from chuyencan.report.wording import say, words

log = logging.getLogger(__name__)

_SHEETS: dict[str, str] = words("sheets")
SHEET_SUMMARY = _SHEETS["summary"]
SHEET_LEVELS = _SHEETS["levels"]
SHEET_COMMUNES = _SHEETS["communes"]
SHEET_SCHOOLS = _SHEETS["schools"]
SHEET_BREAKDOWNS = _SHEETS["breakdowns"]
SHEET_COMPLETENESS = _SHEETS["completeness"]
SHEET_CHART = _SHEETS["chart"]
SHEET_UNITS: str = say("rollup.sheet")

TITLE: str = say("title")

_STATUS_FILLS = {
    "on_time": PatternFill("solid", fgColor="E2EFDA"),
    "late": PatternFill("solid", fgColor="FFF2CC"),
    "missing": PatternFill("solid", fgColor="F8CBAD"),
    "rejected": PatternFill("solid", fgColor="F4B084"),
}


# --- entry point --------------------------------------------------------------------------------


def write_report(
    engine: Engine,
    report_date: date,
    out_dir: Path,
    ref: Reference,
    *,
    unit: str | ReportUnit = DISTRICT_KEY,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
) -> ReportFiles:
    """Write the .xlsx report and its .md / .html twins of a unit (Bát Xát's district by
    default) for a report date; returns their paths.

    Reads the unit's rows of report.fortnight_summary (all scopes), report.submission_status,
    report.attendance_weekly and, for the chart, counts of open dropouts per week.
    Rerunning replaces the files (each written under a temporary name, then renamed).
    """
    content = load_content(engine, report_date, ref, unit=unit, max_sessions=max_sessions)
    return write_report_files(content, out_dir)


def write_report_files(content: ReportContent, out_dir: Path) -> ReportFiles:
    """The .xlsx report and its twins from content already loaded."""
    report_date = content.report_date
    files = report_files(out_dir, report_date, content.unit.file_tag)
    save_workbook(build_workbook(content), files.xlsx)
    twin = markdown.render_twin(content)
    save_text(twin.markdown, files.markdown)
    save_text(twin.html, files.html)
    log.info(
        "report %s of %s written: %d schools, %d communes, %d chart weeks",
        report_date,
        content.unit.code,
        len(content.schools),
        len(content.communes),
        len(content.trend),
    )
    return files


def build_workbook(content: ReportContent, *, suppress_small: bool = False) -> Workbook:
    """The report as a workbook. `suppress_small` shows student counts of 1-4 as "<5" (public use).
    A unit with child units (the department) gets the roll-up sheet after the summary."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = SHEET_SUMMARY
    _summary_sheet(summary, content, suppress_small)
    rollup = units_table(content)
    if rollup is not None:
        _scope_sheet(wb.create_sheet(SHEET_UNITS), content, rollup, suppress=suppress_small)
    for sheet_name, spec in zip(
        (SHEET_LEVELS, SHEET_COMMUNES, SHEET_SCHOOLS), scope_tables(content), strict=True
    ):
        _scope_sheet(wb.create_sheet(sheet_name), content, spec, suppress=suppress_small)
    _breakdown_sheet(wb.create_sheet(SHEET_BREAKDOWNS), content, suppress=suppress_small)
    _completeness_sheet(wb.create_sheet(SHEET_COMPLETENESS), content)
    _chart_sheet(wb.create_sheet(SHEET_CHART), content)
    add_office_sheets(
        wb,
        content,
        heading=_appendix_heading,
        hide=lambda n: hidden("dropouts_open", n, suppress_small),
        hidden_text=SUPPRESSED_TEXT,
    )
    # Stable document properties: the file says when the data is from, not when it was built.
    wb.properties.title = say("document_title", title=TITLE, date=f"{content.report_date:%d/%m/%Y}")
    wb.properties.creator = content.unit.letterhead.office_name
    wb.properties.language = "vi-VN"
    return wb


# --- shared pieces ------------------------------------------------------------------------------


def _number(
    ws: Worksheet,
    row: int,
    col: int,
    field: str,
    value: int | float | None,
    *,
    kind: str,
    suppress: bool,
    bold: bool = False,
    fill: PatternFill | None = None,
) -> None:
    if hidden(field, value, suppress):
        put(ws, row, col, SUPPRESSED_TEXT, style=font(bold=bold), align=RIGHT, border=True, fill=fill)
        return
    put(
        ws,
        row,
        col,
        value,
        style=font(bold=bold),
        align=RIGHT,
        fmt=RATE_FORMAT if kind == "rate" else COUNT_FORMAT,
        border=True,
        fill=fill,
    )


def _period(content: ReportContent) -> str:
    return say(
        "period",
        start=f"{content.period_start:%d/%m/%Y}",
        end=f"{content.report_date:%d/%m/%Y}",
        weeks=say("and").join(f"{w:%d/%m/%Y}" for w in content.weeks),
    )


def _appendix_heading(ws: Worksheet, content: ReportContent, title: str, last: int) -> int:
    """Title lines of an annexed table; returns the first free row."""
    office = content.unit.letterhead.office_name
    merge(ws, 1, 1, last, f"{office.upper()}", style=font(12, bold=True), align=LEFT)
    merge(ws, 2, 1, last, title, style=font(13, bold=True), height=22)
    merge(
        ws,
        3,
        1,
        last,
        say(
            "attached",
            date=f"{content.report_date:%d/%m/%Y}",
            period=_period(content)[0].lower() + _period(content)[1:],
        ),
        style=font(12, italic=True),
        height=20,
    )
    return 5


# --- sheet 1: summary ---------------------------------------------------------------------------


def _summary_sheet(ws: Worksheet, content: ReportContent, suppress: bool) -> None:
    issuer = content.unit.letterhead
    levels = content.levels
    first_level = 7  # after STT, content, the district, its share, the previous report, the change
    last = first_level - 1 + len(levels)
    widths(ws, [6, 52, 11, 9, 11, 10, *([10] * len(levels))])
    left_last, right_first = 2, 3

    # The header block of an administrative report (Decree 30/2020/NĐ-CP).
    merge(ws, 1, 1, left_last, issuer.parent_agency, style=font(12))
    merge(ws, 1, right_first, last, say("national_name"), style=font(12, bold=True))
    merge(ws, 2, 1, left_last, issuer.office, style=font(12, bold=True, underline="single"))
    merge(ws, 2, right_first, last, say("national_motto"), style=font(13, bold=True, underline="single"))
    merge(ws, 3, 1, left_last, issuer.document_number, style=font(12))
    merge(
        ws,
        3,
        right_first,
        last,
        official_date(issuer.place, content.report_date),
        style=font(12, italic=True),
    )
    ws.row_dimensions[4].height = 10
    merge(ws, 5, 1, last, TITLE, style=font(14, bold=True), height=24)
    year = say("school_year", year=content.school_year) if content.school_year else ""
    merge(
        ws,
        6,
        1,
        last,
        say("report_day", date=f"{content.report_date:%d/%m/%Y}") + (f" – {year}" if year else ""),
        style=font(12, bold=True),
    )
    merge(ws, 7, 1, last, _period(content), style=font(12, italic=True))
    merge(ws, 8, 1, last, say("addressee", addressee=issuer.addressee), style=font(13))
    ws.row_dimensions[9].height = 8

    # The table: district total, its share, then one column per level.
    top = 10
    h = words("summary_headers")
    previous = say("summary_headers.previous", date=f"{content.previous_date:%d/%m/%Y}")
    headers = [
        h["number"],
        h["content"],
        content.total_label,
        h["share"],
        previous,
        h["change"],
        *(say("level_column", level=r.key) for r in levels),
    ]
    header_row(ws, top, headers, size=12, height=30)
    row = top + 1
    for line in summary_lines(content.max_sessions):
        heading = line.kind == "heading"
        bold = heading or line.number.isalpha()
        put(ws, row, 1, line.number, style=font(bold=bold), align=CENTER, border=True)
        text = ("- " if line.indent else "") + line.text
        put(
            ws,
            row,
            2,
            text,
            style=font(bold=bold),
            align=Alignment(horizontal="left", vertical="center", wrap_text=True, indent=2 * line.indent),
            border=True,
        )
        if heading or line.field is None:
            for col in range(3, last + 1):
                put(ws, row, col, None, border=True)
        else:
            kind = "rate" if line.kind == "rate" else "count"
            _number(
                ws,
                row,
                3,
                line.field,
                figure(content.district.figures, line.field),
                kind=kind,
                suppress=suppress,
                bold=True,
            )
            ratio = share(content.district.figures, line)
            hide_ratio = hidden(line.field, figure(content.district.figures, line.field), suppress)
            put(
                ws,
                row,
                4,
                None if hide_ratio else ratio,
                style=font(italic=True),
                align=RIGHT,
                fmt=RATE_FORMAT,
                border=True,
            )
            before, delta = change(content, line)
            _number(ws, row, 5, line.field, before, kind=kind, suppress=suppress)
            if hidden(line.field, before, suppress) or hidden(
                line.field, figure(content.district.figures, line.field), suppress
            ):
                delta = None
            put(
                ws,
                row,
                6,
                delta,
                align=RIGHT,
                fmt=CHANGE_RATE_FORMAT if kind == "rate" else CHANGE_FORMAT,
                border=True,
            )
            for col, level in enumerate(levels, start=first_level):
                _number(
                    ws, row, col, line.field, figure(level.figures, line.field), kind=kind, suppress=suppress
                )
        row += 1
    fit_rows(ws, top + 1, row - 1)
    # Page 1 is the header block and the table; notes and signatures start page 2.
    table_end = row - 1
    ws.row_breaks.append(Break(id=table_end))

    row += 1
    notes = (say("notes_title"), *summary_notes(content))
    for i, note in enumerate(notes):
        merge(ws, row, 1, last, note, style=font(11, italic=i > 0, bold=i == 0), align=LEFT)
        ws.row_dimensions[row].height = 30 if len(note) > 150 else 17
        row += 1

    # Signature block: recipients on the left, the signer on the right.
    row += 1
    sign_first = 3
    merge(ws, row, 1, 2, say("recipients"), style=font(12, bold=True, italic=True), align=LEFT)
    merge(ws, row, sign_first, last, issuer.signer_title, style=font(13, bold=True))
    for i, recipient in enumerate(issuer.recipients, start=1):
        merge(ws, row + i, 1, 2, f"- {recipient}", style=font(11), align=LEFT)
    merge(ws, row + 1, sign_first, last, say("signature_hint"), style=font(11, italic=True))
    # Scaled so the table fits on page 1 whole: no header rows to repeat. Portrait: the table
    # has grown long (causes, workplaces, destinations) rather than wide.
    page_setup(ws, None, first_page_rows=table_end, portrait=True)


# --- sheets 2-4: tables by level, commune, school ------------------------------------------------


def _scope_sheet(ws: Worksheet, content: ReportContent, spec: ScopeTable, *, suppress: bool) -> None:
    keys, rows, metrics = spec.keys, spec.rows, spec.metrics
    first_metric = 2 + len(keys)
    last = first_metric + len(metrics) - 1
    key_widths = _key_widths(content)
    widths(ws, [6, *(key_widths.get(k, 18) for k in keys), *(_metric_width(m) for m in metrics)])
    top = _appendix_heading(ws, content, spec.title.upper(), last)
    _two_row_header(ws, top, ["STT", *keys], metrics, first_metric)
    row = top + 2
    for i, (labels, figures) in enumerate(rows, start=1):
        put(ws, row, 1, i, align=CENTER, border=True)
        for col, text in enumerate(labels, start=2):
            put(ws, row, col, text, align=LEFT, border=True)
        for col, metric in enumerate(metrics, start=first_metric):
            _number(
                ws, row, col, metric.field, figure(figures, metric.field), kind=metric.kind, suppress=suppress
            )
        row += 1
    # The district row is the published total, not a sum: a student from another district or
    # an unresolved commune counts in the total only.
    merge(ws, row, 1, first_metric - 1, content.total_label, style=font(bold=True))
    for col in range(1, first_metric):
        ws.cell(row=row, column=col).border = BORDER
        ws.cell(row=row, column=col).fill = TOTAL_FILL
    for col, metric in enumerate(metrics, start=first_metric):
        value = figure(content.district.figures, metric.field)
        _number(
            ws,
            row,
            col,
            metric.field,
            value,
            kind=metric.kind,
            suppress=suppress,
            bold=True,
            fill=TOTAL_FILL,
        )
    if spec.note:
        merge(
            ws,
            row + 2,
            1,
            last,
            f"{say('notes_title')} {spec.note}",
            style=font(11, italic=True),
            align=LEFT,
            height=45,
        )
    fit_rows(ws, top + 2, row, size=12)
    page_setup(ws, f"{top}:{top + 1}", freeze=f"{get_column_letter(first_metric)}{top + 2}")


def _key_widths(content: ReportContent) -> dict[str, float]:
    return {
        content.say("scope_tables.level_key"): 24,
        content.say("scope_tables.commune_key"): 20,
        content.say("scope_tables.school_code"): 14,
        content.say("scope_tables.school_name"): 38,
        content.say("rollup.unit_key"): 24,
    }


def _metric_width(metric: Metric) -> float:
    return 11 if metric.kind == "rate" else 9.5


def _two_row_header(
    ws: Worksheet, top: int, keys: Sequence[str], metrics: Sequence[Metric], first: int
) -> None:
    """Key columns span both rows; metrics of one group share a merged label on the first."""
    bold = font(11, bold=True)

    def cell(row: int, col: int, text: str | None) -> None:
        put(ws, row, col, text, style=bold, align=CENTER, border=True, fill=HEADER_FILL)

    for col, text in enumerate(keys, start=1):
        cell(top, col, text)
        cell(top + 1, col, None)
        ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
    col = first
    while col < first + len(metrics):
        metric = metrics[col - first]
        if metric.group is None:
            cell(top, col, metric.header)
            cell(top + 1, col, None)
            ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
            col += 1
            continue
        span = list(metrics[col - first :])
        width = next((i for i, m in enumerate(span) if m.group != metric.group), len(span))
        cell(top, col, metric.group)
        for i in range(width):
            if i:
                cell(top, col + i, None)
            cell(top + 1, col + i, metrics[col - first + i].header)
        if width > 1:
            ws.merge_cells(start_row=top, start_column=col, end_row=top, end_column=col + width - 1)
        col += width
    ws.row_dimensions[top].height = 32
    ws.row_dimensions[top + 1].height = 62


# --- sheet 5: breakdowns (cause, grade, when and where to they left, workplace, returns) ---------


def _breakdown_sheet(ws: Worksheet, content: ReportContent, *, suppress: bool) -> None:
    tables = breakdown_tables(content)
    widest = max(len(t.headers) for t in tables)
    last = 2 + widest
    widths(ws, [6, 26, *([13] * widest)])
    top = _appendix_heading(ws, content, BREAKDOWN_TITLE.upper(), last)
    row = top
    for table in tables:
        row = _breakdown_table(ws, row, table, suppress=suppress) + 1
    merge(
        ws,
        row,
        1,
        last,
        f"{say('notes_title')} {say('breakdown_note')}",
        style=font(11, italic=True),
        align=LEFT,
        height=45,
    )
    page_setup(ws, None)


def _breakdown_table(ws: Worksheet, top: int, table: BreakdownTable, *, suppress: bool) -> int:
    """One dimension: a title line, a header, the district, the levels and the communes; returns
    the first row after it."""
    last = 2 + len(table.headers)
    merge(ws, top, 1, last, table.title, style=font(12, bold=True), align=LEFT)
    header_row(
        ws, top + 1, [say("summary_headers.number"), say("breakdown_scope"), *table.headers], height=45
    )
    row = top + 2
    for i, scope_row in enumerate(table.rows, start=1):
        district = scope_row.scope not in ("level", "commune")  # the unit's own row
        fill = TOTAL_FILL if district else None
        put(ws, row, 1, "" if district else i - 1, align=CENTER, border=True, fill=fill)
        put(ws, row, 2, scope_row.label, style=font(bold=district), align=LEFT, border=True, fill=fill)
        for col, value in enumerate(table.values(scope_row), start=3):
            _number(
                ws,
                row,
                col,
                table.dimension,
                value,
                kind="count",
                suppress=suppress,
                bold=district,
                fill=fill,
            )
        row += 1
    return row


def summary_notes(content: ReportContent) -> tuple[str, ...]:
    previous = f"{content.previous_date:%d/%m/%Y}" if content.previous else say("no_previous")
    notes = tuple(n.format(max_sessions=content.max_sessions, previous=previous) for n in words("notes"))
    verified = int(figure(content.district.figures, "local_verification:da_xac_minh") or 0)
    return notes + verification_notes(verified, list(content.overdue_communes)) + police_notes(content)


# --- sheet 6: reporting completeness --------------------------------------------------------------


def _completeness_sheet(ws: Worksheet, content: ReportContent) -> None:
    weeks = content.weeks
    headers = [
        (say("summary_headers.number"), 6),
        (content.say("scope_tables.school_code"), 14),
        (content.say("scope_tables.school_name"), 40),
        (content.say("scope_tables.commune_key"), 18),
        *((say("completeness.week", date=f"{w:%d/%m/%Y}"), 24) for w in weeks),
        *((STATUS_LABELS[s], 10) for s in ("on_time", "late", "missing", "rejected")),
    ]
    last = len(headers)
    widths(ws, [w for _, w in headers])
    top = _appendix_heading(ws, content, COMPLETENESS_TITLE.upper(), last)
    d = content.district.figures
    merge(
        ws,
        top,
        1,
        last,
        say(
            "completeness.line",
            schools=d.schools_expected,
            due=d.submissions_due,
            on_time=d.submissions_on_time,
            late=d.submissions_late,
            missing=d.submissions_missing,
            rejected=d.submissions_rejected,
        ),
        style=font(12),
        align=LEFT,
    )
    top += 2
    header_row(ws, top, [text for text, _ in headers])
    row = top + 1
    for i, school in enumerate(content.completeness, start=1):
        put(ws, row, 1, i, align=CENTER, border=True)
        put(ws, row, 2, school.school_code, align=LEFT, border=True)
        put(ws, row, 3, school.school_name, align=LEFT, border=True)
        put(ws, row, 4, school.commune or "", align=LEFT, border=True)
        for col, week in enumerate(school.weeks, start=5):
            put(
                ws,
                row,
                col,
                status_text(week.status, week.received_at, week.error_count),
                align=LEFT,
                border=True,
                fill=_STATUS_FILLS.get(week.status or ""),
            )
        for col, status in enumerate(("on_time", "late", "missing", "rejected"), start=5 + len(weeks)):
            put(ws, row, col, school.count(status), align=RIGHT, fmt=COUNT_FORMAT, border=True)
        row += 1
    merge(ws, row, 1, 4 + len(weeks), content.say("completeness.total"), style=font(bold=True))
    for col in range(1, 5 + len(weeks)):
        ws.cell(row=row, column=col).border = BORDER
        ws.cell(row=row, column=col).fill = TOTAL_FILL
    totals = (d.submissions_on_time, d.submissions_late, d.submissions_missing, d.submissions_rejected)
    for col, value in enumerate(totals, start=5 + len(weeks)):
        put(
            ws,
            row,
            col,
            value,
            style=font(bold=True),
            align=RIGHT,
            fmt=COUNT_FORMAT,
            border=True,
            fill=TOTAL_FILL,
        )
    fit_rows(ws, top + 1, row)
    page_setup(ws, f"{top}:{top}", freeze=f"E{top + 1}")


# --- sheet 7: the chart over the school year ---------------------------------------------------------


def _chart_sheet(ws: Worksheet, content: ReportContent) -> None:
    widths(ws, [14, 9, 16, 16])
    merge(ws, 1, 1, 12, content.unit.letterhead.office_name.upper(), style=font(12, bold=True), align=LEFT)
    chart = words("chart")
    year = say("chart.year", year=content.school_year) if content.school_year else ""
    merge(
        ws,
        2,
        1,
        12,
        f"{TREND_TITLE.upper()}{year}",
        style=font(13, bold=True),
        height=22,
    )
    merge(
        ws,
        3,
        1,
        12,
        content.say("chart.note"),
        style=font(11, italic=True),
        align=LEFT,
        height=30,
    )
    top = 5
    header_row(
        ws, top, (chart["week_ending"], chart["week"], chart["attendance_rate"], chart["dropouts_open"])
    )
    row = top + 1
    for point in content.trend:
        put(ws, row, 1, point.week_ending, align=CENTER, fmt=DATE_FORMAT, border=True)
        put(ws, row, 2, f"{point.week_ending:%d/%m}", align=CENTER, border=True)
        put(ws, row, 3, point.attendance_rate, align=RIGHT, fmt=RATE_FORMAT, border=True)
        put(ws, row, 4, point.dropouts_open, align=RIGHT, fmt=COUNT_FORMAT, border=True)
        row += 1
    first, end = top + 1, max(top + 1, row - 1)
    ws.add_chart(_chart(ws, first, end, content), f"F{top}")
    page_setup(ws, f"{top}:{top}", freeze=f"A{top + 1}")


def _chart(ws: Worksheet, first: int, end: int, content: ReportContent) -> BarChart:
    """Bars: open dropouts (left axis); line: attendance rate (right axis, percent)."""
    categories = ChartRef(ws, min_col=2, min_row=first, max_row=end)
    bars = BarChart()
    bars.type = "col"
    bars.title = say("chart.title")
    bars.add_data(ChartRef(ws, min_col=4, min_row=first - 1, max_row=end), titles_from_data=True)
    bars.set_categories(categories)
    bars.y_axis.title = say("chart.dropouts_axis")
    bars.y_axis.numFmt = COUNT_FORMAT
    bars.y_axis.majorGridlines = None
    bars.x_axis.delete = False
    # A school year of "dd/mm" labels fits only at a slant (flat, each would wrap in two).
    bars.x_axis.txPr = RichText(
        bodyPr=RichTextProperties(rot=-2700000, vert="horz"),
        p=[
            Paragraph(
                pPr=ParagraphProperties(defRPr=CharacterProperties(sz=800)), endParaRPr=CharacterProperties()
            )
        ],
    )
    bars.y_axis.delete = False
    bars.series[0].graphicalProperties.solidFill = "C55A11"

    line = LineChart()
    line.add_data(ChartRef(ws, min_col=3, min_row=first - 1, max_row=end), titles_from_data=True)
    line.set_categories(categories)
    line.y_axis.axId = 200
    line.y_axis.title = say("chart.attendance_rate")
    line.y_axis.numFmt = "0%"
    line.y_axis.crosses = "max"
    line.y_axis.delete = False
    rates = [p.attendance_rate for p in content.trend if p.attendance_rate is not None]
    if rates:
        # Attendance sits in the 90s: a scale from 0 % would flatten every change into one line.
        line.y_axis.scaling.min = max(0.0, math.floor((min(rates) - 0.02) * 20) / 20)
        line.y_axis.scaling.max = 1.0
    line.series[0].graphicalProperties.line.solidFill = "1F4E79"
    line.series[0].graphicalProperties.line.width = 28575
    line.series[0].smooth = False

    bars += line
    bars.legend.position = "b"
    bars.height = 11
    bars.width = 28
    return bars
