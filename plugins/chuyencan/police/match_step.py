"""Match every open case to the household records of its commune's extract in effect.

Cases whose home commune has no extract get `no_police_data` without matching. The matcher's
answer for each case replaces `restricted.case_match` in one transaction; the verdicts are
decided from it afterwards (`police.verdicts`), so a reviewer's decision or a retention purge
never needs the matcher to run again.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from chuyencan.core import warehouse as wh
from chuyencan.core.reference import Reference
from chuyencan.core.schema import case_match, police_extract_current
from chuyencan.police.cases import current_residents, open_cases

log = logging.getLogger(__name__)

Matcher = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]
MATCHER_CASE_COLUMNS = [
    "case_id",
    "personal_id",
    "full_name",
    "birth_date",
    "sex",
    "commune",
    "village",
    "parent_name",
]
MATCHER_RESIDENT_COLUMNS = [
    "resident_id",
    "personal_id",
    "full_name",
    "birth_date",
    "birth_year",
    "sex",
    "commune",
    "village",
    "household_head",
    "relation",
]
DECISIONS = ("match", "ambiguous", "no_match")


def _default_matcher() -> Matcher:
    from chuyencan.police.matching import match_cases

    return match_cases


def match_open_cases(
    engine: Engine, ref: Reference, now: datetime, *, matcher: Matcher | None = None
) -> dict[str, Any]:
    cases, current = open_cases_and_extracts(engine, ref)
    with_data = cases[covered(cases, current)]
    answers: dict[str, dict[str, Any]] = {}
    seconds = 0.0
    residents_n = 0
    if len(with_data):
        residents = current_residents(engine)
        residents_n = len(residents)
        started = time.perf_counter()
        result = (matcher or _default_matcher())(
            with_data[MATCHER_CASE_COLUMNS].reset_index(drop=True),
            residents[MATCHER_RESIDENT_COLUMNS].reset_index(drop=True),
        )
        seconds = time.perf_counter() - started
        answers = checked(result, set(with_data["case_id"]), set(residents["resident_id"]))
    rows = match_rows(cases, current, answers, now)
    write_matches(engine, rows)
    summary = summarise(rows, with_police_data=len(with_data), residents=residents_n, seconds=seconds)
    log.info("open cases matched: %s", summary)
    return summary


def open_cases_and_extracts(engine: Engine, ref: Reference) -> tuple[pd.DataFrame, dict[str, int]]:
    """The open cases and each commune's extract in effect (commune -> extract_id)."""
    cases = open_cases(engine, ref)
    with engine.connect() as conn:
        current = dict(
            conn.execute(select(police_extract_current.c.commune, police_extract_current.c.extract_id)).all()
        )
    return cases, current


def covered(cases: pd.DataFrame, current: dict[str, int]) -> pd.Series:
    """Cases whose home commune has an extract in effect (the others get no_police_data)."""
    return cases["commune"].isin(list(current)) if len(cases) else pd.Series([], dtype=bool)


def match_rows(
    cases: pd.DataFrame, current: dict[str, int], answers: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """`restricted.case_match` rows of these cases: the matcher's answer, or no_police_data."""
    rows = []
    for case in cases.itertuples(index=False):
        answer = answers.get(case.case_id)
        rows.append(
            {
                "student_key": case.case_id,
                "school_code": case.school_code,
                "commune": case.commune,
                "extract_id": current.get(case.commune) if answer is not None else None,
                "decision": answer["decision"] if answer is not None else "no_police_data",
                "resident_id": answer["resident_id"] if answer is not None else None,
                "score": answer["score"] if answer is not None else None,
                "candidates": json.dumps(answer["candidates"] if answer is not None else []),
                "agreed": answer["agreed"] if answer is not None else None,
                "disagreed": answer["disagreed"] if answer is not None else None,
                "matched_at": now,
            }
        )
    return rows


def write_matches(engine: Engine, rows: list[dict[str, Any]], *, keep_communes: Sequence[str] = ()) -> None:
    """Replace `restricted.case_match` with these rows in one transaction, except the rows of
    `keep_communes` (communes whose matching failed this run keep their previous answers)."""
    with engine.begin() as conn:
        # The fortnightly report's refresh may run beside police_reconciliation: take turns.
        wh.serialise(conn, "restricted.case_match")
        kept: list[dict[str, Any]] = []
        if keep_communes:
            fresh = {r["student_key"] for r in rows}
            query = select(case_match).where(case_match.c.commune.in_(list(keep_communes)))
            kept = [dict(r._mapping) for r in conn.execute(query) if r.student_key not in fresh]
        conn.execute(case_match.delete())
        if rows or kept:
            conn.execute(case_match.insert(), [*rows, *kept])


def summarise(
    rows: list[dict[str, Any]], *, with_police_data: int, residents: int, seconds: float
) -> dict[str, Any]:
    decisions = pd.Series([r["decision"] for r in rows], dtype=object).value_counts()
    return {
        "open_cases": len(rows),
        "with_police_data": with_police_data,
        "residents": residents,
        **{d: int(decisions.get(d, 0)) for d in (*DECISIONS, "no_police_data")},
        "matcher_seconds": round(seconds, 2),
    }


def checked(result: pd.DataFrame, case_ids: set[str], resident_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The matcher's answer per case, held to the agreed interface (a broken answer must not
    become a verdict about a child)."""
    out: dict[str, dict[str, Any]] = {}
    for r in result.itertuples(index=False):
        if r.case_id not in case_ids or r.case_id in out:
            raise ValueError("the matcher answered for an unknown case, or twice for one case")
        if r.decision not in DECISIONS:
            raise ValueError(f"the matcher gave an unknown decision {r.decision!r}")
        resident = r.resident_id if isinstance(r.resident_id, str) and r.resident_id else None
        if r.decision == "match" and resident not in resident_ids:
            raise ValueError("the matcher matched a case to a record it was not given")
        candidates = [str(c) for c in (r.candidates if isinstance(r.candidates, list | tuple) else [])]
        if any(c not in resident_ids for c in candidates):
            raise ValueError("the matcher listed a candidate record it was not given")
        out[r.case_id] = {
            "decision": r.decision,
            "resident_id": resident if r.decision == "match" else None,
            "score": None if r.score is None or pd.isna(r.score) else float(r.score),
            "candidates": candidates,
            "agreed": ",".join(r.agreed) if isinstance(r.agreed, list | tuple) and r.agreed else None,
            "disagreed": ",".join(r.disagreed)
            if isinstance(r.disagreed, list | tuple) and r.disagreed
            else None,
        }
    if set(out) != case_ids:
        raise ValueError(f"the matcher gave no answer for {len(case_ids - set(out))} cases")
    return out
