"""Per-school restricted lists for principals: students at risk of dropping out, open dropouts,
long absences and returns (the four parts the notice asks schools to act on).

These files hold children's personal data (names, birth dates, villages, parents): they are
written with mode 0600 into `<out_dir>/restricted/` (mode 0700), never emailed (the fortnightly
step `deliver_principals_lists` copies each into its school's folder on the share, docs/offices.md),
and nothing about a student reaches the logs (counts and school codes only).

One workbook per school with anyone in one of the four parts on its latest list:
- sheet "Nguy cơ bỏ học": restricted.student_risk for the report date, joined by student_key
  to the school's latest list of the school year (restricted.student_entry), with the
  reasons in Vietnamese;
- sheet "Bỏ học": the open dropouts on that list, when they left, sessions missed against
  the eligibility limit (45) and the police verdict when there is one;
- sheet "Vắng dài ngày": the students marked vang_dai_ngay on that list, their cumulative
  sessions and whether early warning flagged them;
- sheet "Đã trở lại": the students marked da_tro_lai on that list, with the sessions missed
  against the eligibility limit (whether they may still move up).
A rerun replaces the files of that report date and removes those of schools no longer listed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine, column, select, table

from chuyencan.core import schema as wh  # the tables
from chuyencan.core.contract import REASON_LABELS, SEX_LABELS, STATUS_LABELS
from chuyencan.core.reference import Reference
from chuyencan.core.schema import case_verdict, student_risk
from chuyencan.core.sheet_style import (
    CENTER,
    DATE_FORMAT,
    LEFT,
    RIGHT,
    confidential_heading,
    fit_rows,
    header_row,
    page_setup,
    put,
    widths,
)
from chuyencan.report.calendar_periods import report_year, year_boundaries
from chuyencan.report.content import (
    DEFAULT_MAX_SESSIONS,
    PERIOD_LABELS,
    PRIMARY_TOP_GRADE,
    REPORT_TEMPLATE_DIR,
)
from chuyencan.report.files import RESTRICTED_MODE, restricted_dir, save_workbook
from chuyencan.report.scratch import load_latest_lists
from chuyencan.report.wording import say, words

log = logging.getLogger(__name__)

FILE_PREFIX = "danh_sach_hoc_sinh"
_W: dict[str, Any] = words("lists")  # include/templates/report/wording.vi.json
SHEET_RISK: str = _W["sheet_risk"]
SHEET_DROPOUTS: str = _W["sheet_dropouts"]
SHEET_ABSENCES: str = _W["sheet_absences"]
SHEET_RETURNS: str = _W["sheet_returns"]
CONFIDENTIAL: str = _W["confidential"]
VERDICT_LABELS: dict[str, str] = _W["verdicts"]
_COLUMNS: dict[str, str] = _W["columns"]
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")

_fortnight_list = table("fortnight_list", column("school_code"), column("submission_id"))


@dataclass
class _School:
    at_risk: list[tuple[Any, Any | None]]  # (risk row, latest list entry or None)
    dropouts: list[Any]
    absences: list[Any] = field(default_factory=list)  # vang_dai_ngay on the latest list
    returns: list[Any] = field(default_factory=list)  # da_tro_lai on the latest list
    flagged: set[tuple[str, str]] = field(default_factory=set)  # (school, student_key) at risk


def write_school_risk_lists(
    engine: Engine,
    report_date: date,
    out_dir: Path,
    ref: Reference,
    *,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
) -> list[Path]:
    """Write one restricted workbook per school with anyone in one of the four parts."""
    schools = _read(engine, ref, report_date)
    folder = restricted_dir(out_dir)
    boundaries = year_boundaries(ref, report_date)
    written = []
    for code in sorted(schools):
        school = ref.school(code)
        name = school.name if school else code
        wb = _workbook(name, report_date, schools[code], boundaries, max_sessions)
        written.append(
            save_workbook(
                wb, folder / list_file_name(code, report_date), mode=RESTRICTED_MODE, stamp=report_date
            )
        )
    _remove_stale(folder, report_date, keep=set(written))
    log.info(
        "restricted lists for %s: %d schools, %d at-risk students, %d open dropouts, "
        "%d long absences, %d returns",
        report_date,
        len(written),
        sum(len(s.at_risk) for s in schools.values()),
        sum(len(s.dropouts) for s in schools.values()),
        sum(len(s.absences) for s in schools.values()),
        sum(len(s.returns) for s in schools.values()),
    )
    return written


def list_file_name(school_code: str, report_date: date) -> str:
    return f"{FILE_PREFIX}_{_UNSAFE_NAME.sub('_', school_code)}_{report_date.isoformat()}.xlsx"


def _remove_stale(folder: Path, report_date: date, keep: set[Path]) -> None:
    for path in folder.glob(f"{FILE_PREFIX}_*_{report_date.isoformat()}.xlsx"):
        if path not in keep:
            path.unlink()


def _read(engine: Engine, ref: Reference, report_date: date) -> dict[str, _School]:
    se, risk, verdict = wh.restricted_student_entry, student_risk, case_verdict
    year_start = report_year(ref, report_date).start
    # The latest list of each school: the same scratch table the summary and early warning use.
    with engine.begin() as conn:
        load_latest_lists(conn, ref, report_date, year_start)
        entries = conn.execute(
            select(se, verdict.c.verdict)
            .select_from(
                se.join(_fortnight_list, _fortnight_list.c.submission_id == se.c.submission_id).outerjoin(
                    verdict, verdict.c.student_key == se.c.student_key
                )
            )
            .order_by(se.c.school_code, se.c.grade, se.c.class_name, se.c.source_row)
        ).all()
        risks = conn.execute(
            select(risk).where(risk.c.report_date == report_date).order_by(risk.c.school_code, risk.c.grade)
        ).all()
    by_key = {(e.school_code, e.student_key): e for e in entries}
    schools: dict[str, _School] = {}
    for r in risks:
        schools.setdefault(r.school_code, _School([], [])).at_risk.append(
            (r, by_key.get((r.school_code, r.student_key)))
        )
    parts = {"bo_hoc": "dropouts", "vang_dai_ngay": "absences", "da_tro_lai": "returns"}
    for e in entries:
        if e.status in parts:
            getattr(schools.setdefault(e.school_code, _School([], [])), parts[e.status]).append(e)
    flagged = {(r.school_code, r.student_key) for r in risks}
    for school in schools.values():
        school.flagged = flagged
    return schools


# --- the workbook -------------------------------------------------------------------------------


def _workbook(
    school_name: str, report_date: date, school: _School, boundaries: Any, max_sessions: int
) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_RISK
    _risk_sheet(ws, school_name, report_date, school.at_risk, max_sessions)
    _dropout_sheet(
        wb.create_sheet(SHEET_DROPOUTS),
        school_name,
        report_date,
        school.dropouts,
        boundaries=boundaries,
        max_sessions=max_sessions,
    )
    _absence_sheet(wb.create_sheet(SHEET_ABSENCES), school_name, report_date, school)
    _return_sheet(wb.create_sheet(SHEET_RETURNS), school_name, report_date, school.returns, max_sessions)
    wb.properties.title = say("lists.document_title", school=school_name, date=f"{report_date:%d/%m/%Y}")
    wb.properties.keywords = "restricted"
    return wb


# The columns that say who the student is, first on both sheets.
_WHO = (
    ("number", 6),
    ("full_name", 26),
    ("birth_date", 12),
    ("sex", 9),
    ("class_name", 8),
    ("commune", 16),
    ("village", 16),
)


def _headers(*columns: tuple[str, float], **values: object) -> list[tuple[str, float]]:
    """(header, width) pairs from the catalogue's column names."""
    return [(_COLUMNS[name].format(**values), width) for name, width in columns]


def _heading(ws: Worksheet, school_name: str, title: str, report_date: date, *, summary: str) -> int:
    confidential_heading(
        ws,
        1,
        holder=school_name.upper(),
        confidential=CONFIDENTIAL,
        title=title,
        as_of=say("lists.as_of", date=f"{report_date:%d/%m/%Y}"),
        summary=summary,
    )
    return 7


def _risk_sheet(
    ws: Worksheet,
    school_name: str,
    report_date: date,
    rows: Sequence[tuple[Any, Any | None]],
    max_sessions: int,
) -> None:
    headers = _headers(
        *_WHO,
        ("parent_name", 22),
        ("sessions_missed", 11),
        ("status", 16),
        ("risk_reasons", 48),
    )
    widths(ws, [w for _, w in headers])
    top = _heading(
        ws,
        school_name,
        _W["risk_title"],
        report_date,
        summary=say("lists.risk_summary", count=len(rows)),
    )
    header_row(ws, top, [h for h, _ in headers])
    row = top + 1
    for i, (risk, entry) in enumerate(rows, start=1):
        values = [
            i,
            entry.full_name if entry else _W["not_on_list"],
            entry.birth_date if entry else None,
            SEX_LABELS.get(entry.sex, entry.sex) if entry else None,
            entry.class_name if entry else str(risk.grade),
            entry.commune if entry else risk.commune,
            entry.village if entry else None,
            entry.parent_name if entry else None,
            risk.sessions_missed,
            STATUS_LABELS.get(entry.status, entry.status) if entry else None,
            "; ".join(reason_labels(risk.reasons.split(","), max_sessions)),
        ]
        _row(ws, row, values, date_cols={3}, number_cols={1, 9})
        row += 1
    fit_rows(ws, top + 1, row - 1)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")


def _dropout_sheet(
    ws: Worksheet,
    school_name: str,
    report_date: date,
    rows: Sequence[Any],
    *,
    boundaries: Any,
    max_sessions: int,
) -> None:
    columns = [
        *_WHO,
        ("first_day_missed", 12),
        ("period", 14),
        ("sessions_missed", 11),
        ("eligibility", 18),
        ("reason", 20),
        ("destination", 24),
        ("verdict", 20),
    ]
    headers = _headers(*columns, max_sessions=max_sessions)
    widths(ws, [w for _, w in headers])
    # Circular 22/2021 Art. 12 applies to lower and upper secondary only.
    primary = sum(e.grade <= PRIMARY_TOP_GRADE for e in rows)
    eligible = sum(e.sessions_missed <= max_sessions and e.grade > PRIMARY_TOP_GRADE for e in rows)
    top = _heading(
        ws,
        school_name,
        _W["dropouts_title"],
        report_date,
        summary=say(
            "lists.dropouts_summary",
            count=len(rows),
            eligible=eligible,
            max_sessions=max_sessions,
            not_eligible=len(rows) - eligible - primary,
        )
        + (say("lists.dropouts_primary", primary=primary) if primary else "")
        + ".",
    )
    header_row(ws, top, [h for h, _ in headers])
    row = top + 1
    for i, e in enumerate(rows, start=1):
        period = boundaries.period_of(e.first_day_missed) if e.first_day_missed else None
        values = [
            i,
            e.full_name,
            e.birth_date,
            SEX_LABELS.get(e.sex, e.sex),
            e.class_name,
            e.commune,
            e.village,
            e.first_day_missed,
            PERIOD_LABELS.get(period or "", "—"),
            e.sessions_missed,
            _W["not_applicable"]
            if e.grade <= PRIMARY_TOP_GRADE
            else _W["eligible"]
            if e.sessions_missed <= max_sessions
            else _W["not_eligible"],
            REASON_LABELS.get(e.reason_code or "", "")
            if e.reason_code != "khac"
            else (e.reason_text or _W["other_reason"]),
            e.destination,
            VERDICT_LABELS.get(e.verdict, _W["unverified"]) if e.verdict else _W["unverified"],
        ]
        _row(ws, row, values, date_cols={3, 8}, number_cols={1, 10})
        row += 1
    fit_rows(ws, top + 1, row - 1)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")


def _row(
    ws: Worksheet, row: int, values: Sequence[Any], *, date_cols: set[int], number_cols: set[int]
) -> None:
    for col, value in enumerate(values, start=1):
        if col in date_cols:
            put(ws, row, col, value, align=CENTER, fmt=DATE_FORMAT, border=True)
        elif col in number_cols:
            put(ws, row, col, value, align=RIGHT, border=True)
        else:
            put(ws, row, col, value, align=LEFT, border=True)


def _eligibility(e: Any, max_sessions: int) -> str:
    if e.grade <= PRIMARY_TOP_GRADE:
        return str(_W["not_applicable"])
    return str(_W["eligible"] if (e.sessions_missed or 0) <= max_sessions else _W["not_eligible"])


def _absence_sheet(ws: Worksheet, school_name: str, report_date: date, school: _School) -> None:
    headers = _headers(*_WHO, ("parent_name", 22), ("sessions_missed", 11), ("at_risk", 16))
    widths(ws, [w for _, w in headers])
    rows = school.absences
    top = _heading(
        ws,
        school_name,
        _W["absences_title"],
        report_date,
        summary=say("lists.absences_summary", count=len(rows)),
    )
    header_row(ws, top, [h for h, _ in headers])
    _pupil_rows(
        ws,
        top,
        rows,
        lambda e: _W["columns"]["at_risk"] if (e.school_code, e.student_key) in school.flagged else "",
    )


def _return_sheet(
    ws: Worksheet, school_name: str, report_date: date, rows: Sequence[Any], max_sessions: int
) -> None:
    headers = _headers(
        *_WHO, ("parent_name", 22), ("sessions_missed", 11), ("eligibility", 18), max_sessions=max_sessions
    )
    widths(ws, [w for _, w in headers])
    secondary = [e for e in rows if e.grade > PRIMARY_TOP_GRADE]
    eligible = sum((e.sessions_missed or 0) <= max_sessions for e in secondary)
    top = _heading(
        ws,
        school_name,
        _W["returns_title"],
        report_date,
        summary=say(
            "lists.returns_summary",
            count=len(rows),
            eligible=eligible,
            not_eligible=len(secondary) - eligible,
            max_sessions=max_sessions,
        ),
    )
    header_row(ws, top, [h for h, _ in headers])
    _pupil_rows(ws, top, rows, lambda e: _eligibility(e, max_sessions))


def _pupil_rows(ws: Worksheet, top: int, rows: Sequence[Any], last: Callable[[Any], object]) -> None:
    """One row per pupil under the header at ``top``: who, parent, sessions missed, then ``last``."""
    row = top + 1
    for i, e in enumerate(rows, start=1):
        values = [
            i,
            e.full_name,
            e.birth_date,
            SEX_LABELS.get(e.sex, e.sex),
            e.class_name,
            e.commune,
            e.village,
            e.parent_name,
            e.sessions_missed,
            last(e),
        ]
        _row(ws, row, values, date_cols={3}, number_cols={1, 9})
        row += 1
    fit_rows(ws, top + 1, row - 1)
    page_setup(ws, f"{top}:{top}", freeze=f"C{top + 1}")


# --- reasons ------------------------------------------------------------------------------------


@cache
def _reason_texts() -> dict[str, str]:
    data = json.loads((REPORT_TEMPLATE_DIR / "risk_reasons.vi.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def reason_labels(rule_ids: Iterable[str], max_sessions: int = DEFAULT_MAX_SESSIONS) -> list[str]:
    """Vietnamese reasons for rule ids; an unknown id is shown as it is (and logged)."""
    texts = _reason_texts()
    out = []
    for rule in (r.strip() for r in rule_ids):
        if not rule:
            continue
        if rule not in texts:
            log.warning("no Vietnamese text for risk rule %r", rule)
        out.append(texts.get(rule, rule).format(max_sessions=max_sessions))
    return out
