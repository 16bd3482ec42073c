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
