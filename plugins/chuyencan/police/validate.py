"""Check parsed police extracts against the GX suite `include/expectations/police_extract.json`.

Same approach as the schools' files (`chuyencan.submissions.validate`, whose GX context this
reuses): every extract of a run is stacked into one table with a `file_idx` column and validated
once; rules that need reference data (is the commune known, is every row the extract's commune)
or the file's time are derived columns computed here and checked by ordinary expectations.

Each extract also gets its identity here: its commune (the one most rows name) and its round
(the latest `ngay_xac_minh`, else the day the file was dropped), which decide which extract of
a commune is in effect.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from chuyencan.core.gx_suites import EXPECTATIONS_DIR, date_ordinals, suite_failures
from chuyencan.core.inbox import InboxFile
from chuyencan.core.reference import Reference
from chuyencan.police.extract_contract import COLUMN_BY_KEY
from chuyencan.police.issues import ExtractIssue
from chuyencan.police.reader import ParsedExtract

log = logging.getLogger(__name__)

SUITE_FILE = EXPECTATIONS_DIR / "police_extract.json"


@dataclass
class CheckedExtract:
    file: InboxFile
    parsed: ParsedExtract
    issues: list[ExtractIssue] = field(default_factory=list)
    commune: str | None = None
    extract_round: date | None = None
    received_on: date | None = None  # the file's local date

    @property
    def errors(self) -> list[ExtractIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ExtractIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def accepted(self) -> bool:
        return self.parsed.readable and not self.errors and self.commune is not None

    @property
    def frame(self) -> pd.DataFrame:
        if self.parsed.frame is None:
            raise ValueError("an unreadable extract has no rows")
        return self.parsed.frame


def check_extracts(
    parsed: list[ParsedExtract], files: list[InboxFile], ref: Reference, tz: ZoneInfo
) -> list[CheckedExtract]:
    checked = [
        CheckedExtract(
            file=f, parsed=p, issues=list(p.issues), received_on=f.received_at.astimezone(tz).date()
        )
        for f, p in zip(files, parsed, strict=True)
    ]
    readable = [c for c in checked if c.parsed.readable]
    if readable:
        frame = _derive(readable, ref)
        for file_idx, issue in _run_suite(frame):
            readable[file_idx].issues.append(issue)
    for c in checked:
        c.issues.sort(key=lambda i: (i.severity != "error", i.row is not None, i.row or 0))
        if c.parsed.readable and c.commune is None and not c.errors:
            c.issues.insert(0, ExtractIssue("error", "unknown_commune", column="xa"))
    return checked


def _derive(files: list[CheckedExtract], ref: Reference) -> pd.DataFrame:
    frames = [c.frame.assign(file_idx=idx) for idx, c in enumerate(files)]
    df = pd.concat(frames, ignore_index=True)
    received = [c.received_on for c in files]
    received_on = df["file_idx"].map(lambda i: received[i])
    memo: dict[tuple[str, date], str | None] = {}

    def resolve(name: Any, day: date) -> str | None:
        if not isinstance(name, str):
            return None
        if (name, day) not in memo:
            memo[(name, day)] = ref.resolve_commune(name, day)
        return memo[(name, day)]

    resolved = [resolve(name, day) for name, day in zip(df["commune"], received_on, strict=True)]
    df["commune_resolved"] = resolved
    df["commune_known"] = [
        None if not isinstance(n, str) else r is not None
        for n, r in zip(df["commune"], resolved, strict=True)
    ]
    # The extract's commune: the one most of its rows name (one extract per commune).
    counts = df.dropna(subset=["commune_resolved"]).groupby(["file_idx", "commune_resolved"]).size()
    file_commune: dict[int, str] = {}
    for (idx, commune), _n in counts.sort_values(ascending=False).items():
        file_commune.setdefault(int(idx), str(commune))
    df["file_commune"] = df["file_idx"].map(lambda i: file_commune.get(int(i)))
    df["commune_same"] = [
        None if r is None or f is None else r == f for r, f in zip(resolved, df["file_commune"], strict=True)
    ]
    received_ord = received_on.map(lambda d: float(d.toordinal()))
    df["birth_age"] = received_on.map(lambda d: float(d.year)) - pd.to_numeric(
        df["birth_year"], errors="coerce"
    )
    df["verified_lag"] = received_ord - date_ordinals(df["verified_on"])
    df["changed_lag"] = received_ord - date_ordinals(df["status_changed_on"])
    df["id_birth_code"] = df["personal_id"].map(_id_birth_code)
    df["expected_id_birth_code"] = [
        _expected_code(y, s) for y, s in zip(df["birth_year"], df["sex"], strict=True)
    ]
    for idx, c in enumerate(files):
        c.commune = file_commune.get(idx)
        verified = [
            d for d in c.frame["verified_on"] if isinstance(d, date) and c.received_on and d <= c.received_on
        ]
        c.extract_round = max(verified) if verified else c.received_on
    return df


def _id_birth_code(pid: Any) -> str | None:
    return pid[3:6] if isinstance(pid, str) and len(pid) == 12 and pid.isdigit() else None


def _expected_code(year: Any, sex: Any) -> str | None:
    """Digits 4-6 of a personal ID: century and sex (2/3 for 2000s), then the birth year's last two."""
    if not isinstance(year, int | float) or pd.isna(year) or sex not in ("M", "F"):
        return None
    year = int(year)
    century = (year // 100) - 19
    return f"{2 * century + (sex == 'F')}{year % 100:02d}"


@cache
def load_suite_json() -> dict[str, Any]:
    with SUITE_FILE.open(encoding="utf-8") as fh:
        suite: dict[str, Any] = json.load(fh)
    return suite


def _run_suite(frame: pd.DataFrame) -> list[tuple[int, ExtractIssue]]:
    out: list[tuple[int, ExtractIssue]] = []
    for failure in suite_failures(load_suite_json(), frame):
        meta = failure.meta
        issue = ExtractIssue(
            severity=meta.get("severity", "error"),
            rule=meta["rule"],
            row=failure.row,
            column=meta["column"],
            value=failure.value(meta.get("value_column") or COLUMN_BY_KEY[meta["column"]].name),
            params=failure.params(),
        )
        out.append((failure.file_idx, issue))
    return out
