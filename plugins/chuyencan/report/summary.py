"""`report.fortnight_summary` and `report.fortnight_breakdown` for one report date
(docs/contracts.md#5-warehouse), all scopes at once.

In one transaction that first deletes the report date's rows (a rerun replaces them and a
reader never sees half a report): the students counted are gathered once into a scratch table
(`include/sql/fortnight_students.sql`, with the free texts sorted by `phrase_rules`), then
`fortnight_summary.sql` and `fortnight_breakdown.sql` count them (definitions in their
headers). Early warning must have run for the date first: `at_risk` counts its rows.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from chuyencan.core.reference import Reference
from chuyencan.core.schema import fortnight_breakdown, fortnight_summary
from chuyencan.core.settings import DISTRICT_KEY, Settings
from chuyencan.report.calendar_periods import Fortnight, year_boundaries
from chuyencan.report.dimensions import UNKNOWN_COMMUNE
from chuyencan.report.files import save_text
from chuyencan.report.scratch import (
    classified_texts,
    load_fortnight_students,
    load_latest_lists,
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
    dropouts_open: int  # district scope, for the log
    at_risk: int
    breakdown_rows: int = 0
    # Texts no phrase rule matched, by source ("cause", "school_destination", ...): for the
    # district to extend include/reference/*_phrases.csv; never logged.
    unclassified: dict[str, tuple[str, ...]] | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "report_date": self.report_date.isoformat(),
            "rows": self.rows,
            "lists": self.lists,
            "dropouts_open": self.dropouts_open,
            "at_risk": self.at_risk,
            "breakdown_rows": self.breakdown_rows,
            "unclassified_texts": sum(len(v) for v in (self.unclassified or {}).values()),
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
        "unknown_commune": UNKNOWN_COMMUNE,
    }


def publish_summary(engine: Engine, ref: Reference, settings: Settings, report_date: date) -> SummaryResult:
    """Replace the summary rows of `report_date`, in one transaction."""
    params = summary_parameters(ref, settings, report_date)
    t, b = fortnight_summary, fortnight_breakdown
    with engine.begin() as conn:
        lists = load_latest_lists(conn, ref, report_date, params["year_start"])  # type: ignore[arg-type]
        classes = classified_texts(conn, ref, report_date)
        # The communes' home visits in force on the date override the school's and police's word.
        load_verified(conn, current_findings(conn, ref, report_date, cutoff(settings, report_date)))
        load_fortnight_students(conn, params)
        conn.execute(b.delete().where(b.c.report_date == report_date))
        conn.execute(t.delete().where(t.c.report_date == report_date))
        conn.execute(statement("fortnight_summary.sql"), params)
        conn.execute(statement("fortnight_breakdown.sql"), params)
        rows = conn.execute(select(func.count()).where(t.c.report_date == report_date)).scalar_one()
        breakdown_rows = conn.execute(select(func.count()).where(b.c.report_date == report_date)).scalar_one()
        district = conn.execute(
            select(t.c.dropouts_open, t.c.at_risk).where(
                t.c.report_date == report_date, t.c.scope == "district"
            )
        ).one()
    result = SummaryResult(
        report_date,
        int(rows),
        lists,
        int(district.dropouts_open),
        int(district.at_risk),
        int(breakdown_rows),
        unclassified_texts(classes),
    )
    log.info("fortnight summary: %s", result.as_dict())
    return result


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


def write_unclassified(result: SummaryResult, out_dir: Path) -> Path:
    """The texts no phrase rule matched, for the district to extend the rules: which kind of
    text, the text (long digit runs masked: an ID or a phone number is never copied), and the
    rule file to extend. No school, class or student is named. Rewritten on every run."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(words("unclassified.header"))
    labels = words("unclassified.sources")
    for source, texts in sorted((result.unclassified or {}).items()):
        label, rules = labels[source], _RULE_FILES[source]
        for text in texts:
            writer.writerow([label, _DIGITS.sub("…", text)[:120], rules])
    return save_text(buffer.getvalue(), out_dir / f"{UNCLASSIFIED_STEM}_{result.report_date.isoformat()}.csv")
