"""Each commune's verification list: the children whose home is in the commune and who are out
of school or at risk, for the commune's officers to visit (the notice of 26/3/2025, item 4).

Per commune in force on the report date (chuyencan.core.organisation: Bát Xát's communes
before the 2025 reform, the merged communes after it), one restricted workbook (drawn by chuyencan.report.commune_list_workbook)
(`<reports>/restricted/communes/xac_minh_<commune code>_<date>.xlsx`, mode 0600):
- sheet "Danh sách xác minh": every child on a school's latest list of the year with status
  bỏ học, vắng dài ngày or nguy cơ, and every child the early warning flagged, whose home
  commune (as the school wrote it, resolved to the unit in force) is the commune; grouped by
  village (thôn), with school, class, first day missed, the school's reason, the police
  verdict and what is still unknown; then the columns the commune fills in (present / left,
  where to, workplace, cause, date visited, note) with dropdowns, and the hidden case key;
- sheet "Số liệu theo thôn": children per village and status, adding up to the commune's total,
  with a column for the targets the commune sets per village.
The file is handed to `chuyencan.core.delivery.deliver_file` (recipient kind `commune`, key the
commune's code), which copies it into the commune's folder on the share, records the delivery
and tells the commune by email without any personal data. The list's case keys are kept in
`restricted.verification_list_entry` so a returned workbook can be checked against them;
`ops.verification_list` keeps the counts. A rerun of a date replaces both.

Logs carry counts and commune codes only.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, column, delete, insert, select, table

from chuyencan.core import schema as wh
from chuyencan.core.contract import OPEN_STATUSES
from chuyencan.core.organisation import ADMIN_LEVEL, AdminUnit, AmbiguousName, Organisation
from chuyencan.core.reference import Reference
from chuyencan.core.text import fold
from chuyencan.report.calendar_periods import report_year
from chuyencan.report.commune_list_workbook import Case, CommuneList, stable_bytes, village_key, workbook
from chuyencan.report.files import RESTRICTED_MODE, restricted_dir, save_bytes
from chuyencan.report.scratch import load_latest_lists

log = logging.getLogger(__name__)

FILE_PREFIX = "xac_minh"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
_fortnight_list = table(
    "fortnight_list", column("school_code"), column("week_ending"), column("submission_id")
)


def communes_in_force(org: Organisation, on: date) -> list[AdminUnit]:
    """Every commune-level unit in force on the day, by name."""
    units = [u for u in org.admin_units if u.level == ADMIN_LEVEL["xa"] and u.in_force(on)]
    return sorted(units, key=lambda u: (fold(u.name), u.code))


def home_commune(org: Organisation, written: str, on: date) -> AdminUnit | None:
    """The unit in force that a school's 'Xã' means, or None (unknown, or split between several)."""
    try:
        return org.unit_in_force(written, on)
    except AmbiguousName:
        return None


def collect_cases(
    engine: Engine, ref: Reference, org: Organisation, report_date: date
) -> tuple[list[CommuneList], int]:
    """Each commune in force with its children; and how many children have no known commune."""
    se, verdict, risk = wh.restricted_student_entry, wh.case_verdict, wh.student_risk
    with engine.begin() as conn:
        load_latest_lists(conn, ref, report_date, report_year(ref, report_date).start)
        flagged = {
            r.student_key: r.reasons
            for r in conn.execute(
                select(risk.c.student_key, risk.c.reasons).where(risk.c.report_date == report_date)
            )
        }
        rows = conn.execute(
            select(
                se,
                verdict.c.verdict,
                verdict.c.destination.label("police_destination"),
                verdict.c.workplace.label("police_workplace"),
            )
            .select_from(
                se.join(_fortnight_list, _fortnight_list.c.submission_id == se.c.submission_id).outerjoin(
                    verdict, verdict.c.student_key == se.c.student_key
                )
            )
            # A child on two schools' lists once: the latest list, then the first school.
            .order_by(_fortnight_list.c.week_ending.desc(), se.c.school_code, se.c.source_row)
        ).all()
    units = communes_in_force(org, report_date)
    by_code: dict[str, list[Case]] = {u.code: [] for u in units}
    seen: set[str] = set()
    unknown = 0
    for r in rows:
        if r.student_key in seen or not (r.status in OPEN_STATUSES or r.student_key in flagged):
            continue
        if r.status == "da_tro_lai":
            continue  # back at school: the school's list says so, nothing to visit
        seen.add(r.student_key)
        unit = home_commune(org, r.commune, report_date)
        if unit is None or unit.code not in by_code:
            unknown += 1
            continue
        by_code[unit.code].append(
            Case(
                student_key=r.student_key,
                school_code=r.school_code,
                village=(r.village or "").strip(),
                full_name=r.full_name,
                birth_date=r.birth_date,
                sex=r.sex,
                parent_name=r.parent_name,
                class_name=r.class_name,
                grade=r.grade,
                status=r.status,
                first_day_missed=r.first_day_missed,
                reason_code=r.reason_code,
                reason_text=r.reason_text,
                destination=r.destination,
                verdict=r.verdict,
                police_destination=r.police_destination,
                police_workplace=r.police_workplace,
                risk_reasons=flagged.get(r.student_key),
            )
        )
    lists = [
        CommuneList(
            u, tuple(sorted(by_code[u.code], key=lambda c: (village_key(c.village), fold(c.full_name))))
        )
        for u in units
    ]
    return lists, unknown


def recipient_key(ref: Reference, unit: AdminUnit, on: date) -> str:
    """The commune's key as a recipient (folder and contacts): its name as in communes.csv,
    else the name of the unit in force."""
    return ref.resolve_commune(unit.name, on) or unit.name


def list_file_name(commune_code: str, report_date: date) -> str:
    return f"{FILE_PREFIX}_{_UNSAFE_NAME.sub('_', commune_code)}_{report_date.isoformat()}.xlsx"


def lists_dir(out_dir: Path) -> Path:
    folder = restricted_dir(out_dir) / "communes"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def write_commune_lists(
    engine: Engine,
    ref: Reference,
    org: Organisation,
    report_date: date,
    out_dir: Path,
    *,
    now: datetime | None = None,
) -> list[tuple[CommuneList, Path]]:
    """Write every commune's list and record what each carries; returns (list, file) pairs."""
    lists, unknown = collect_cases(engine, ref, org, report_date)
    folder = lists_dir(out_dir)
    school_names = {code: s.name for code, s in ref.schools.items()}
    written = []
    for commune_list in lists:
        path = folder / list_file_name(commune_list.code, report_date)
        save_bytes(
            stable_bytes(workbook(commune_list, report_date, school_names), report_date),
            path,
            mode=RESTRICTED_MODE,
        )
        written.append((commune_list, path))
    for stale in folder.glob(f"{FILE_PREFIX}_*_{report_date.isoformat()}.xlsx"):
        if stale not in {p for _, p in written}:
            stale.unlink()
    _record(engine, ref, report_date, written, now or datetime.now(UTC))
    log.info(
        "commune verification lists for %s: %d communes, %d children, %d with no known home commune",
        report_date,
        len(written),
        sum(len(c.cases) for c, _ in written),
        unknown,
    )
    return written


def _record(
    engine: Engine,
    ref: Reference,
    report_date: date,
    written: Sequence[tuple[CommuneList, Path]],
    now: datetime,
) -> None:
    lst, entry = wh.verification_list, wh.verification_list_entry
    with engine.begin() as conn:
        conn.execute(delete(lst).where(lst.c.report_date == report_date))
        conn.execute(delete(entry).where(entry.c.report_date == report_date))
        conn.execute(
            insert(lst),
            [
                {
                    "report_date": report_date,
                    "commune_code": c.code,
                    "commune": c.commune.label,
                    "recipient_key": recipient_key(ref, c.commune, report_date),
                    "children": len(c.cases),
                    "file_name": path.name,
                    "written_at": now,
                }
                for c, path in written
            ],
        )
        rows = [
            {
                "report_date": report_date,
                "commune_code": c.code,
                "student_key": case.student_key,
                "school_code": case.school_code,
            }
            for c, _ in written
            for case in c.cases
        ]
        if rows:
            conn.execute(insert(entry), rows)
