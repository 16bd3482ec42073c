"""Publishing one fortnight at province scale on PostgreSQL: early warning, summary, Excel.

    .venv/bin/python bench/report.py [--seed 5] [--report-date 2025-05-16] [--keep]

1. a fresh PostgreSQL database with the province reference of chuyencan_dev.synth (~700 schools,
   ~150 communes) and a whole school year (38 weeks of 2024-25) written straight into the
   tables the collection step fills: submissions and their status, class attendance and
   report.attendance_weekly, each school's weekly student list (restricted.student_entry:
   dropouts that stay listed, students absent three days or more, the school's at-risk flags,
   returns), police verdicts for most dropouts. Generated with numpy, loaded with COPY;
   workbooks are not written (the intake has its own benchmark);
2. the fortnightly sequence (`chuyencan.orchestration.fortnight`, what the DAG runs) for one report date
   but its collection step, timed step by step, twice (the second run is the rerun of the same
   Friday, which replaces what the first wrote).
Numbers are printed, never asserted. Target: early warning + summary + Excel <= 30 s.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "devtools"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from intake import drop_database, fresh_database  # noqa: E402 - bench/ is on the path

TRACKED_PER_SCHOOL = 40  # students who appear on a school's lists at some point of the year
STATUS_SHARES = {"on_time": 0.86, "late": 0.07, "missing": 0.05, "rejected": 0.02}
REASONS = ["Kinh tế", "Đi làm ăn xa", "Tảo hôn", "Học lực", "Xa trường", "Gia đình", "Khác"]
REASON_CODES = ["kinh_te", "di_lam_an_xa", "tao_hon", "hoc_luc", "xa_truong", "gia_dinh", "khac"]
SKIPPED = frozenset({"collect_new_files"})
# The target covers early warning, the summary (with the calendar checks) and the Excel report.
CORE = ("flag_students_at_risk", "publish_fortnight_summary", "write_excel_report")


def copy_frame(engine: Any, table: str, frame: pd.DataFrame) -> None:
    """Bulk-load a DataFrame with COPY (CSV; empty fields are NULL)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    raw = engine.raw_connection()
    try:
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)") as cp,
        ):
            cp.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def generate(engine: Any, ref: Any, seed: int) -> dict[str, int]:
    """A school year for every active school, straight into the warehouse tables."""
    from chuyencan.core.settings import DEADLINE
    from chuyencan.report.calendar_periods import report_year

    rng = np.random.default_rng(seed)
    year = report_year(ref, date(2025, 5, 30))
    weeks = sorted((f, d) for f, (y, d) in ref.school_weeks.items() if y == year.name)
    fridays = [f for f, _ in weeks]
    days = np.array([d for _, d in weeks])
    n_weeks = len(weeks)
    schools = ref.active_schools(fridays[0])
    communes = sorted({c.name for c in ref.communes if c.valid_to is None})
    deadline_hour = DEADLINE.hour

    # --- submissions: a status per school-week; an accepted file for on_time and late ------------
    n_schools = len(schools)
    status = rng.choice(list(STATUS_SHARES), size=(n_schools, n_weeks), p=list(STATUS_SHARES.values()))
    sub_rows, cur_rows, status_rows = [], [], []
    submission_id = np.zeros((n_schools, n_weeks), dtype=np.int64)
    next_id = 1
    for i, school in enumerate(schools):
        for w, friday in enumerate(fridays):
            st = status[i, w]
            at = datetime(friday.year, friday.month, friday.day, deadline_hour, tzinfo=UTC) - timedelta(
                hours=int(rng.integers(10, 40)) if st != "late" else -int(rng.integers(3, 60))
            )
            if st == "missing":
                status_rows.append((friday, school.code, st, None, 0, 0))
                continue
            outcome = "rejected" if st == "rejected" else "accepted"
            sub_rows.append(
                (next_id, uuid.uuid4().hex * 2, f"{school.code}/{friday}.xlsx", 20000, at, at, school.code, friday,
                 outcome, 1 if outcome == "accepted" else None, 3 if outcome == "rejected" else 0, 0,
                 f"archive/{school.code}/{friday}.xlsx", None)
            )  # fmt: skip
            status_rows.append(
                (friday, school.code, st, at, int(outcome == "accepted"), 3 if outcome == "rejected" else 0)
            )
            if outcome == "accepted":
                cur_rows.append((school.code, friday, next_id))
                submission_id[i, w] = next_id
            next_id += 1
    submissions = pd.DataFrame(
        sub_rows,
        columns=["submission_id", "sha256", "inbox_path", "file_size", "received_at", "processed_at",
                 "school_code", "week_ending", "outcome", "version", "error_count", "warning_count",
                 "stored_path", "summary"],
    )  # fmt: skip
    submissions["version"] = submissions["version"].astype("Int64")
    copy_frame(engine, "ops.submission", submissions)
    copy_frame(
        engine,
        "ops.current_submission",
        pd.DataFrame(cur_rows, columns=["school_code", "week_ending", "submission_id"]),
    )
    copy_frame(
        engine,
        "report.submission_status",
        pd.DataFrame(
            status_rows,
            columns=["week_ending", "school_code", "status", "received_at", "version", "error_count"],
        ),
    )

    # --- classes and attendance -------------------------------------------------------------------
    class_rows = []
    for i, school in enumerate(schools):
        for grade in range(school.grade_min, school.grade_max + 1):
            for letter in "AB"[: int(rng.integers(1, 3))]:
                class_rows.append((i, school.code, grade, f"{grade}{letter}", int(rng.integers(28, 41))))
    classes = pd.DataFrame(class_rows, columns=["school", "school_code", "grade", "class_name", "enrolled"])
    att = classes.loc[classes.index.repeat(n_weeks)].reset_index(drop=True)
    att["w"] = np.tile(np.arange(n_weeks), len(classes))
    att["submission_id"] = submission_id[att["school"], att["w"]]
    att = att[att["submission_id"] > 0].copy()
    att["week_ending"] = [fridays[w] for w in att["w"]]
    att["school_days"] = days[att["w"]]
    capacity = att["enrolled"] * att["school_days"]
    att["absent_excused"] = rng.binomial(capacity, 0.010)
    att["absent_unexcused"] = rng.binomial(capacity, 0.008)
    att["source_row"] = att.groupby("submission_id").cumcount() + 5
    copy_frame(
        engine,
        "ops.class_attendance",
        att[["submission_id", "school_code", "week_ending", "grade", "class_name", "enrolled", "school_days",
             "absent_excused", "absent_unexcused", "source_row"]],
    )  # fmt: skip
    level = {
        g: lv for lv, lo, hi in (("TH", 1, 5), ("THCS", 6, 9), ("THPT", 10, 12)) for g in range(lo, hi + 1)
    }
    commune_of = {s.code: s.commune for s in schools}
    att["scheduled"] = capacity[att.index]
    weekly = att.groupby(["week_ending", "school_code", "grade"], as_index=False).agg(
        classes=("class_name", "size"),
        enrolled=("enrolled", "sum"),
        student_days_scheduled=("scheduled", "sum"),
        absent_excused=("absent_excused", "sum"),
        absent_unexcused=("absent_unexcused", "sum"),
    )
    weekly["commune"] = weekly["school_code"].map(commune_of)
    weekly["level"] = weekly["grade"].map(level)
    weekly["attendance_rate"] = (
        1 - (weekly["absent_excused"] + weekly["absent_unexcused"]) / weekly["student_days_scheduled"]
    )
    copy_frame(engine, "report.attendance_weekly", weekly)

    # --- the students each school lists over the year ----------------------------------------------
    n = n_schools * TRACKED_PER_SCHOOL
    school_of = np.repeat(np.arange(n_schools), TRACKED_PER_SCHOOL)
    gmin = np.array([s.grade_min for s in schools])[school_of]
    gmax = np.array([s.grade_max for s in schools])[school_of]
    grade = rng.integers(gmin, gmax + 1)
    home = np.array([s.commune or communes[int(rng.integers(len(communes)))] for s in schools], dtype=object)[
        school_of
    ]
    household = np.arange(n) // 2 * (rng.random(n) < 0.4) + (np.arange(n) + 10**6) * (rng.random(n) >= 0.4)
    drops = rng.random(n) < 0.22
    drop_week = np.where(drops, rng.integers(0, n_weeks, n), n_weeks + 1)
    summer = drops & (rng.random(n) < 0.15)
    drop_week[summer] = 0
    returns = drops & (rng.random(n) < 0.2)
    return_week = np.where(returns, np.minimum(drop_week + rng.integers(2, 8, n), n_weeks + 1), n_weeks + 1)
    chronic = rng.random(n) < 0.2
    flagged_from = np.where(rng.random(n) < 0.15, rng.integers(0, n_weeks, n), n_weeks + 1)

    wk = np.arange(n_weeks)[None, :]
    out = (wk >= drop_week[:, None]) & (wk < return_week[:, None])
    long_absence = np.where(chronic[:, None], rng.random((n, n_weeks)) < 0.3, rng.random((n, n_weeks)) < 0.01)
    sessions_week = np.where(
        out,
        2 * days[None, :],
        np.where(long_absence, rng.integers(6, 11, (n, n_weeks)), rng.binomial(2 * days[None, :], 0.01)),
    )
    # Some schools stop counting a dropout's sessions: the calendar checks warn them.
    frozen = drops & (rng.random(n) < 0.15)
    sessions_week[frozen[:, None] & out] = 0
    sessions = np.cumsum(sessions_week, axis=1)
    status_code = np.full((n, n_weeks), "", dtype=object)
    status_code[long_absence] = "vang_dai_ngay"
    status_code[wk >= flagged_from[:, None]] = "nguy_co"
    status_code[wk == return_week[:, None]] = "da_tro_lai"
    status_code[out] = "bo_hoc"
    listed = (status_code != "") & (submission_id[school_of] > 0)
    s_idx, w_idx = np.nonzero(listed)

    first_day = np.array([fridays[min(w, n_weeks - 1)] - timedelta(days=4) for w in drop_week], dtype=object)
    first_day[summer] = date(2024, 8, 15)
    reason = rng.integers(0, len(REASONS), n)
    entries = pd.DataFrame(
        {
            "submission_id": submission_id[school_of[s_idx], w_idx],
            "school_code": np.array([s.code for s in schools], dtype=object)[school_of[s_idx]],
            "week_ending": np.array(fridays, dtype=object)[w_idx],
            "student_key": [f"{k:032x}" for k in s_idx],
            "full_name": [f"Học Sinh {k}" for k in s_idx],
            "birth_date": [date(2019 - int(grade[k]), 1 + k % 12, 1 + k % 28) for k in s_idx],
            "sex": np.where(s_idx % 2 == 0, "M", "F"),
            "grade": grade[s_idx],
            "class_name": [f"{grade[k]}A" for k in s_idx],
            "commune": home[s_idx],
            "village": [f"Thôn {household[k] % 9}" for k in s_idx],
            "parent_name": [f"Phụ Huynh {household[k]}" for k in s_idx],
            "status": status_code[s_idx, w_idx],
            "first_day_missed": np.where(status_code[s_idx, w_idx] == "bo_hoc", first_day[s_idx], None),
            "sessions_missed": sessions[s_idx, w_idx],
            "reason_code": np.array(REASON_CODES, dtype=object)[reason[s_idx]],
            "reason_text": np.array(REASONS, dtype=object)[reason[s_idx]],
        }
    )
    entries["source_row"] = entries.groupby("submission_id").cumcount() + 5
    copy_frame(engine, "restricted.student_entry", entries)

    verdict_choice = rng.choice(
        ["left_locality", "in_locality", "ambiguous", "not_found", None],
        size=n,
        p=[0.3, 0.4, 0.05, 0.05, 0.2],
    )
    dropped = np.nonzero(drops & (verdict_choice != None))[0]  # noqa: E711 - numpy object array
    copy_frame(
        engine,
        "restricted.case_verdict",
        pd.DataFrame(
            {
                "student_key": [f"{k:032x}" for k in dropped],
                "school_code": np.array([s.code for s in schools], dtype=object)[school_of[dropped]],
                "verdict": verdict_choice[dropped],
                "decided_by": "auto",
                "decided_at": datetime(2025, 5, 1, tzinfo=UTC),
            }
        ),
    )
    with engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("ANALYZE"))
    return {
        "schools": n_schools,
        "weeks": n_weeks,
        "accepted_files": len(cur_rows),
        "class_rows": len(att),
        "student_rows": len(entries),
        "verdicts": len(dropped),
    }


def publish(settings: Any, report_date: date) -> dict[str, float]:
    """The fortnightly sequence as the DAG runs it, but collection (no workbooks here: the
    intake has its own benchmark); seconds per step."""
    from chuyencan.orchestration.fortnight import FortnightRun, run_fortnight

    seconds: dict[str, float] = {}
    out = run_fortnight(FortnightRun(settings, report_date), skip=SKIPPED, seconds=seconds)
    risk, summaries = out["flag_students_at_risk"], out["publish_fortnight_summary"]
    warned = out["check_dropout_lists"]["calendar_warnings"]
    # Units come each before its parent: the last one's report covers the whole area.
    top_unit = list(summaries)[-1]
    top = summaries[top_unit]
    print(
        f"  at risk {risk['at_risk']} of {risk['students_checked']} listed; {len(summaries)} unit reports, "
        f"summary rows {sum(s['rows'] for s in summaries.values())}, "
        f"open dropouts {top['dropouts_open']} ({top_unit}); calendar warnings {warned['warnings']} "
        f"({warned['schools']} schools); {out['write_school_risk_lists']['school_lists']} school lists; "
        f"report {Path(out['write_excel_report'][top_unit]['xlsx']).stat().st_size // 1024} kB"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--report-date", type=date.fromisoformat, default=date(2025, 5, 16))
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()

    from chuyencan.core import warehouse as wh
    from chuyencan.core.reference import load_reference, write_reference
    from chuyencan.core.settings import Settings
    from chuyencan_dev.synth.province import write_province_reference

    work = Path(tempfile.mkdtemp(prefix="chuyencan-bench-report-"))
    write_province_reference(work / "reference", args.seed)
    ref = load_reference(work / "reference")
    name, url = fresh_database("report")
    try:
        engine = wh.make_engine(url)
        wh.ensure_schema(engine)
        write_reference(engine, ref)
        start = time.perf_counter()
        counts = generate(engine, ref, args.seed)
        print(f"generated in {time.perf_counter() - start:.1f} s: {counts}")
        settings = replace(
            Settings(
                inbox=work / "inbox", work_dir=work, warehouse_url=url, reference_dir=work / "reference"
            ),
            district_emails=("pgd@example.org",),
        )
        for attempt in ("first run", "rerun"):
            print(f"{attempt}, report dated {args.report_date} on PostgreSQL:")
            times = publish(settings, args.report_date)
            for label, seconds in times.items():
                print(f"  {label:<26} {seconds:6.2f} s")
            core = sum(times[step] for step in CORE)
            print(
                f"  early warning + summary + Excel: {core:.2f} s (target <= 30 s); all steps {sum(times.values()):.2f} s"
            )
        engine.dispose()
    finally:
        from chuyencan.submissions.pipeline import engine_for

        engine_for.cache_clear()
        if args.keep:
            print(f"kept database {name} and {work}")
        else:
            drop_database(name)


if __name__ == "__main__":
    main()
