"""Check parsed workbooks against the GX suites in include/expectations.

GX has a fixed cost per validation, so all files of a run are stacked into one table per sheet
(with a `file_idx` column) and validated once; failures come back with their `file_idx` and
`source_row` and are mapped to the file, sheet, row and column the school sees.

Rules that need reference data or the calendar (is the school open that week, is the grade in
the school's range, is the week in a school year) are expressed as derived columns computed
here, and checked by ordinary expectations in the suites.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET, Sheet
from chuyencan.core.gx_suites import EXPECTATIONS_DIR, date_ordinals, suite_failures
from chuyencan.core.reference import Reference
from chuyencan.core.text import fold
from chuyencan.submissions.issues import Issue
from chuyencan.submissions.reader import ParsedWorkbook, read_workbook

log = logging.getLogger(__name__)

SUITES = {CLASS_SHEET.name: "school_classes.json", STUDENT_SHEET.name: "school_students.json"}


@dataclass
class CheckedFile:
    path: Path
    parsed: ParsedWorkbook
    issues: list[Issue] = field(default_factory=list)
    # The school and week most of its class rows name: the file's identity.
    school_code: str | None = None
    week_ending: date | None = None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def accepted(self) -> bool:
        return not self.errors

    @property
    def classes(self) -> pd.DataFrame | None:
        return self.parsed.frame(CLASS_SHEET)

    @property
    def students(self) -> pd.DataFrame | None:
        return self.parsed.frame(STUDENT_SHEET)

    def records(self, sheet: Sheet) -> list[dict[str, Any]]:
        data = self.parsed.sheets.get(sheet.name)
        return [] if data is None else data.records


def check_workbooks(
    paths: list[Path],
    ref: Reference,
    *,
    today: date | None = None,
    usual_rates: dict[str, float] | None = None,
    attendance_drop: float = 0.20,
    usual_enrolment: dict[tuple[str, str], int] | None = None,
) -> list[CheckedFile]:
    """Read and check files; `today` bounds 'week in the future' (default: the real today)."""
    return check_parsed(
        [read_workbook(p) for p in paths],
        ref,
        today=today,
        usual_rates=usual_rates,
        attendance_drop=attendance_drop,
        usual_enrolment=usual_enrolment,
    )


def check_parsed(
    parsed: list[ParsedWorkbook],
    ref: Reference,
    *,
    today: date | None = None,
    usual_rates: dict[str, float] | None = None,
    attendance_drop: float = 0.20,
    usual_enrolment: dict[tuple[str, str], int] | None = None,
    dropouts_elsewhere: dict[str, str] | None = None,
) -> list[CheckedFile]:
    """`usual_enrolment`: (school, folded class name) -> the class's enrolment in the school's
    latest accepted file, the yardstick for 'sĩ số far off'. `dropouts_elsewhere`: personal ID
    -> the school whose latest list has that child as a dropout."""
    checked = [CheckedFile(path=p.path, parsed=p, issues=list(p.issues)) for p in parsed]
    today = today or date.today()
    readable = [c for c in checked if c.parsed.readable]
    classes = _stack(readable, CLASS_SHEET)
    students = _stack(readable, STUDENT_SHEET)
    file_meta = _file_meta(classes)
    for idx, c in enumerate(readable):
        if idx in file_meta.index:
            code, c.week_ending = file_meta.at[idx, "file_school"], file_meta.at[idx, "file_week"]
            # The file's identity names folders and goes into the warehouse: only a code of the
            # reference data, never whatever text the school typed (a name, '../..').
            c.school_code = code if isinstance(code, str) and ref.school(code) is not None else None
    classes = _derive_classes(classes, file_meta, ref, usual_rates or {}, attendance_drop)
    classes = _derive_enrolment(classes, usual_enrolment or {})
    students = _derive_students(students, ref, file_meta, classes)
    students = _derive_elsewhere(students, dropouts_elsewhere or {})
    params = {
        "known_schools": sorted(ref.schools),
        "latest_week_ord": (today.toordinal() + 6),
    }
    for sheet, frame in ((CLASS_SHEET, classes), (STUDENT_SHEET, students)):
        if frame.empty:
            continue
        for file_idx, issue in _run_suite(sheet, frame, params):
            readable[file_idx].issues.append(issue)
    for c in checked:
        c.issues = _in_reading_order(_with_class_names(c), _dedupe(c.issues))
    return checked


def _with_class_names(checked: CheckedFile) -> dict[tuple[str, int], str]:
    names: dict[tuple[str, int], str] = {}
    for sheet in (CLASS_SHEET, STUDENT_SHEET):
        frame = checked.parsed.frame(sheet)
        if frame is not None and not frame.empty:
            for row, name in zip(frame["source_row"], frame["class_name"], strict=True):
                if isinstance(name, str):
                    names[(sheet.name, int(row))] = name
    return names


def _in_reading_order(class_names: dict[tuple[str, int], str], issues: list[Issue]) -> list[Issue]:
    """File-level problems first, then sheet by sheet, row by row, column by column: the order
    in which the school will go through its file. Cell problems the reader found get the row's
    class so the school can find the row without personal data."""
    sheet_order = {CLASS_SHEET.name: 0, STUDENT_SHEET.name: 1}
    column_order = {(s.name, c.key): i for s in (CLASS_SHEET, STUDENT_SHEET) for i, c in enumerate(s.columns)}
    out = [
        replace(i, class_name=class_names.get((i.sheet, i.row)))
        if i.class_name is None and i.sheet is not None and i.row
        else i
        for i in issues
    ]
    return sorted(
        out,
        key=lambda i: (
            i.severity != "error",
            i.row is not None,
            sheet_order.get(i.sheet or "", -1),
            i.row or 0,
            column_order.get((i.sheet or "", i.column or ""), 99),
        ),
    )


def _stack(files: list[CheckedFile], sheet: Sheet) -> pd.DataFrame:
    frames = []
    for idx, c in enumerate(files):
        frame = c.parsed.frame(sheet)
        if frame is not None and not frame.empty:
            frames.append(frame.assign(file_idx=idx))
    if not frames:
        return pd.DataFrame(columns=["file_idx", "source_row", *sheet.names])
    return pd.concat(frames, ignore_index=True)


def _file_meta(classes: pd.DataFrame) -> pd.DataFrame:
    """Per file: the school and week most of its rows name (ties: the first row's)."""
    out = pd.DataFrame(index=pd.Index(sorted(set(classes["file_idx"])), name="file_idx"))
    for column, name in (("school_code", "file_school"), ("week_ending", "file_week")):
        counted = (
            classes.dropna(subset=[column])
            .groupby(["file_idx", column], sort=False)
            .agg(n=("source_row", "size"), first=("source_row", "min"))
            .reset_index()
            .sort_values(["file_idx", "n", "first"], ascending=[True, False, True])
            .drop_duplicates("file_idx")
            .set_index("file_idx")
        )
        out[name] = counted[column].reindex(out.index).astype(object)
    return out.where(out.notna(), None)


def _school_attr(ref: Reference, codes: pd.Series, attr: str) -> pd.Series:
    def get(code: Any) -> Any:
        school = ref.school(code) if isinstance(code, str) else None
        return np.nan if school is None else getattr(school, attr)

    return codes.map(get)


def _derive_classes(
    classes: pd.DataFrame, meta: pd.DataFrame, ref: Reference, usual_rates: dict[str, float], drop: float
) -> pd.DataFrame:
    if classes.empty:
        return classes
    df = classes.copy()
    df["file_school"] = df["file_idx"].map(meta["file_school"])
    df["week_ord"] = date_ordinals(df["week_ending"])
    df["file_week_ord"] = date_ordinals(df["file_idx"].map(meta["file_week"]))
    df["week_weekday"] = df["week_ending"].map(lambda d: d.weekday() if isinstance(d, date) else None)
    df["week_in_school_year"] = df["week_ending"].map(
        lambda d: (
            (ref.school_year_of(d) is not None and ref.school_year_of(d).start <= d)  # type: ignore[union-attr]
            if isinstance(d, date) and d.weekday() == 4
            else None
        )
    )

    def active(row: pd.Series) -> Any:
        school = ref.school(row["school_code"]) if isinstance(row["school_code"], str) else None
        week = row["week_ending"]
        if school is None or not isinstance(week, date):
            return None
        return school.active_on(week)

    df["school_active"] = df[["school_code", "week_ending"]].apply(active, axis=1)
    df["grade_min"] = _school_attr(ref, df["file_school"], "grade_min")
    df["grade_max"] = _school_attr(ref, df["file_school"], "grade_max")
    df["class_key"] = df["class_name"].map(lambda v: fold(v) if isinstance(v, str) else None)
    num = df[["enrolled", "school_days", "absent_excused", "absent_unexcused"]].apply(
        pd.to_numeric, errors="coerce"
    )
    # Out-of-range inputs already have their own error; a product of them would only repeat it.
    num = num.where(num.ge(0))
    num["school_days"] = num["school_days"].where(num["school_days"].le(6))
    df["absent_total"] = num["absent_excused"] + num["absent_unexcused"]
    df["capacity"] = num["enrolled"] * num["school_days"]

    def calendar_days(day: Any) -> float:
        # Only for a week that is itself right (a Friday inside a school year); a week in a
        # break counts 0 school days.
        if not isinstance(day, date) or day.weekday() != 4:
            return np.nan
        year = ref.school_year_of(day)
        if year is None or not (year.start <= day <= year.end + timedelta(days=6)):
            return np.nan
        return float(ref.school_weeks.get(day, (None, 0))[1])

    df["calendar_days"] = df["week_ending"].map(calendar_days)
    rate = 1 - df["absent_total"] / df["capacity"].where(df["capacity"] > 0)
    df["attendance_rate"] = rate
    df["attendance_pct"] = rate.map(lambda r: f"{r:.0%}" if pd.notna(r) else None)
    usual = df["file_school"].map(lambda s: usual_rates.get(s, np.nan) if isinstance(s, str) else np.nan)
    df["usual_rate_floor"] = usual - drop
    df["usual_pct"] = usual.map(lambda r: f"{r:.0%}" if pd.notna(r) else None)
    return df


# Sĩ số this far from the class's last reported one is probably a slip (a digit too many or too
# few); a class really changes by a few students a week, not by half.
ENROLMENT_TOLERANCE_SHARE = 0.5
ENROLMENT_TOLERANCE_MIN = 10


def _derive_enrolment(classes: pd.DataFrame, usual: dict[tuple[str, str], int]) -> pd.DataFrame:
    if classes.empty:
        return classes
    df = classes.copy()
    df["usual_enrolled"] = [
        usual.get((school, key), np.nan) if isinstance(school, str) and isinstance(key, str) else np.nan
        for school, key in zip(df["file_school"], df["class_key"], strict=True)
    ]
    margin = (df["usual_enrolled"] * ENROLMENT_TOLERANCE_SHARE).clip(lower=ENROLMENT_TOLERANCE_MIN)
    df["enrolled_floor"] = df["usual_enrolled"] - margin
    df["enrolled_ceiling"] = df["usual_enrolled"] + margin
    return df


def _derive_students(
    students: pd.DataFrame, ref: Reference, file_meta: pd.DataFrame, classes: pd.DataFrame
) -> pd.DataFrame:
    if students.empty:
        return students
    df = students.copy()
    df["file_school"] = df["file_idx"].map(file_meta["file_school"]) if not file_meta.empty else None
    week = (
        df["file_idx"].map(file_meta["file_week"]) if not file_meta.empty else pd.Series(None, index=df.index)
    )
    df["week_ord"] = date_ordinals(week)
    df["grade_min"] = _school_attr(ref, df["file_school"], "grade_min")
    df["grade_max"] = _school_attr(ref, df["file_school"], "grade_max")
    df["school_kind"] = _school_attr(ref, df["file_school"], "kind").fillna("")
    df["birth_ord"] = date_ordinals(df["birth_date"])
    so_far = {wk: _sessions_so_far(ref, wk) for wk in set(week) if isinstance(wk, date)}
    df["max_sessions"] = week.map(lambda wk: so_far.get(wk, np.nan) if isinstance(wk, date) else np.nan)
    df["missed_ord"] = date_ordinals(df["first_day_missed"])
    df["name_key"] = df["full_name"].map(lambda v: fold(v) if isinstance(v, str) else None)

    def id_code(pid: Any) -> Any:
        return pid[3:6] if isinstance(pid, str) and len(pid) == 12 and pid.isdigit() else None

    def expected_code(row: pd.Series) -> Any:
        born, sex = row["birth_date"], row["sex"]
        if not isinstance(born, date) or sex not in ("M", "F"):
            return None
        century = (born.year // 100) - 19  # 1900s -> 0, 2000s -> 1 …
        return f"{2 * century + (sex == 'F')}{born.year % 100:02d}"

    df["id_birth_code"] = df["personal_id"].map(id_code)
    df["expected_id_birth_code"] = df[["birth_date", "sex"]].apply(expected_code, axis=1)

    def age_offset(row: pd.Series) -> Any:
        born, grade, wk = row["birth_date"], row["grade"], row["_week"]
        if not isinstance(born, date) or not isinstance(grade, int | float) or not isinstance(wk, date):
            return np.nan
        year = ref.school_year_of(wk)
        start_year = year.start.year if year is not None else (wk.year if wk.month >= 8 else wk.year - 1)
        return float(start_year - born.year - grade)

    df["_week"] = week
    df["age_offset"] = df[["birth_date", "grade", "_week"]].apply(age_offset, axis=1)

    def commune_known(row: pd.Series) -> Any:
        name, wk = row["commune"], row["_week"]
        if not isinstance(name, str):
            return None
        return ref.resolve_commune(name, wk if isinstance(wk, date) else date.today()) is not None

    df["commune_known"] = df[["commune", "_week"]].apply(commune_known, axis=1)
    known_classes = (
        set(zip(classes["file_idx"], classes["class_key"], strict=True)) if not classes.empty else set()
    )
    df["class_in_file"] = [
        (idx, fold(name)) in known_classes if isinstance(name, str) else None
        for idx, name in zip(df["file_idx"], df["class_name"], strict=True)
    ]
    return df.drop(columns=["_week"])


SESSIONS_PER_DAY = 2  # morning and afternoon


def _sessions_so_far(ref: Reference, week: Any) -> float:
    """The most sessions a student can have missed this school year by the file's week."""
    if not isinstance(week, date):
        return np.nan
    year = ref.school_year_of(week)
    if year is None or not (year.start <= week <= year.end + timedelta(days=6)):
        return np.nan  # a week outside the school year has its own error
    days = sum(d for friday, (name, d) in ref.school_weeks.items() if name == year.name and friday <= week)
    return float(SESSIONS_PER_DAY * days)


def _derive_elsewhere(students: pd.DataFrame, elsewhere: dict[str, str]) -> pd.DataFrame:
    """Another school whose latest accepted list has the same child (same personal ID) as a
    dropout. Files of one run are not compared with each other: test and sample data reuse
    children across schools, and the district totals count such a child once anyway."""
    if students.empty:
        return students
    df = students.copy()
    df["elsewhere_school"] = [
        other if status == "bo_hoc" and isinstance(other, str) and other != school else None
        for status, school, other in zip(
            df["status"],
            df["file_school"],
            df["personal_id"].map(lambda p: elsewhere.get(p) if isinstance(p, str) else None),
            strict=True,
        )
    ]
    return df


@cache
def load_suite_json(sheet_name: str) -> dict[str, Any]:
    with (EXPECTATIONS_DIR / SUITES[sheet_name]).open(encoding="utf-8") as fh:
        suite: dict[str, Any] = json.load(fh)
    return suite


def _run_suite(sheet: Sheet, frame: pd.DataFrame, params: dict[str, Any]) -> list[tuple[int, Issue]]:
    out: list[tuple[int, Issue]] = []
    for failure in suite_failures(load_suite_json(sheet.name), frame, params):
        meta = failure.meta
        value_col = meta.get("value_column") or _column_name(sheet, meta["column"])
        issue = Issue(
            severity=meta.get("severity", "error"),
            rule=meta["rule"],
            sheet=sheet.name,
            row=failure.row,
            column=meta["column"],
            value=failure.value(value_col),
            class_name=failure.value("class_name"),
            params=failure.params(),
        )
        out.append((failure.file_idx, issue))
    return out


def _column_name(sheet: Sheet, key: str) -> str:
    for col in sheet.columns:
        if col.key == key:
            return col.name
    return key


def _dedupe(issues: list[Issue]) -> list[Issue]:
    """One issue per cell: a cell the reader could not parse is not also 'required'."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for issue in issues:
        key = (issue.sheet, issue.row, issue.column, issue.severity)
        if issue.row is not None and key in seen:
            continue
        if issue.row is not None:
            seen.add(key)
        out.append(issue)
    return out
