"""The Home Affairs office's restricted list: the pupils counted in the report's karaoke /
restaurant / guesthouse figures, by home commune (notice, item 4: the office has the communes
verify pupils working in karaoke bars and restaurants in the area).

The children are exactly those the report counts in `report.fortnight_breakdown` (commune scope,
`workplace_kind` karaoke, nha_hang, nha_nghi): the same scratch table, built by the same SQL in
one transaction (`include/sql/fortnight_students.sql`), joined back to their rows of the
schools' latest lists. One workbook per report date, written with mode 0600 into
`<out_dir>/restricted/`; it is delivered to the office through the delivery module (a copy in
the office's folder, a notice by email without personal data). Logs carry counts only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Engine, bindparam, text

from chuyencan.core.contract import SEX_LABELS
from chuyencan.core.organisation import Organisation
from chuyencan.core.reference import Reference
from chuyencan.core.settings import Settings
from chuyencan.core.sheet_style import (
    CENTER,
    DATE_FORMAT,
    LEFT,
    OVERFLOW,
    RIGHT,
    fit_rows,
    font,
    header_row,
    page_setup,
    put,
    widths,
)
from chuyencan.report.files import RESTRICTED_MODE, restricted_dir, save_workbook
from chuyencan.report.offices import HOME_AFFAIRS_WORKPLACES
from chuyencan.report.summary import load_unit_students
from chuyencan.report.wording import say, words

log = logging.getLogger(__name__)

FILE_PREFIX = "hoc_sinh_di_lam_noi_vu"
DOCUMENT_KIND = "home_affairs_list"
_W: dict[str, Any] = words("offices")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")

_PUPILS = text(
    """
    SELECT fs.commune, fs.workplace, fs.verdict, e.school_code, e.full_name, e.birth_date, e.sex,
        e.class_name, e.village, e.parent_name, e.first_day_missed, e.destination,
        v.workplace AS police_workplace
    FROM fortnight_student fs
    JOIN fortnight_list l ON l.school_code = fs.school_code
    JOIN restricted.student_entry e
        ON e.submission_id = l.submission_id AND e.student_key = fs.student_key AND e.status = 'bo_hoc'
    LEFT JOIN restricted.case_verdict v ON v.student_key = fs.student_key
    WHERE fs.counted_as = 'listed' AND fs.status = 'bo_hoc' AND fs.in_unit = 1
        AND fs.workplace IN :kinds
    ORDER BY fs.commune, fs.workplace, e.school_code, e.class_name, e.source_row
    """
).bindparams(bindparam("kinds", value=list(HOME_AFFAIRS_WORKPLACES), expanding=True))


@dataclass(frozen=True)
class HomeAffairsList:
    path: Path
    pupils: int
    communes: int


def list_file_name(office: str, report_date: date) -> str:
    return f"{FILE_PREFIX}_{_UNSAFE_NAME.sub('_', office)}_{report_date.isoformat()}.xlsx"


def write_home_affairs_list(
    engine: Engine,
    ref: Reference,
    org: Organisation,
    settings: Settings,
    report_date: date,
    *,
    out_dir: Path,
    office: str,
) -> HomeAffairsList:
    """Write the office's list for the report date (replacing an earlier run's): the pupils the
    reports of the units without parent count (the whole district, or the whole province)."""
    pupils: list[Any] = []
    with engine.begin() as conn:
        for unit in org.reporting_units_in_force(report_date):
            if unit.parent is None:
                load_unit_students(conn, ref, org, settings, report_date, unit=unit)
                pupils.extend(conn.execute(_PUPILS).all())
    path = restricted_dir(out_dir) / list_file_name(office, report_date)
    save_workbook(_workbook(ref, office, report_date, pupils), path, mode=RESTRICTED_MODE, stamp=report_date)
    communes = len({p.commune for p in pupils})
    log.info("home affairs list for %s: %d pupils in %d communes", report_date, len(pupils), communes)
    return HomeAffairsList(path, len(pupils), communes)


_COLUMNS = (
    ("number", 6),
    ("commune", 16),
    ("full_name", 24),
    ("birth_date", 12),
    ("sex", 8),
    ("school", 28),
    ("class_name", 8),
    ("village", 14),
    ("parent_name", 20),
    ("first_day_missed", 12),
    ("workplace_kind", 18),
    ("workplace", 30),
    ("verdict", 20),
)


def _workbook(ref: Reference, office: str, report_date: date, pupils: Sequence[Any]) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _W["restricted_sheet"]
    columns = _W["restricted_columns"]
    kinds = words("breakdowns.workplace_kind.categories")
    verdicts = words("lists.verdicts")
    widths(ws, [w for _, w in _COLUMNS])
    put(ws, 1, 1, _W["restricted_confidential"], style=font(11, bold=True, color="C00000"), align=OVERFLOW)
    put(ws, 2, 1, _W["restricted_title"].upper(), style=font(14, bold=True), align=OVERFLOW)
    put(
        ws,
        3,
        1,
        say("lists.as_of", date=f"{report_date:%d/%m/%Y}"),
        style=font(12, italic=True),
        align=OVERFLOW,
    )
    summary = _W["restricted_summary"].format(count=len(pupils), communes=len({p.commune for p in pupils}))
    put(ws, 4, 1, summary, style=font(12), align=OVERFLOW)
    top = 6
    header_row(ws, top, [columns[name] for name, _ in _COLUMNS])
    row = top + 1
    for i, p in enumerate(pupils, start=1):
        school = ref.school(p.school_code)
        police = p.verdict == "left_locality" and p.police_workplace
        values = [
            i,
            p.commune,
            p.full_name,
            p.birth_date,
            SEX_LABELS.get(p.sex, p.sex),
            school.name if school else p.school_code,
            p.class_name,
            p.village,
            p.parent_name,
            p.first_day_missed,
            kinds.get(p.workplace, p.workplace),
            p.police_workplace if police else p.destination,
            verdicts.get(p.verdict, words("lists.unverified")) if p.verdict else words("lists.unverified"),
        ]
        for col, value in enumerate(values, start=1):
            if col in (4, 10):
                put(ws, row, col, value, align=CENTER, fmt=DATE_FORMAT, border=True)
            elif col == 1:
                put(ws, row, col, value, align=RIGHT, border=True)
            else:
                put(ws, row, col, value, align=LEFT, border=True)
        row += 1
    fit_rows(ws, top + 1, max(row - 1, top + 1))
    page_setup(ws, f"{top}:{top}", freeze=f"D{top + 1}")
    wb.properties.title = _W["restricted_document_title"].format(
        office=office, date=f"{report_date:%d/%m/%Y}"
    )
    wb.properties.keywords = "restricted"
    return wb
