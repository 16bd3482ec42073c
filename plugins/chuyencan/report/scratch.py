"""Per-transaction scratch tables shared by the summary and early-warning SQL.

Both steps read the same facts: each school's latest student list as of the report date, and
the home communes on those lists (and the schools' own communes) resolved to the communes in
force on the report date (spellings, old names and merged communes are resolved in Python,
`Organisation.commune_name`, which SQL cannot do portably). A unit's report adds the unit's
schools and the communes whose children it counts (`load_unit_scope`). They go into temporary
tables that live only inside the caller's transaction (PostgreSQL: ON COMMIT DROP; SQLite:
emptied first, per connection), so concurrent runs never see each other's rows.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import Connection, Date, Integer, String, bindparam, text
from sqlalchemy.sql.elements import TextClause

from chuyencan.core.organisation import Organisation, ReportingUnit
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
    "in_unit INTEGER NOT NULL, in_school INTEGER NOT NULL, verified INTEGER NOT NULL, student_key VARCHAR(64) NOT NULL",
    # What the communes found on home visits, in force on the report date, one row per student
    # (chuyencan.report.verification_findings): overrides the school's and the police's word.
    "fortnight_verified": "student_key VARCHAR(64) NOT NULL, presence VARCHAR(16) NOT NULL, cause VARCHAR(24), "
    "destination VARCHAR(24), workplace VARCHAR(24)",
    "fortnight_category": "dimension VARCHAR(24) NOT NULL, category VARCHAR(24) NOT NULL",
    # The unit whose report is being computed (docs/organisation.md#the-report-of-a-unit): its
    # schools, and for each resolved home commune whose children it counts, the commune row
    # they are counted under (the commune itself, or the unknown row of a unit without parent).
    "fortnight_unit_school": "school_code VARCHAR(32) NOT NULL",
    "fortnight_unit_home": "commune TEXT NOT NULL, scope_commune TEXT NOT NULL",
}


def _scratch_table(conn: Connection, name: str, *, empty: bool = True) -> None:
    columns = _TABLES[name]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DROP"))
    else:
        conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})"))
    if empty:
        conn.execute(text(f"DELETE FROM {name}"))


def load_verified(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Fill fortnight_verified for this transaction (rows: student_key, presence, cause,
    destination, workplace), before load_fortnight_students."""
    _scratch_table(conn, "fortnight_verified")
    if rows:
        conn.execute(
            text(
                "INSERT INTO fortnight_verified (student_key, presence, cause, destination, workplace) "
                "VALUES (:student_key, :presence, :cause, :destination, :workplace)"
            ),
            rows,
        )


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
        "reporting_unit": String,
        "top_scope": String,
    }
    present = [k for k in typed if f":{k}" in clause.text]
    return clause.bindparams(*(bindparam(k, type_=typed[k]) for k in present))


def load_latest_lists(
    conn: Connection, ref: Reference, report_date: date, year_start: date, org: Organisation | None = None
) -> int:
    """Fill fortnight_list and fortnight_commune_map for this transaction; returns the lists' count.

    With `org` (the report's figures and early warning) a written commune maps to the commune
    in force on the report date, merged communes included; without it, to the district's
    `communes.csv` name (the schools' own lists and warnings)."""
    _scratch_table(conn, "fortnight_list")
    _scratch_table(conn, "fortnight_commune_map")
    params = {"year_start": year_start, "report_date": report_date}
    conn.execute(statement("fortnight_latest_lists.sql"), params)
    written = [r[0] for r in conn.execute(statement("fortnight_list_communes.sql"), params)]
    if written:
        conn.execute(
            text("INSERT INTO fortnight_commune_map (written, commune) VALUES (:written, :commune)"),
            [
                {
                    "written": w,
                    "commune": org.commune_name(w, report_date)
                    if org
                    else ref.resolve_commune(w, report_date),
                }
                for w in written
            ],
        )
    return int(conn.execute(text("SELECT COUNT(*) FROM fortnight_list")).scalar_one())


def load_unit_scope(
    conn: Connection, org: Organisation, unit: ReportingUnit, report_date: date, unknown_commune: str
) -> None:
    """Fill fortnight_unit_school and fortnight_unit_home for `unit`'s report (after
    load_latest_lists with the organisation, and early warning for the date):
    - its schools: those reporting to it or to a unit under it on the report date;
    - its communes (in force on the report date, in its area) count their own children; a unit
      without parent also counts every other child, under the unknown commune's row."""
    _scratch_table(conn, "fortnight_unit_school")
    _scratch_table(conn, "fortnight_unit_home")
    schools = org.unit_schools(unit.code, report_date)
    if schools:
        conn.execute(
            text("INSERT INTO fortnight_unit_school (school_code) VALUES (:school_code)"),
            [{"school_code": code} for code in schools],
        )
    own = {c.commune_name for c in org.communes_of(unit.code, report_date)}
    found = set(
        conn.execute(statement("fortnight_resolved_communes.sql"), {"report_date": report_date}).scalars()
    )
    home = {c: c for c in own}
    if unit.parent is None:
        home |= dict.fromkeys((found | {unknown_commune}) - own, unknown_commune)
    if home:
        conn.execute(
            text(
                "INSERT INTO fortnight_unit_home (commune, scope_commune) VALUES (:commune, :scope_commune)"
            ),
            [{"commune": c, "scope_commune": scope} for c, scope in sorted(home.items())],
        )


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

    _scratch_table(conn, "fortnight_verified", empty=False)  # no returns loaded: nothing verified
    _scratch_table(conn, "fortnight_student")
    _scratch_table(conn, "fortnight_category")
    conn.execute(statement("fortnight_students.sql"), params)
    conn.execute(
        text("INSERT INTO fortnight_category (dimension, category) VALUES (:dimension, :category)"),
        [{"dimension": d, "category": c} for d, cats in BREAKDOWN_CATEGORIES.items() for c in cats],
    )
