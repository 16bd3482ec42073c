"""Broken files of the kinds people really make, one mistake per file.

Each function changes a copy of a file's content so that exactly one contract rule breaks, and
says where (sheet, column key, data row); it returns None when the content gives it nothing to
break (no student listed, no date with a day above 12 ...) and the caller tries another kind.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET, Sheet, status_code
from chuyencan.core.reference import School
from chuyencan_dev.synth.workbooks import Table, WorkbookContent

KINDS = (
    "percent_attendance",
    "missing_column",
    "text_in_number",
    "duplicate_class",
    "wrong_school_code",
    "absences_over_capacity",
    "date_mmdd",
    "missing_first_day",
    "week_not_friday",
    "invalid_personal_id",
    "unknown_status",
    "grade_out_of_range",
)

NUMBER_WORDS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười")
UNKNOWN_STATUSES = ("Nghỉ ốm", "Chuyển trường", "Ốm dài ngày", "Đi làm", "Nghỉ học tạm thời", "Vắng")
if any(status_code(s) for s in UNKNOWN_STATUSES):
    raise RuntimeError("an 'unknown' status is accepted by the contract; pick another")


@dataclass(frozen=True)
class Mistake:
    kind: str
    sheet: str  # the contract's sheet name
    column: str  # the contract's column key
    row: int | None  # data row index in the table; None for the header (a missing column)


@dataclass
class _Ctx:
    content: WorkbookContent
    school: School
    other_codes: list[str]
    rng: random.Random

    @property
    def classes(self) -> Table:
        return self.content.table(CLASS_SHEET)

    @property
    def students(self) -> Table:
        return self.content.table(STUDENT_SHEET)


def _mistake(kind: str, sheet: Sheet, name: str, row: int | None) -> Mistake:
    return Mistake(kind, sheet.name, sheet.column(name).key, row)


def _percent(ctx: _Ctx) -> Mistake | None:
    """Someone typed the absence rate (in %) in the absence columns."""
    rows = ctx.classes.rows
    if not rows:
        return None
    cols = ("absent_excused", "absent_unexcused")
    pct = [
        {
            c: round(100 * r[c] / (r["enrolled"] * r["school_days"]), 1)
            if r["enrolled"] * r["school_days"]
            else 0.0
            for c in cols
        }
        for r in rows
    ]
    as_float = any(p[c] != int(p[c]) for p in pct for c in cols) and all(
        p[cols[0]] + p[cols[1]] <= r["enrolled"] * r["school_days"] for p, r in zip(pct, rows, strict=True)
    )
    if as_float and ctx.rng.random() < 0.5:
        for r, p in zip(rows, pct, strict=True):
            r.update(p)
        first = next(i for i, p in enumerate(pct) if any(p[c] != int(p[c]) for c in cols))
        col = next(c for c in cols if pct[first][c] != int(pct[first][c]))
        return _mistake("percent_attendance", CLASS_SHEET, col, first)
    for r, p in zip(rows, pct, strict=True):
        for c in cols:
            r[c] = f"{p[c]:.1f}%".replace(".", ",")
    return _mistake("percent_attendance", CLASS_SHEET, cols[0], 0)


def _missing_column(ctx: _Ctx) -> Mistake | None:
    if ctx.students.rows and ctx.rng.random() < 0.4:
        table, name = (
            ctx.students,
            ctx.rng.choice(("birth_date", "status", "sex", "sessions_missed", "full_name")),
        )
    else:
        table, name = (
            ctx.classes,
            ctx.rng.choice(("grade", "enrolled", "school_days", "absent_excused", "absent_unexcused")),
        )
    table.columns.remove(name)
    for r in table.rows:
        r.pop(name, None)
    return _mistake("missing_column", table.sheet, name, None)


def _text_in_number(ctx: _Ctx) -> Mistake | None:
    rows = ctx.classes.rows
    candidates = [
        (i, c) for i, r in enumerate(rows) for c in ("absent_excused", "absent_unexcused") if 1 <= r[c] <= 10
    ]
    if candidates:
        i, col = ctx.rng.choice(candidates)
    elif rows:
        i, col = ctx.rng.randrange(len(rows)), "school_days"
    else:
        return None
    rows[i][col] = NUMBER_WORDS[rows[i][col]]
    return _mistake("text_in_number", CLASS_SHEET, col, i)


def _duplicate_class(ctx: _Ctx) -> Mistake | None:
    rows = ctx.classes.rows
    if len(rows) < 2:
        return None
    by_grade: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_grade.setdefault(r["grade"], []).append(i)
    pairs = [g for g in by_grade.values() if len(g) >= 2]
    first, second = ctx.rng.choice(pairs)[:2] if pairs else (0, 1)
    rows[second]["class_name"] = rows[first]["class_name"]
    return _mistake("duplicate_class", CLASS_SHEET, "class_name", second)


def _wrong_school_code(ctx: _Ctx) -> Mistake | None:
    rows = ctx.classes.rows
    if not rows:
        return None
    code = ctx.school.code
    others = [c for c in ctx.other_codes if c != code]
    if others and ctx.rng.random() < 0.6:
        wrong = ctx.rng.choice(others)  # copied the neighbouring school's file
    else:
        wrong = code[:-1] + ("1" if code[-1] != "1" else "2")
    i = ctx.rng.randrange(len(rows))
    rows[i]["school_code"] = wrong
    return _mistake("wrong_school_code", CLASS_SHEET, "school_code", i)


def _over_capacity(ctx: _Ctx) -> Mistake | None:
    rows = ctx.classes.rows
    options = [i for i, r in enumerate(rows) if r["enrolled"] * r["school_days"] > 0]
    if not options:
        return None
    i = ctx.rng.choice(options)
    r = rows[i]
    r["absent_unexcused"] = r["enrolled"] * r["school_days"] - r["absent_excused"] + ctx.rng.randint(1, 15)
    return _mistake("absences_over_capacity", CLASS_SHEET, "absent_unexcused", i)


def _us_date(day: date) -> str:
    return f"{day:%m/%d/%Y}"


def _date_mmdd(ctx: _Ctx) -> Mistake | None:
    """A date typed month first (03/14/2025): with a day above 12 it cannot be a dd/mm date."""
    week = ctx.content.week
    if week.day > 12 and ctx.classes.rows:
        for r in ctx.classes.rows:
            r["week_ending"] = _us_date(week)
        return _mistake("date_mmdd", CLASS_SHEET, "week_ending", 0)
    for name in ("birth_date", "first_day_missed"):
        rows = [i for i, r in enumerate(ctx.students.rows) if isinstance(r[name], date) and r[name].day > 12]
        if rows:
            i = ctx.rng.choice(rows)
            ctx.students.rows[i][name] = _us_date(ctx.students.rows[i][name])
            return _mistake("date_mmdd", STUDENT_SHEET, name, i)
    return None


def _missing_first_day(ctx: _Ctx) -> Mistake | None:
    rows = [i for i, r in enumerate(ctx.students.rows) if status_code(r["status"]) == "bo_hoc"]
    if not rows:
        return None
    i = ctx.rng.choice(rows)
    ctx.students.rows[i]["first_day_missed"] = None
    return _mistake("missing_first_day", STUDENT_SHEET, "first_day_missed", i)


def _week_not_friday(ctx: _Ctx) -> Mistake | None:
    if not ctx.classes.rows:
        return None
    # The Monday that starts the week, or the Thursday/Saturday/Sunday around the Friday. An
    # earlier day only when no student's first missed day falls after it (that would be a
    # second broken rule).
    latest = max(
        (r["first_day_missed"] for r in ctx.students.rows if isinstance(r.get("first_day_missed"), date)),
        default=None,
    )
    shifts = [s for s in (-4, -1, 1, 2) if latest is None or latest <= ctx.content.week + timedelta(days=s)]
    wrong = ctx.content.week + timedelta(days=ctx.rng.choice(shifts))
    for r in ctx.classes.rows:
        r["week_ending"] = wrong
    return _mistake("week_not_friday", CLASS_SHEET, "week_ending", 0)


def _invalid_id(ctx: _Ctx) -> Mistake | None:
    rows = ctx.students.rows
    if not rows:
        return None
    with_id = [i for i, r in enumerate(rows) if r["personal_id"]]
    rng = ctx.rng
    if with_id:
        i = rng.choice(with_id)
        pid = rows[i]["personal_id"]
    else:
        i = rng.randrange(len(rows))
        born = rows[i]["birth_date"]
        female = rows[i]["sex"] != "Nam"
        pid = f"010{2 + int(female)}{born.year % 100:02d}{rng.randrange(10**6):06d}"
    variant = rng.choice(("short", "year", "sex"))
    if variant == "short":
        # A digit lost while copying from the birth certificate: 11 digits left. (An ID typed as
        # a number also shows 11 digits, but readers may rightly restore that leading zero.)
        cut = rng.randrange(6, 12)
        rows[i]["personal_id"] = pid[:cut] + pid[cut + 1 :]
    elif variant == "year":
        yy = (int(pid[4:6]) + rng.choice((-3, -2, -1, 1, 2, 3))) % 100
        rows[i]["personal_id"] = f"{pid[:4]}{yy:02d}{pid[6:]}"
    else:
        flipped = {"0": "1", "1": "0", "2": "3", "3": "2"}[pid[3]]
        rows[i]["personal_id"] = f"{pid[:3]}{flipped}{pid[4:]}"
    return _mistake("invalid_personal_id", STUDENT_SHEET, "personal_id", i)


def _unknown_status(ctx: _Ctx) -> Mistake | None:
    rows = ctx.students.rows
    if not rows:
        return None
    i = ctx.rng.randrange(len(rows))
    rows[i]["status"] = ctx.rng.choice(UNKNOWN_STATUSES)
    return _mistake("unknown_status", STUDENT_SHEET, "status", i)


def _grade_out_of_range(ctx: _Ctx) -> Mistake | None:
    school = ctx.school
    if school.grade_max < 12:
        wrong = school.grade_max + 1
    elif school.grade_min > 1:
        wrong = school.grade_min - 1
    else:
        return None
    listed = {r["class_name"] for r in ctx.students.rows}
    # A class with nobody on the student list, so the student rows stay consistent.
    options = [i for i, r in enumerate(ctx.classes.rows) if r["class_name"] not in listed]
    if not options:
        return None
    i = ctx.rng.choice(options)
    ctx.classes.rows[i]["grade"] = wrong
    return _mistake("grade_out_of_range", CLASS_SHEET, "grade", i)


_APPLY: dict[str, Callable[[_Ctx], Mistake | None]] = {
    "percent_attendance": _percent,
    "missing_column": _missing_column,
    "text_in_number": _text_in_number,
    "duplicate_class": _duplicate_class,
    "wrong_school_code": _wrong_school_code,
    "absences_over_capacity": _over_capacity,
    "date_mmdd": _date_mmdd,
    "missing_first_day": _missing_first_day,
    "week_not_friday": _week_not_friday,
    "invalid_personal_id": _invalid_id,
    "unknown_status": _unknown_status,
    "grade_out_of_range": _grade_out_of_range,
}


def break_file(
    content: WorkbookContent, kinds: list[str], school: School, other_codes: list[str], rng: random.Random
) -> tuple[WorkbookContent, Mistake]:
    """A copy of the content with the first applicable kind of mistake in it."""
    for kind in kinds:
        broken = content.copy()
        mistake = _APPLY[kind](_Ctx(broken, school, other_codes, rng))
        if mistake is not None:
            return broken, mistake
    raise ValueError("no mistake applies to this file")  # text_in_number always applies
