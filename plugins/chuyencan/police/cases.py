"""The two sides of the match: the schools' open cases and the police's household records.

An open case is a student on a school's latest accepted list (the latest week the school has
a file in effect for) with status bo_hoc, vang_dai_ngay or nguy_co. The student's home commune
is resolved through the reference data as valid in that week (a merged commune counts as its
successor). The residents are the rows of each commune's extract in effect.

Both frames carry personal data: they live in memory and in `restricted` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, Row, func, select

from chuyencan.core import schema
from chuyencan.core.contract import OPEN_STATUSES
from chuyencan.core.reference import Reference
from chuyencan.core.schema import police_extract_current, police_resident

CASE_COLUMNS = (
    "case_id",
    "school_code",
    "personal_id",
    "full_name",
    "birth_date",
    "sex",
    "commune",
    "village",
    "parent_name",
)
RESIDENT_COLUMNS = (
    "resident_id",
    "extract_id",
    "source_row",
    "resident_key",
    "name_key",
    "personal_id",
    "full_name",
    "birth_date",
    "birth_year",
    "sex",
    "commune",
    "village",
    "household_head",
    "relation",
    "residence_status",
    "destination",
    "workplace",
)


def resident_id(extract_id: int, source_row: int) -> str:
    return f"{extract_id}:{source_row}"


def open_cases(engine: Engine, ref: Reference) -> pd.DataFrame:
    """One row per open case (CASE_COLUMNS); `commune` resolved, None when unknown."""
    cs, se = schema.ops_current_submission, schema.restricted_student_entry
    latest = (
        select(cs.c.school_code, func.max(cs.c.week_ending).label("week"))
        .group_by(cs.c.school_code)
        .subquery()
    )
    query = (
        select(
            se.c.student_key,
            se.c.school_code,
            se.c.week_ending,
            se.c.personal_id,
            se.c.full_name,
            se.c.birth_date,
            se.c.sex,
            se.c.commune,
            se.c.village,
            se.c.parent_name,
        )
        .join(cs, cs.c.submission_id == se.c.submission_id)
        .join(latest, (latest.c.school_code == cs.c.school_code) & (latest.c.week == cs.c.week_ending))
        .where(se.c.status.in_(OPEN_STATUSES))
        # A student on two schools' lists (a transfer) is one case: the latest list speaks.
        .order_by(se.c.week_ending.desc(), se.c.school_code, se.c.source_row)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    seen: set[str] = set()
    records = []
    for r in rows:
        if r.student_key in seen:
            continue
        seen.add(r.student_key)
        records.append(
            {
                "case_id": r.student_key,
                "school_code": r.school_code,
                "personal_id": r.personal_id or None,
                "full_name": r.full_name,
                "birth_date": r.birth_date,
                "sex": r.sex,
                "commune": ref.resolve_commune(r.commune, r.week_ending),
                "village": r.village or None,
                "parent_name": r.parent_name or None,
            }
        )
    return pd.DataFrame.from_records(records, columns=list(CASE_COLUMNS))


def current_residents(engine: Engine) -> pd.DataFrame:
    """The household records of every commune's extract in effect (RESIDENT_COLUMNS)."""
    pr, cur = police_resident, police_extract_current
    query = select(*(pr.c[c] for c in RESIDENT_COLUMNS[1:])).join(cur, cur.c.extract_id == pr.c.extract_id)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=list(RESIDENT_COLUMNS[1:]))
    frame.insert(
        0,
        "resident_id",
        [resident_id(e, r) for e, r in zip(frame["extract_id"], frame["source_row"], strict=True)],
    )
    # The matcher reads a year-only birth from birth_year and a full date from birth_date.
    frame["birth_year"] = pd.Series(
        [
            None if isinstance(born, date) else int(year)
            for born, year in zip(frame["birth_date"], frame["birth_year"], strict=True)
        ],
        index=frame.index,
        dtype=object,
    )
    return frame


_CHUNK = 900  # stays under SQLite's bound-parameter limit


def fetch_residents(
    conn: Connection, ids: Iterable[str], columns: Sequence[str] = RESIDENT_COLUMNS[1:]
) -> list[Row]:
    """Household records by resident id ("<extract_id>:<source_row>"), fetched per extract in
    chunks. Each row has `extract_id` and `source_row` whatever `columns` asks for."""
    pr = police_resident
    wanted = list(dict.fromkeys(("extract_id", "source_row", *columns)))
    rows_by_extract: dict[int, list[int]] = {}
    for rid in set(ids):
        extract, row = rid.split(":")
        rows_by_extract.setdefault(int(extract), []).append(int(row))
    out: list[Row] = []
    for extract_id, rows in sorted(rows_by_extract.items()):
        rows.sort()
        for start in range(0, len(rows), _CHUNK):
            query = select(*(pr.c[c] for c in wanted)).where(
                pr.c.extract_id == extract_id, pr.c.source_row.in_(rows[start : start + _CHUNK])
            )
            out.extend(conn.execute(query))
    return out
