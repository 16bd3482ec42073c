"""What the communes' returns mean for a report: the findings in force, and who has not answered.

- `current_findings`: per child, the finding of the latest accepted return (by the file's time,
  then its id) received before the report's time on the report date (`REPORT_TIME`), so a
  rerun of a date counts what the first run counted and a later return supersedes an earlier
  one; the commune's "nơi đến" sorted into the report's destination codes like the police's.
  The summary loads them into the scratch table `fortnight_verified`, where
  include/sql/fortnight_students.sql lets them override the school's and the police's word.
- `publish_commune_status`: `report.commune_verification` for the date: per commune that was
  sent a list with children before the date, how many such lists came after its latest
  accepted return; two or more (two fortnights without an answer) is `overdue`, and the
  report names the commune in its notes.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, select

from chuyencan.core import schema as wh
from chuyencan.core.organisation import UnknownUnit
from chuyencan.core.reference import Reference
from chuyencan.core.runs import organisation_for
from chuyencan.core.settings import DISTRICT_KEY, REPORT_TIME, Settings
from chuyencan.core.sql import as_utc
from chuyencan.report.wording import say

log = logging.getLogger(__name__)

OVERDUE_LISTS = 2  # lists without a return: two fortnights


def cutoff(settings: Settings, report_date: date) -> datetime:
    """Returns received before this count for the report dated `report_date` (in UTC, as the
    warehouse stores file times: SQLite compares the text)."""
    return datetime.combine(report_date, REPORT_TIME, tzinfo=settings.timezone).astimezone(UTC)


def current_findings(
    conn: Connection, ref: Reference, report_date: date, until: datetime
) -> list[dict[str, object]]:
    """The finding in force per child (rows for chuyencan.report.scratch.load_verified)."""
    from chuyencan.report.phrase_rules import place_rules

    f, r = wh.verification_finding, wh.verification_return
    rows = conn.execute(
        select(f.c.student_key, f.c.presence, f.c.cause, f.c.destination, f.c.workplace)
        .select_from(f.join(r, r.c.return_id == f.c.return_id))
        .where(r.c.outcome == "accepted", r.c.received_at <= until)
        .order_by(r.c.received_at, r.c.return_id)
    ).all()
    destinations = place_rules("destination")

    def destination(written: str | None) -> str:
        if not written:
            return "chua_ro"
        category = destinations.classify(written)
        if category == destinations.fallback and ref.resolve_commune(written, report_date):
            return "trong_tinh"
        return category

    latest: dict[str, dict[str, object]] = {}
    for row in rows:  # oldest first: the last one of a child wins
        latest[row.student_key] = {
            "student_key": row.student_key,
            "presence": row.presence,
            "cause": row.cause,
            "destination": destination(row.destination) if row.presence == "da_di_khoi" else None,
            "workplace": row.workplace,
        }
    return list(latest.values())


def publish_commune_status(engine: Engine, settings: Settings, report_date: date) -> dict[str, object]:
    """Replace report.commune_verification for the date; counts for the run's result."""
    lst, ret, out = wh.verification_list, wh.verification_return, wh.commune_verification
    until = cutoff(settings, report_date)
    units = _units_of_communes(settings, report_date)
    with engine.begin() as conn:
        lists = conn.execute(
            select(lst.c.commune_code, lst.c.commune, lst.c.report_date)
            .where(lst.c.report_date < report_date, lst.c.children > 0)
            .order_by(lst.c.commune_code, lst.c.report_date)
        ).all()
        returns: dict[str, datetime] = {}
        for code, stored in conn.execute(
            select(ret.c.commune_code, ret.c.received_at).where(
                ret.c.outcome == "accepted", ret.c.received_at <= until
            )
        ):
            received = as_utc(stored)
            returns[code] = max(returns.get(code, received), received)
        by_commune: dict[str, list[tuple[str, date]]] = {}
        for code, name, day in lists:
            by_commune.setdefault(code, []).append((name, day))
        rows = []
        for code, sent in by_commune.items():
            last = returns.get(code)
            last_day = last.astimezone(settings.timezone).date() if last else None
            waiting = [d for _, d in sent if last_day is None or d >= last_day]
            rows.append(
                {
                    "report_date": report_date,
                    "commune_code": code,
                    "commune": sent[-1][0],
                    "lists_sent": len(sent),
                    "last_list_date": sent[-1][1],
                    "last_return_on": last_day,
                    "lists_without_return": len(waiting),
                    "overdue": len(waiting) >= OVERDUE_LISTS,
                    "reporting_unit": units.get(code, DISTRICT_KEY),
                }
            )
        conn.execute(out.delete().where(out.c.report_date == report_date))
        if rows:
            conn.execute(out.insert(), rows)
    overdue = sorted(str(r["commune_code"]) for r in rows if r["overdue"])
    log.info(
        "communes' verification returns as of %s: %d communes with lists, %d overdue (%s)",
        report_date,
        len(rows),
        len(overdue),
        ", ".join(str(c) for c in overdue),
    )
    return {"communes_with_lists": len(rows), "overdue_communes": len(overdue)}


def _units_of_communes(settings: Settings, on: date) -> dict[str, str]:
    """Commune code -> the most specific reporting unit in force whose area holds it (a unit
    comes before its parent in `reporting_units_in_force`)."""
    org = organisation_for(settings)
    out: dict[str, str] = {}
    for unit in org.reporting_units_in_force(on):
        try:
            communes = org.communes_of(unit.code, on)
        except UnknownUnit:
            continue
        for commune in communes:
            out.setdefault(commune.code, unit.code)
    return out


def overdue_communes(conn: Connection, report_date: date, units: set[str]) -> list[str]:
    """Names of the communes the reports of `units` name for two fortnights without a return."""
    t = wh.commune_verification
    return list(
        conn.execute(
            select(t.c.commune)
            .where(t.c.report_date == report_date, t.c.overdue, t.c.reporting_unit.in_(sorted(units)))
            .order_by(t.c.commune)
        ).scalars()
    )


def verification_notes(verified: int, overdue: list[str]) -> tuple[str, ...]:
    """The report's note lines: dropouts verified locally; communes without a return."""
    notes = []
    if verified:
        notes.append(say("verification_notes.verified", count=verified))
    if overdue:
        notes.append(say("verification_notes.overdue", communes=", ".join(overdue)))
    return tuple(notes)
