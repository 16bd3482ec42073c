"""Put it together: reference, population, the year's weeks, files, police extracts, truth."""

from __future__ import annotations

import csv
import os
import random
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from chuyencan.core.contract import level_of_grade
from chuyencan.core.organisation import load_organisation
from chuyencan.core.reference import Reference, SchoolYear, load_reference
from chuyencan.core.settings import REFERENCE_DIR, TIMEZONE
from chuyencan_dev.synth import attendance as att
from chuyencan_dev.synth.content import ContentBuilder, school_rows
from chuyencan_dev.synth.mistakes import break_file
from chuyencan_dev.synth.police import Registry, police_rounds, residence_on, write_police
from chuyencan_dev.synth.population import Population, build_population
from chuyencan_dev.synth.province import SMALL, write_province_reference
from chuyencan_dev.synth.submissions import file_name, plan_school_week, school_habit
from chuyencan_dev.synth.workbooks import Layout, WorkbookContent, render, school_layout, vary

# district: the shipped reference (Bát Xát's 14 schools); province: the merged Lào Cai province
# (about 1,200 schools, synth/province.py); province-small: Bát Xát and Trạm Tấu of it
# (about 100 schools), for tests.
SCALES = ("district", "province", "province-small")
OWNED_DIRS = ("inbox", "police_inbox", "truth", "reference")


@dataclass(frozen=True)
class SynthSummary:
    out_dir: Path
    seed: int
    scale: str
    first_week: date
    last_week: date
    weeks: int
    schools: int
    students: int
    households: int
    persons: int
    school_weeks: int  # active school x school week pairs in the window
    files: int
    accepted_files: int
    rejected_files: int
    missing_submissions: int
    police_files: int
    police_records: int
    cases: int
    inbox: Path
    police_inbox: Path
    truth_dir: Path
    reference_dir: Path


def _choose_year(ref: Reference, first_week: date | None, last_week: date | None) -> SchoolYear:
    anchor = last_week or first_week
    year = ref.school_year_of(anchor) if anchor else min(ref.years, key=lambda y: y.start)
    if year is None:
        raise ValueError(f"no school year in the calendar for {anchor}")
    for day in (first_week, last_week):
        if day is not None and ref.school_year_of(day) != year:
            raise ValueError("first and last week must be in the same school year")
    return year


def _write_csv(path: Path, columns: list[str], rows: Iterable[Mapping[str, object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _iso(value: int | date | None) -> str:
    if value is None or value == 0:
        return ""
    return (value if isinstance(value, date) else date.fromordinal(int(value))).isoformat()


def _local(when: datetime) -> str:
    return when.astimezone(TIMEZONE).isoformat()


class _Run:
    def __init__(
        self, out_dir: Path, seed: int, ref: Reference, pop: Population, mistake_rate: float
    ) -> None:
        self.out_dir = out_dir
        self.seed = seed
        self.ref = ref
        self.pop = pop
        self.mistake_rate = mistake_rate
        self.codes = [s.code for s in pop.schools]
        self.habits = {s.code: school_habit(s, seed) for s in pop.schools}
        self.layouts = {s.code: school_layout(random.Random(f"{seed}:layout:{s.code}")) for s in pop.schools}
        self.used_paths: set[str] = set()
        self.files: list[dict[str, object]] = []
        self.submissions: list[dict[str, object]] = []
        self.case_rows: list[dict[str, object]] = []
        self.attendance: list[dict[str, object]] = []
        self.cases: dict[int, dict[str, str]] = {}
        self.classes_by_school: dict[int, list[int]] = {}
        for c_idx, info in enumerate(pop.classes):
            self.classes_by_school.setdefault(info.school, []).append(c_idx)

    def _path(self, folder: str, name: str) -> Path:
        stem, n = name.removesuffix(".xlsx"), 2
        rel = f"inbox/{folder}/{name}"
        while rel in self.used_paths:
            rel = f"inbox/{folder}/{stem} ({n}).xlsx"
            n += 1
        self.used_paths.add(rel)
        return self.out_dir / rel

    def school_week(self, s_idx: int, week: att.Week, content: WorkbookContent, layout: Layout) -> None:
        school = self.pop.schools[s_idx]
        code, friday = school.code, week.friday
        habit = self.habits[code]
        plan = plan_school_week(school, friday, habit, self.seed, self.mistake_rate)
        rng = random.Random(f"{self.seed}:files:{code}:{friday}")
        accepted = 0
        for f in plan.files:
            path = self._path(
                habit.folder, file_name(school, friday, week.index + 1, habit, attempt=f.attempt, rng=rng)
            )
            mistake = None
            written = content
            if f.broken:
                written, mistake = break_file(content, plan.kinds, school, self.codes, rng)
            render(written, layout, path, f.when)
            stamp = f.when.timestamp()
            os.utime(path, (stamp, stamp))
            row = ""
            if mistake is not None:
                table = next(t for t in written.tables if t.sheet.name == mistake.sheet)
                row = str(table.header_row if mistake.row is None else table.excel_row(mistake.row))
            else:
                accepted += 1
            self.files.append(
                {
                    "path": path.relative_to(self.out_dir).as_posix(),
                    "school_code": code,
                    "week_ending": friday.isoformat(),
                    "attempt": f.attempt,
                    "expected_outcome": "rejected" if f.broken else "accepted",
                    "mistake_kind": mistake.kind if mistake else "",
                    "mistake_sheet": mistake.sheet if mistake else "",
                    "mistake_column": mistake.column if mistake else "",
                    "mistake_row": row,
                    "file_time": _local(f.when),
                    "file_mtime": int(stamp),
                }
            )
        self.submissions.append(
            {
                "week_ending": friday.isoformat(),
                "school_code": code,
                "expected_status": plan.status,
                "received_at": _local(plan.received_at) if plan.received_at else "",
                "accepted_files": accepted,
                "rejected_files": len(plan.files) - accepted,
            }
        )

    def record_week(
        self, s_idx: int, week: att.Week, result: att.WeekResult, rows: np.ndarray, delivered: bool
    ) -> None:
        pop = self.pop
        school = pop.schools[s_idx]
        by_grade: dict[int, list[int]] = {}
        for c_idx in np.flatnonzero(np.array([c.school == s_idx for c in pop.classes])):
            by_grade.setdefault(pop.classes[c_idx].grade, []).append(int(c_idx))
        for grade, classes in sorted(by_grade.items()):
            enrolled = int(result.class_enrolled[classes].sum())
            self.attendance.append(
                {
                    "week_ending": week.friday.isoformat(),
                    "school_code": school.code,
                    "level": level_of_grade(grade),
                    "grade": grade,
                    "classes": len(classes),
                    "enrolled": enrolled,
                    "student_days_scheduled": enrolled * week.school_days,
                    "absent_excused": int(result.class_excused[classes].sum()),
                    "absent_unexcused": int(result.class_unexcused[classes].sum()),
                    "in_accepted_file": "yes" if delivered else "no",
                }
            )
        for pos in rows:
            i = int(result.listed[pos])
            status = att.STATUS_CODES[int(result.status[pos])]
            self.case_rows.append(
                {
                    "week_ending": week.friday.isoformat(),
                    "school_code": school.code,
                    "student_id": pop.student_id(i),
                    "status": status,
                    "first_day_missed": _iso(int(result.first_day[pos])),
                    "sessions_missed": int(result.sessions[pos]),
                    "in_accepted_file": "yes" if delivered else "no",
                }
            )
            case = self.cases.setdefault(
                i,
                {
                    "student_id": pop.student_id(i),
                    "school_code": school.code,
                    "commune": pop.household_of(i).commune,
                    "first_listed_week": week.friday.isoformat(),
                    "statuses_seen": "",
                },
            )
            case["last_listed_week"] = week.friday.isoformat()
            case["last_status"] = status
            seen = set(filter(None, case["statuses_seen"].split("|"))) | {status}
            case["statuses_seen"] = "|".join(sorted(seen))


def generate(
    out_dir: Path,
    seed: int,
    scale: str = "district",
    first_week: date | None = None,
    last_week: date | None = None,
    *,
    mistake_rate: float = 0.05,
) -> SynthSummary:
    """Write a sample school year (files, police extracts, truth) under out_dir; see README."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OWNED_DIRS:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    if scale != "district":
        reference_dir = out_dir / "reference"
        write_province_reference(reference_dir, seed, districts=SMALL if scale == "province-small" else None)
    else:
        reference_dir = REFERENCE_DIR
    ref = load_reference(reference_dir)
    year = _choose_year(ref, first_week, last_week)
    weeks = att.school_year_weeks(year)
    window = [
        w
        for w in weeks
        if (first_week is None or w.friday >= first_week) and (last_week is None or w.friday <= last_week)
    ]
    if not window:
        raise ValueError("no school week between first and last week")

    pop = build_population(ref, year, seed)
    plan = att.plan_dropouts(pop, weeks, seed)
    # Who each school reports to on a Friday (the workbook's first title line after the reform).
    builder = ContentBuilder(pop, plan, ref.communes, seed, org=load_organisation(reference_dir))
    run = _Run(out_dir, seed, ref, pop, mistake_rate)
    wanted = {w.friday for w in window}
    school_weeks = 0
    for result in att.simulate(pop, plan, weeks, wanted, seed):
        week = result.week
        by_school = school_rows(result, pop.st_school)
        for s_idx, school in enumerate(pop.schools):
            if not school.active_on(week.friday):
                continue
            school_weeks += 1
            rows = by_school.get(s_idx, np.zeros(0, np.int64))
            layout = vary(
                run.layouts[school.code], random.Random(f"{seed}:layout:{school.code}:{week.friday}")
            )
            content = builder.build(s_idx, week, result, rows, layout)
            n_files = len(run.files)
            run.school_week(s_idx, week, content, layout)
            delivered = any(f["expected_outcome"] == "accepted" for f in run.files[n_files:])
            run.record_week(s_idx, week, result, rows, delivered=delivered)

    registry = Registry(pop, plan, seed)
    rounds = police_rounds(window[0].friday, window[-1].friday)
    police = write_police(registry, out_dir, rounds, run.cases, seed=seed)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    _write_truth(
        truth_dir,
        run,
        pop=pop,
        plan=plan,
        registry=registry,
        destination_known=builder.destination_known,
        last_friday=window[-1].friday,
        police_truth=police.truth,
    )
    rejected = sum(1 for f in run.files if f["expected_outcome"] == "rejected")
    return SynthSummary(
        out_dir=out_dir,
        seed=seed,
        scale=scale,
        first_week=window[0].friday,
        last_week=window[-1].friday,
        weeks=len(window),
        schools=len(pop.schools),
        students=pop.n_students,
        households=len(pop.households),
        persons=len(pop.persons),
        school_weeks=school_weeks,
        files=len(run.files),
        accepted_files=len(run.files) - rejected,
        rejected_files=rejected,
        missing_submissions=sum(1 for s in run.submissions if s["expected_status"] == "missing"),
        police_files=len(police.files),
        police_records=police.records,
        cases=len(run.cases),
        inbox=out_dir / "inbox",
        police_inbox=out_dir / "police_inbox",
        truth_dir=truth_dir,
        reference_dir=reference_dir,
    )


def _write_truth(
    truth_dir: Path,
    run: _Run,
    *,
    pop: Population,
    plan: att.DropoutPlan,
    registry: Registry,
    destination_known: np.ndarray,
    last_friday: date,
    police_truth: list[dict[str, str]],
) -> None:
    _write_csv(
        truth_dir / "files.csv",
        FILE_COLUMNS,
        sorted(run.files, key=lambda r: (r["week_ending"], r["school_code"], r["attempt"])),
    )
    _write_csv(
        truth_dir / "submissions.csv",
        SUBMISSION_COLUMNS,
        sorted(run.submissions, key=lambda r: (r["week_ending"], r["school_code"])),
    )
    _write_csv(truth_dir / "attendance.csv", ATTENDANCE_COLUMNS, run.attendance)
    _write_csv(
        truth_dir / "cases.csv",
        CASE_COLUMNS,
        sorted(run.case_rows, key=lambda r: (r["week_ending"], r["school_code"], r["student_id"])),
    )
    _write_csv(truth_dir / "police_truth.csv", POLICE_TRUTH_COLUMNS, police_truth)

    def student_rows() -> Iterator[dict[str, object]]:
        for i in range(pop.n_students):
            person = pop.student(i)
            hh = pop.households[person.household]
            info = pop.classes[int(pop.st_class[i])]
            d0 = int(plan.first_day[i])
            young = 5 + int(pop.st_grade[i]) + int(pop.st_overage[i]) < att.YOUNG_AGE
            pid = int(pop.st_person[i])
            yield {
                "student_id": pop.student_id(i),
                "household_id": hh.household_id,
                "school_code": pop.schools[info.school].code,
                "grade": info.grade,
                "class_name": info.name,
                "full_name": person.full_name,
                "sex": "F" if person.female else "M",
                "birth_date": person.birth.isoformat(),
                "personal_id": person.personal_id,
                "id_known_to_school": "yes" if pop.st_id_known[i] else "no",
                "ethnicity": hh.ethnicity,
                "commune": hh.commune,
                "village": hh.village,
                "father_name": pop.persons[hh.father].full_name if hh.father >= 0 else "",
                "mother_name": pop.persons[hh.mother].full_name if hh.mother >= 0 else "",
                "household_head": pop.persons[hh.head].full_name,
                "police_registered": "yes" if pop.st_registered[i] else "no",
                "dropout_first_day": _iso(d0),
                "dropout_period": att.PERIODS[int(plan.period[i])] if d0 else "",
                "returned_on": _iso(int(plan.returned[i])),
                "reason": att.REASONS[int(plan.reason[i])] if d0 else "",
                "left_locality": "yes" if plan.left[i] else "no",
                "left_on": _iso(int(plan.left_on[i])),
                "police_recorded_on": _iso(int(plan.police_knew_on[i])),
                "residence_status": residence_on(registry, plan, int(pop.st_person[i]), i, last_friday),
                "destination": plan.school_text[i],
                "destination_kind": att.destination_kind(plan, i),
                "workplace_kind": att.workplace_kind(plan, i, young),
                # What the system can know: the school writes nơi đến for a listed dropout when it
                # knows it; the police record a workplace for some of those who left.
                "destination_written": "yes" if d0 and destination_known[i] and plan.school_text[i] else "no",
                "police_workplace": "yes"
                if plan.left[i]
                and plan.destination[i] >= 0
                and registry.u[pid][8] < 0.6
                and pop.year.start.year - person.birth.year >= att.YOUNG_AGE
                and att.DESTINATIONS[plan.destination[i]][1]
                else "no",
            }

    # Streamed: at province scale a list of a quarter million dicts would dominate memory.
    _write_csv(truth_dir / "students.csv", STUDENT_COLUMNS, student_rows())


FILE_COLUMNS = [
    "path",
    "school_code",
    "week_ending",
    "attempt",
    "expected_outcome",
    "mistake_kind",
    "mistake_sheet",
    "mistake_column",
    "mistake_row",
    "file_time",
    "file_mtime",
]
SUBMISSION_COLUMNS = [
    "week_ending",
    "school_code",
    "expected_status",
    "received_at",
    "accepted_files",
    "rejected_files",
]
ATTENDANCE_COLUMNS = [
    "week_ending",
    "school_code",
    "level",
    "grade",
    "classes",
    "enrolled",
    "student_days_scheduled",
    "absent_excused",
    "absent_unexcused",
    "in_accepted_file",
]
CASE_COLUMNS = [
    "week_ending",
    "school_code",
    "student_id",
    "status",
    "first_day_missed",
    "sessions_missed",
    "in_accepted_file",
]
POLICE_TRUTH_COLUMNS = [
    "student_id",
    "school_code",
    "commune",
    "first_listed_week",
    "statuses_seen",
    "last_listed_week",
    "last_status",
    "round",
    "police_file",
    "police_row",
    "police_status",
]
STUDENT_COLUMNS = [
    "student_id",
    "household_id",
    "school_code",
    "grade",
    "class_name",
    "full_name",
    "sex",
    "birth_date",
    "personal_id",
    "id_known_to_school",
    "ethnicity",
    "commune",
    "village",
    "father_name",
    "mother_name",
    "household_head",
    "police_registered",
    "dropout_first_day",
    "dropout_period",
    "returned_on",
    "reason",
    "left_locality",
    "left_on",
    "police_recorded_on",
    "residence_status",
    "destination",
    "destination_kind",
    "workplace_kind",
    "destination_written",
    "police_workplace",
]
