"""The report's sections for the offices the notice names besides the education office
(issue 13): the commune police's extracts by round, and the Home Affairs office's count of
pupils working in karaoke bars, restaurants and guesthouses. Aggregates and commune names only.

- Police: `report.police_round_arrival` (written by the police flow's round check) as of the
  report date: an extract that came after the report date is still "missing" in that report,
  so a rerun of an old date says what was known then. A sheet lists every commune of every
  round opened by the report date; the summary's notes name the communes still missing (and
  those late) of rounds already due.
- Home Affairs: `report.fortnight_breakdown` of the commune scope, dimension `workplace_kind`,
  categories karaoke / nha_hang / nha_nghi (docs/report-figures.md): open dropouts by the
  workplace the police recorded when they found the child gone, else the school's nơi đến; by
  the child's home commune. The sheet's rows add up to its total row (the district's figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Connection, select

from chuyencan.core.schema import police_round_arrival
from chuyencan.core.settings import TIMEZONE
from chuyencan.core.sheet_style import (
    CENTER,
    COUNT_FORMAT,
    DATE_FORMAT,
    LEFT,
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
from chuyencan.report.wording import words

if TYPE_CHECKING:
    from chuyencan.report.content import ReportContent

# The Home Affairs office's kinds of local establishment (notice, item 4: karaoke, restaurants;
# guesthouses are the same trade), as report.fortnight_breakdown's workplace_kind codes.
HOME_AFFAIRS_WORKPLACES = ("karaoke", "nha_hang", "nha_nghi")
_W: dict[str, Any] = words("offices")
SHEET_POLICE: str = _W["sheet_police"]
SHEET_HOME_AFFAIRS: str = _W["sheet_home_affairs"]


@dataclass(frozen=True)
class RoundArrival:
    """One commune of one police round, as of the report date."""

    reporting_unit: str
    round: str
    commune: str
    opens_on: date
    due_on: date
    status: str  # on_time / late / missing / pending, as of the report date
    arrived_on: date | None
    named_on: date | None


def _local_day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=TIMEZONE)).astimezone(TIMEZONE).date()


def load_round_arrivals(conn: Connection, report_date: date, unit: str) -> tuple[RoundArrival, ...]:
    """Every commune of every round the unit set that opened by the report date, its status as
    of that day."""
    t = police_round_arrival
    rows = conn.execute(
        select(t)
        .where(t.c.opens_on <= report_date, t.c.reporting_unit == unit)
        .order_by(t.c.due_on, t.c.round, t.c.commune)
    ).all()
    out = []
    for r in rows:
        arrived = _local_day(r.arrived_at)
        named = _local_day(r.named_at)
        if arrived is not None and arrived <= report_date:
            status = "on_time" if arrived <= r.due_on else "late"
        else:
            arrived = None
            status = "missing" if report_date > r.due_on else "pending"
        out.append(
            RoundArrival(
                r.reporting_unit,
                r.round,
                r.commune,
                r.opens_on,
                r.due_on,
                status,
                arrived,
                named if named is not None and named <= report_date else None,
            )
        )
    return tuple(out)


def police_notes(content: ReportContent) -> tuple[str, ...]:
    """Lines for the summary's notes: per round already due, the communes missing, then late."""
    lines = []
    rounds: dict[tuple[str, date], list[RoundArrival]] = {}
    for a in content.police_rounds:
        rounds.setdefault((a.round, a.due_on), []).append(a)
    for (name, due), arrivals in rounds.items():
        for status, key in (("missing", "police_note"), ("late", "police_note_late")):
            communes = [a.commune for a in arrivals if a.status == status]
            if communes:
                lines.append(_W[key].format(round=name, due=f"{due:%d/%m/%Y}", communes=", ".join(communes)))
    return tuple(lines)


def home_affairs_rows(content: ReportContent) -> list[tuple[str, dict[str, int]]]:
    """(commune label, {workplace kind: pupils}) for every commune row of the report."""
    return [
        (row.label, {k: row.figures.count("workplace_kind", k) for k in HOME_AFFAIRS_WORKPLACES})
        for row in content.communes
    ]


Heading = Callable[["Worksheet", "ReportContent", str, int], int]


def add_office_sheets(
    wb: Workbook,
    content: ReportContent,
    *,
    heading: Heading,
    hide: Callable[[int], bool],
    hidden_text: str,
) -> None:
    """The Home Affairs and police sheets, after the report's own. `hide(n)`: whether a count is
    shown as `hidden_text` (the public version's small counts)."""
    _home_affairs_sheet(
        wb.create_sheet(SHEET_HOME_AFFAIRS), content, heading, hide=hide, hidden_text=hidden_text
    )
    _police_sheet(wb.create_sheet(SHEET_POLICE), content, heading)


def _home_affairs_sheet(
    ws: Worksheet,
    content: ReportContent,
    heading: Heading,
    *,
    hide: Callable[[int], bool],
    hidden_text: str,
) -> None:
    labels = words("breakdowns.workplace_kind.categories")
    h = _W["home_affairs_headers"]
    headers = [h["number"], h["commune"], *(labels[k] for k in HOME_AFFAIRS_WORKPLACES), h["total"]]
    last = len(headers)
    widths(ws, [6, 24, *([16] * len(HOME_AFFAIRS_WORKPLACES)), 10])
    top = heading(ws, content, _W["home_affairs_title"].upper(), last)
    merge(ws, top, 1, last, _W["home_affairs_line"], style=font(11, italic=True), align=LEFT, height=48)
    top += 2
    header_row(ws, top, headers, height=30)
    row = top + 1

    def numbers(r: int, counts: dict[str, int], *, bold: bool = False, fill: Any = None) -> None:
        values = [*(counts[k] for k in HOME_AFFAIRS_WORKPLACES), sum(counts.values())]
        for col, n in enumerate(values, start=3):
            shown: Any = hidden_text if hide(n) else n
            put(
                ws,
                r,
                col,
                shown,
                style=font(bold=bold),
                align=RIGHT,
                fmt=COUNT_FORMAT,
                border=True,
                fill=fill,
            )

    for i, (label, counts) in enumerate(home_affairs_rows(content), start=1):
        put(ws, row, 1, i, align=CENTER, border=True)
        put(ws, row, 2, label, align=LEFT, border=True)
        numbers(row, counts)
        row += 1
    district = {k: content.district.figures.count("workplace_kind", k) for k in HOME_AFFAIRS_WORKPLACES}
    put(ws, row, 1, None, border=True, fill=TOTAL_FILL)
    put(ws, row, 2, content.district.label, style=font(bold=True), align=LEFT, border=True, fill=TOTAL_FILL)
    numbers(row, district, bold=True, fill=TOTAL_FILL)
    if not sum(district.values()):
        merge(ws, row + 2, 1, last, _W["home_affairs_none"], style=font(11, italic=True), align=LEFT)
    fit_rows(ws, top + 1, row)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")


def _police_sheet(ws: Worksheet, content: ReportContent, heading: Heading) -> None:
    h = _W["police_headers"]
    keys = ("number", "commune", "round", "due_on", "status", "arrived_on", "named_on")
    last = len(keys)
    widths(ws, [6, 24, 18, 12, 16, 12, 18])
    top = heading(ws, content, _W["police_title"].upper(), last)
    merge(ws, top, 1, last, _W["police_line"], style=font(11, italic=True), align=LEFT, height=34)
    top += 2
    header_row(ws, top, [h[k] for k in keys], height=30)
    row = top + 1
    statuses = _W["police_status"]
    for i, a in enumerate(content.police_rounds, start=1):
        put(ws, row, 1, i, align=CENTER, border=True)
        put(ws, row, 2, a.commune, align=LEFT, border=True)
        put(ws, row, 3, a.round, align=LEFT, border=True)
        put(ws, row, 4, a.due_on, align=CENTER, fmt=DATE_FORMAT, border=True)
        bold = a.status in ("missing", "late")
        put(ws, row, 5, statuses[a.status], style=font(bold=bold), align=LEFT, border=True)
        put(ws, row, 6, a.arrived_on, align=CENTER, fmt=DATE_FORMAT, border=True)
        put(ws, row, 7, a.named_on, align=CENTER, fmt=DATE_FORMAT, border=True)
        row += 1
    if not content.police_rounds:
        merge(ws, row, 1, last, _W["police_none"], style=font(11, italic=True), align=LEFT)
    fit_rows(ws, top + 1, max(row - 1, top + 1))
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")
