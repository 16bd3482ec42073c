"""Per-transaction scratch tables shared by the summary and early-warning SQL.

Both steps read the same facts: each school's latest student list as of the report date, and
the home communes on those lists resolved to today's names (spellings and merged communes are
resolved in Python, `Reference.resolve_commune`, which SQL cannot do portably). They go into
temporary tables that live only inside the caller's transaction (PostgreSQL: ON COMMIT DROP;
SQLite: emptied first, per connection), so concurrent runs never see each other's rows.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import Connection, Date, Integer, String, bindparam, text
from sqlalchemy.sql.elements import TextClause

from chuyencan.core.reference import Reference
from chuyencan.core.sql import sql

_TABLES = {
    "fortnight_list": "school_code VARCHAR(32) NOT NULL, week_ending DATE NOT NULL, submission_id INTEGER NOT NULL",
    "fortnight_commune_map": "written TEXT NOT NULL, commune TEXT",
    # Free texts sorted into the report's codes (chuyencan.report.phrase_rules).
    "fortnight_text_class": "source VARCHAR(24) NOT NULL, written TEXT NOT NULL, category VARCHAR(24) NOT NULL",
    # The students the summary and the breakdown count (include/sql/fortnight_students.sql).
    "fortnight_student": "counted_as VARCHAR(8) NOT NULL, school_code VARCHAR(32) NOT NULL, grade INTEGER NOT NULL, "
    "level VARCHAR(4) NOT NULL, commune TEXT NOT NULL, status VARCHAR(16) NOT NULL, first_day_missed DATE, "
    "sessions_missed INTEGER, period VARCHAR(8), verdict VARCHAR(16), eligibility VARCHAR(24) NOT NULL, "
    "cause VARCHAR(24) NOT NULL, destination VARCHAR(24) NOT NULL, workplace VARCHAR(24) NOT NULL, "
    "student_key VARCHAR(64) NOT NULL",
    "fortnight_category": "dimension VARCHAR(24) NOT NULL, category VARCHAR(24) NOT NULL",
}


def _scratch_table(conn: Connection, name: str) -> None:
    columns = _TABLES[name]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DROP"))
    else:
        conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})"))
    conn.execute(text(f"DELETE FROM {name}"))


@cache
def statement(name: str) -> TextClause:
    """An SQL file of include/sql with its date and number parameters typed (SQLite stores
    dates as ISO text, PostgreSQL needs to know a parameter's type in a select list)."""
    clause = text(sql(name))
    typed = {
        "report_date": Date,
        "week_1": Date,
        "week_2": Date,
        "first_day": Date,
        "year_start": Date,
        "semester_2_start": Date,
        "tet_start": Date,
        "max_sessions": Integer,
        "list_count": Integer,
        "rising_weeks": Integer,
        "sessions_per_day": Integer,
        "district_key": String,
        "unknown_commune": String,
    }
    present = [k for k in typed if f":{k}" in clause.text]
    return clause.bindparams(*(bindparam(k, type_=typed[k]) for k in present))


def load_latest_lists(conn: Connection, ref: Reference, report_date: date, year_start: date) -> int:
    """Fill fortnight_list and fortnight_commune_map for this transaction; returns the lists' count."""
    _scratch_table(conn, "fortnight_list")
    _scratch_table(conn, "fortnight_commune_map")
    conn.execute(
        statement("fortnight_latest_lists.sql"), {"year_start": year_start, "report_date": report_date}
    )
    written = [r[0] for r in conn.execute(statement("fortnight_list_communes.sql"))]
    if written:
        conn.execute(
            text("INSERT INTO fortnight_commune_map (written, commune) VALUES (:written, :commune)"),
            [{"written": w, "commune": ref.resolve_commune(w, report_date)} for w in written],
        )
    return int(conn.execute(text("SELECT COUNT(*) FROM fortnight_list")).scalar_one())


def classified_texts(conn: Connection, ref: Reference, report_date: date) -> dict[str, dict[str, str]]:
    """Fill fortnight_text_class from the texts on the latest lists (fortnight_list must be
    loaded); returns {source: {text: category}} for the list of unclassified texts."""
    from chuyencan.report.phrase_rules import cause_rules, place_rules

    _scratch_table(conn, "fortnight_text_class")
    causes, destinations = cause_rules(), place_rules("destination")
    workplaces = place_rules("workplace_kind")

    def destination(written: str) -> str:
        category = destinations.classify(written)
        # A commune of the reference (the police write "Xã A Lù"): still in the province.
        if category == destinations.fallback and ref.resolve_commune(written, report_date):
            return "trong_tinh"
        return category

    out: dict[str, dict[str, str]] = {}
    rows = []
    for source, written in conn.execute(statement("fortnight_texts.sql")):
        if source == "cause":
            pairs = [("cause", causes.classify(written))]
        elif source == "police_destination":
            pairs = [(source, destination(written))]
        elif source == "police_workplace":
            pairs = [(source, workplaces.classify(written))]
        else:  # the school's nơi đến names both where to and, often, the work
            pairs = [
                ("school_destination", destination(written)),
                ("school_workplace", workplaces.classify(written)),
            ]
        for name, category in pairs:
            rows.append({"source": name, "written": written, "category": category})
            out.setdefault(name, {})[written] = category
    if rows:
        conn.execute(
            text(
                "INSERT INTO fortnight_text_class (source, written, category) VALUES (:source, :written, :category)"
            ),
            rows,
        )
    return out


def load_fortnight_students(conn: Connection, params: dict[str, object]) -> None:
    """Fill fortnight_student and fortnight_category (after load_latest_lists and
    classified_texts in the same transaction)."""
    from chuyencan.report.dimensions import BREAKDOWN_CATEGORIES

    _scratch_table(conn, "fortnight_student")
    _scratch_table(conn, "fortnight_category")
    conn.execute(statement("fortnight_students.sql"), params)
    conn.execute(
        text("INSERT INTO fortnight_category (dimension, category) VALUES (:dimension, :category)"),
        [{"dimension": d, "category": c} for d, cats in BREAKDOWN_CATEGORIES.items() for c in cats],
    )
