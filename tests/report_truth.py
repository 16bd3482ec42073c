"""What the fortnightly report should say, from the sample generator's ground truth.

Read from `truth/` of a `chuyencan_dev.synth` sample (the generator's own simulated state, never
our pipeline's output): which list each school had accepted last (`submissions.csv`), who was
on it with which status (`cases.csv`), and each student's true plan (`students.csv`: when and
why they left school, whether and where they left the commune, what they work as). Figures are
of what the system can know: a school's latest accepted list, the police's record by their last
extract, the school's nơi đến when it wrote one.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from chuyencan.core.contract import level_of_grade

PERIOD_CODES = {"summer": "he", "hk1": "hk1", "hk2": "hk2", "after_tet": "sau_tet"}
LEFT = ("tam_vang", "da_chuyen_di")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Figures:
    """Counts for one scope: the summary's columns and the breakdown's (dimension, category)."""

    summary: Counter[str] = field(default_factory=Counter)
    breakdown: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass
class Truth:
    district: Figures
    by_scope: dict[tuple[str, str], Figures]


def _scopes(level: str, commune: str, school: str) -> Iterable[tuple[str, str]]:
    return (("district", ""), ("level", level), ("commune", commune), ("school", school))


def fortnight_truth(
    truth_dir: Path, report_date: date, *, police_round: date | None, max_sessions: int = 45
) -> Truth:
    """police_round: the date of the last police extract the report saw (None: no police data)."""
    students = {s["student_id"]: s for s in _read(truth_dir / "students.csv")}
    weeks = (report_date - timedelta(days=7), report_date)
    accepted = [
        s
        for s in _read(truth_dir / "submissions.csv")
        if int(s["accepted_files"]) > 0 and date.fromisoformat(s["week_ending"]) <= report_date
    ]
    latest: dict[str, str] = {}
    for sub in accepted:
        latest[sub["school_code"]] = max(latest.get(sub["school_code"], ""), sub["week_ending"])
    cases = [c for c in _read(truth_dir / "cases.csv") if c["in_accepted_file"] == "yes"]
    by_scope: dict[tuple[str, str], Figures] = {}

    def add(student: dict[str, str], school: str, column: str | None, dims: dict[str, str]) -> None:
        level = level_of_grade(int(student["grade"]))
        for scope in _scopes(level, student["commune"], school):
            figures = by_scope.setdefault(scope, Figures())
            if column:
                figures.summary[column] += 1
            for dimension, category in dims.items():
                figures.breakdown[(dimension, category)] += 1

    for c in cases:
        if c["status"] != "bo_hoc" or latest.get(c["school_code"]) != c["week_ending"]:
            continue
        s = students[c["student_id"]]
        grade = int(s["grade"])
        known_left = _police_knew(s, police_round)
        workplace = "khong_ro"
        if (known_left and s["police_workplace"] == "yes") or s["destination_written"] == "yes":
            workplace = s["workplace_kind"] or "khong_ro"
        dims = {"cause": s["reason"], "grade": str(grade), "workplace_kind": workplace}
        period = PERIOD_CODES[s["dropout_period"]]
        if known_left:
            dims |= {"left_period": period, "destination": s["destination_kind"]}
        add(s, c["school_code"], "dropouts_open", dims)
        add(s, c["school_code"], f"period_{period}", {})
        if known_left:
            add(s, c["school_code"], "left_locality", {})
        eligible = level_of_grade(grade) == "TH" or int(c["sessions_missed"]) <= max_sessions
        add(s, c["school_code"], "eligible_to_continue" if eligible else "not_eligible", {})

    for c in _returns(cases, weeks).values():
        s = students[c["student_id"]]
        grade = int(s["grade"])
        if level_of_grade(grade) == "TH":
            eligibility = "khong_ap_dung"
        elif int(c["sessions_missed"]) > max_sessions:
            eligibility = "khong_du_dieu_kien"
        else:
            eligibility = "du_dieu_kien"
        add(s, c["school_code"], "returned", {"returned_eligibility": eligibility})
    return Truth(by_scope.get(("district", ""), Figures()), by_scope)


def _returns(cases: list[dict[str, str]], weeks: tuple[date, date]) -> dict[str, dict[str, str]]:
    """Each student marked da_tro_lai on an accepted list of the fortnight, once (the latest row)."""
    returned: dict[str, dict[str, str]] = {}
    for c in cases:
        if c["status"] != "da_tro_lai" or date.fromisoformat(c["week_ending"]) not in weeks:
            continue
        if c["student_id"] not in returned or returned[c["student_id"]]["week_ending"] < c["week_ending"]:
            returned[c["student_id"]] = c
    return returned


def _police_knew(student: dict[str, str], police_round: date | None) -> bool:
    """The police had recorded the move by their last extract the report saw."""
    return (
        police_round is not None
        and student["left_locality"] == "yes"
        and student["police_recorded_on"] != ""
        and date.fromisoformat(student["police_recorded_on"]) <= police_round
    )


def police_round_of(sample_dir: Path) -> date | None:
    """The newest police extract's date, from its file name (<commune>_<yyyy-mm-dd>.csv)."""
    dates = [
        date.fromisoformat(p.stem.rsplit("_", 1)[1]) for p in (sample_dir / "police_inbox").glob("*_*.*")
    ]
    return max(dates) if dates else None
