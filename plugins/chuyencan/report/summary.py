"""`report.fortnight_summary` and `report.fortnight_breakdown` of one reporting unit for one
report date (docs/contracts.md#5-warehouse, docs/organisation.md#the-report-of-a-unit), all scopes at once.

In one transaction that first deletes the unit's rows of the date (a rerun replaces them and a
reader never sees half a report): the unit's schools and communes go into scratch tables
(`scratch.load_unit_scope`), the students it counts are gathered once into another
(`include/sql/fortnight_students.sql`, with the free texts sorted by `phrase_rules`), then
`fortnight_summary.sql` and `fortnight_breakdown.sql` count them (definitions in their
headers). Each unit's report is computed from the facts, never from other units' rows, so
units can be computed in any order or at once. Early warning must have run for the date
first: `at_risk` counts its rows.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select

from chuyencan.core import warehouse as wh
from chuyencan.core.organisation import Organisation, ReportingUnit, UnknownUnit
from chuyencan.core.reference import Reference
from chuyencan.core.schema import fortnight_breakdown, fortnight_summary
from chuyencan.core.settings import Settings
from chuyencan.report.calendar_periods import Fortnight, year_boundaries
from chuyencan.report.dimensions import UNKNOWN_COMMUNE
from chuyencan.report.files import save_text
from chuyencan.report.scratch import (
    classified_texts,
    load_fortnight_students,
    load_latest_lists,
    load_unit_scope,
    load_verified,
    statement,
)
from chuyencan.report.verification_findings import current_findings, cutoff
from chuyencan.report.wording import words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SummaryResult:
    report_date: date
    rows: int
    lists: int  # schools whose latest list was read
    dropouts_open: int  # the unit's own row, for the log
    at_risk: int
    breakdown_rows: int = 0
    unit: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "report_date": self.report_date.isoformat(),
            "unit": self.unit,
            "rows": self.rows,
            "lists": self.lists,
            "dropouts_open": self.dropouts_open,
            "at_risk": self.at_risk,
            "breakdown_rows": self.breakdown_rows,
        }


def summary_parameters(
    ref: Reference, settings: Settings, report_date: date, unit: ReportingUnit
) -> dict[str, object]:
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
        "unknown_commune": UNKNOWN_COMMUNE,
        "reporting_unit": unit.code,
        "top_scope": unit.top_scope,
    }


def load_unit_students(
    conn: Connection,
    ref: Reference,
    org: Organisation,
    settings: Settings,
    report_date: date,
    *,
    unit: ReportingUnit,
) -> tuple[dict[str, object], int]:
    """Fill the scratch table fortnight_student with the students `unit`'s report counts (in
    this transaction); returns the SQL parameters of the unit's report and the lists' count."""
    params = summary_parameters(ref, settings, report_date, unit)
    lists = load_latest_lists(conn, ref, report_date, params["year_start"], org)  # type: ignore[arg-type]
    classified_texts(conn, ref, report_date)
    load_unit_scope(conn, org, unit, report_date, UNKNOWN_COMMUNE)
    # The communes' home visits in force on the date override the school's and police's word.
    load_verified(conn, current_findings(conn, ref, report_date, cutoff(settings, report_date)))
    load_fortnight_students(conn, params)
    return params, lists


def publish_summary(
    engine: Engine, ref: Reference, org: Organisation, settings: Settings, report_date: date, *, unit: str
) -> SummaryResult:
    """Replace the summary rows of `unit`'s report of `report_date`, in one transaction."""
    reporting_unit = org.reporting_unit(unit, report_date)
    if reporting_unit is None:
        raise UnknownUnit(f"no reporting unit {unit!r} in force on {report_date}")
    t, b = fortnight_summary, fortnight_breakdown
    mine_t = (t.c.report_date == report_date) & (t.c.reporting_unit == unit)
    mine_b = (b.c.report_date == report_date) & (b.c.reporting_unit == unit)
    with engine.begin() as conn:
        # Two runs of the same unit and date take turns (PostgreSQL); other units go on.
        wh.serialise(conn, f"fortnight_summary|{report_date.isoformat()}|{unit}")
        params, lists = load_unit_students(conn, ref, org, settings, report_date, unit=reporting_unit)
        conn.execute(b.delete().where(mine_b))
        conn.execute(t.delete().where(mine_t))
        conn.execute(statement("fortnight_summary.sql"), params)
        conn.execute(statement("fortnight_breakdown.sql"), params)
        rows = conn.execute(select(func.count()).where(mine_t)).scalar_one()
        breakdown_rows = conn.execute(select(func.count()).where(mine_b)).scalar_one()
        top = conn.execute(
            select(t.c.dropouts_open, t.c.at_risk).where(mine_t, t.c.scope == reporting_unit.top_scope)
        ).one()
    result = SummaryResult(
        report_date,
        int(rows),
        lists,
        int(top.dropouts_open),
        int(top.at_risk),
        int(breakdown_rows),
        unit,
    )
    log.info("fortnight summary: %s", result.as_dict())
    return result


def find_unclassified(
    engine: Engine, ref: Reference, org: Organisation, report_date: date
) -> dict[str, tuple[str, ...]]:
    """The texts on the latest lists of the date that no phrase rule matched, by source
    ("cause", "school_destination", ...): for the district to extend
    include/reference/*_phrases.csv; never logged. The same for every unit's report."""
    with engine.begin() as conn:
        load_latest_lists(conn, ref, report_date, year_boundaries(ref, report_date).start, org)
        return unclassified_texts(classified_texts(conn, ref, report_date))


def unclassified_texts(classes: dict[str, dict[str, str]]) -> dict[str, tuple[str, ...]]:
    """The texts of each source that no phrase rule matched (they fell to the fallback)."""
    from chuyencan.report.phrase_rules import cause_rules, place_rules

    rules = {
        "cause": cause_rules(),
        "school_destination": place_rules("destination"),
        "police_destination": place_rules("destination"),
        "school_workplace": place_rules("workplace_kind"),
        "police_workplace": place_rules("workplace_kind"),
    }
    out = {}
    for source, texts in classes.items():
        matcher = rules[source]
        missed = sorted(
            t for t, c in texts.items() if c == matcher.fallback and matcher.match(t).rule is None
        )
        if missed:
            out[source] = tuple(missed)
    return out


UNCLASSIFIED_STEM = "cum_tu_chua_phan_loai"
# Which rule file a text of each kind extends (the kinds' Vietnamese names are in the wording).
_RULE_FILES = {
    "cause": "include/reference/cause_phrases.csv",
    "school_destination": "include/reference/place_phrases.csv, destination",
    "school_workplace": "include/reference/place_phrases.csv, workplace_kind",
    "police_destination": "include/reference/place_phrases.csv, destination",
    "police_workplace": "include/reference/place_phrases.csv, workplace_kind",
}
_DIGITS = re.compile(r"\d{4,}")


def write_unclassified(report_date: date, unclassified: dict[str, tuple[str, ...]], out_dir: Path) -> Path:
    """The texts no phrase rule matched, for the district to extend the rules: which kind of
    text, the text (long digit runs masked: an ID or a phone number is never copied), and the
    rule file to extend. No school, class or student is named. Rewritten on every run."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(words("unclassified.header"))
    labels = words("unclassified.sources")
    for source, texts in sorted(unclassified.items()):
        label, rules = labels[source], _RULE_FILES[source]
        for text in texts:
            writer.writerow([label, _DIGITS.sub("…", text)[:120], rules])
    return save_text(buffer.getvalue(), out_dir / f"{UNCLASSIFIED_STEM}_{report_date.isoformat()}.csv")
