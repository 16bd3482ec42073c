"""`report.fortnight_summary` for one report date (docs/contracts.md#5-warehouse), all scopes at once.

The numbers come from one SQL statement (`include/sql/fortnight_summary.sql`, definitions in
its header) run in the transaction that first deletes the report date's rows, so a rerun
replaces them and a reader never sees half a report. Early warning must have run for the
date first: `at_risk` counts its rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func, select

from chuyencan.core.reference import Reference
from chuyencan.core.schema import fortnight_summary
from chuyencan.core.settings import DISTRICT_KEY, Settings
from chuyencan.report.calendar_periods import Fortnight, year_boundaries
from chuyencan.report.scratch import load_latest_lists, statement

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SummaryResult:
    report_date: date
    rows: int
    lists: int  # schools whose latest list was read
    dropouts_open: int  # district scope, for the log
    at_risk: int

    def as_dict(self) -> dict[str, object]:
        return {
            "report_date": self.report_date.isoformat(),
            "rows": self.rows,
            "lists": self.lists,
            "dropouts_open": self.dropouts_open,
            "at_risk": self.at_risk,
        }


def summary_parameters(ref: Reference, settings: Settings, report_date: date) -> dict[str, object]:
    fortnight = Fortnight(report_date)
    bounds = year_boundaries(ref, report_date)
    week_1, week_2 = fortnight.weeks
    return {
        "report_date": report_date,
        "week_1": week_1,
        "week_2": week_2,
        "first_day": fortnight.first_day,
        "year_start": bounds.start,
        "semester_2_start": bounds.semester_2_start,
        "tet_start": bounds.tet_start,
        "max_sessions": settings.eligibility_max_sessions,
        "district_key": DISTRICT_KEY,
    }


def publish_summary(engine: Engine, ref: Reference, settings: Settings, report_date: date) -> SummaryResult:
    """Replace the summary rows of `report_date`, in one transaction."""
    params = summary_parameters(ref, settings, report_date)
    t = fortnight_summary
    with engine.begin() as conn:
        lists = load_latest_lists(conn, ref, report_date, params["year_start"])  # type: ignore[arg-type]
        conn.execute(t.delete().where(t.c.report_date == report_date))
        conn.execute(statement("fortnight_summary.sql"), params)
        rows = conn.execute(select(func.count()).where(t.c.report_date == report_date)).scalar_one()
        district = conn.execute(
            select(t.c.dropouts_open, t.c.at_risk).where(
                t.c.report_date == report_date, t.c.scope == "district"
            )
        ).one()
    result = SummaryResult(report_date, int(rows), lists, int(district.dropouts_open), int(district.at_risk))
    log.info("fortnight summary: %s", result.as_dict())
    return result
