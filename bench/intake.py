"""One province-scale Friday through the intake, against a plain-pandas floor.

    .venv/bin/python bench/intake.py [--seed 11] [--week 2025-03-14] [--keep]

1. generates one week of files for ~700 schools (chuyencan_dev.synth, --scale province);
2. pipeline: inbox scan + hash -> read (calamine) -> validate (GX suites, one batch per sheet)
   -> load or quarantine into PostgreSQL, one transaction per file -> submission status;
3. floor, on the same files: read with calamine into pandas, the same rule families checked
   with vectorised pandas (required, ranges, sums, duplicates, codes), accepted rows
   bulk-inserted with COPY in one transaction;
and prints files/s for both and their ratio. Each side gets a fresh PostgreSQL database.
Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "devtools"))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_database(tag: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"chuyencan_bench_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_pipeline(inbox: Path, reference_dir: Path, url: str, work: Path) -> tuple[float, dict]:
    from chuyencan.core import warehouse as wh
    from chuyencan.core.reference import load_reference, write_reference
    from chuyencan.core.settings import Settings
    from chuyencan.submissions.collect import collect

    engine = wh.make_engine(url)
    wh.ensure_schema(engine)
    ref = load_reference(reference_dir)
    write_reference(engine, ref)
    settings = Settings(
        inbox=inbox, work_dir=work, warehouse_url=url, reference_dir=reference_dir, settle_seconds=0
    )
    start = time.perf_counter()
    result = collect(engine, ref, settings)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, result.summary()


# --- the floor: the same work with plain pandas ------------------------------------------------

_FOLD = re.compile(r"[^0-9a-z]+")


def _fold(value: object) -> str:
    from chuyencan.core.text import strip_diacritics

    return _FOLD.sub("", strip_diacritics(str(value)).lower())


def _sheet_frame(rows: list[list], keys: dict[str, str]) -> "pd.DataFrame":  # noqa: F821, UP037
    import pandas as pd

    for i, row in enumerate(rows[:30]):
        folded = [_fold(c) for c in row]
        hits = [keys.get(f) for f in folded]
        if sum(h is not None for h in hits) >= 3:
            cols = {j: h for j, h in enumerate(hits) if h is not None}
            body = [[r[j] if j < len(r) else None for j in cols] for r in rows[i + 1 :]]
            frame = pd.DataFrame(body, columns=list(cols.values()))
            frame = frame.loc[:, ~frame.columns.duplicated()].reindex(columns=sorted(set(keys.values())))
            return frame.replace("", None).dropna(how="all")
    return pd.DataFrame(columns=sorted(set(keys.values())))


def run_floor(inbox: Path, reference_dir: Path, url: str) -> tuple[float, dict]:
    import pandas as pd
    import psycopg
    import python_calamine as pc

    from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET, header_keys
    from chuyencan.core.reference import load_reference

    ref = load_reference(reference_dir)
    class_keys = {k: c.name for c in CLASS_SHEET.columns for k in header_keys(c)}
    student_keys = {k: c.name for c in STUDENT_SHEET.columns for k in header_keys(c)}
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE TABLE floor_class (file text, school_code text, week_ending date, grade int, class_name text,"
            " enrolled int, school_days int, absent_excused int, absent_unexcused int)"
        )
        conn.execute(
            "CREATE TABLE floor_student (file text, personal_id text, full_name text, birth_date date, sex text,"
            " grade int, class_name text, commune text, village text, status text, sessions_missed int)"
        )
    start = time.perf_counter()
    classes, students = [], []
    for path in sorted(inbox.rglob("*.xlsx")):
        wb = pc.CalamineWorkbook.from_path(str(path))
        names = {_fold(n): n for n in wb.sheet_names}
        c = _sheet_frame(
            wb.get_sheet_by_name(names["chuyencan"]).to_python(skip_empty_area=False), class_keys
        )
        s = _sheet_frame(
            wb.get_sheet_by_name(names["hocsinh"]).to_python(skip_empty_area=False), student_keys
        )
        c = c[c[["grade", "class_name", "enrolled"]].notna().any(axis=1)]
        classes.append(c.assign(file=str(path)))
        students.append(s.assign(file=str(path)))
    c = pd.concat(classes, ignore_index=True)
    s = pd.concat(students, ignore_index=True)
    for col in ("grade", "enrolled", "school_days", "absent_excused", "absent_unexcused"):
        c[col] = pd.to_numeric(c[col], errors="coerce")
    c["week_ending"] = pd.to_datetime(c["week_ending"], dayfirst=True, errors="coerce")
    s["birth_date"] = pd.to_datetime(s["birth_date"], dayfirst=True, errors="coerce")
    s["sessions_missed"] = pd.to_numeric(s["sessions_missed"], errors="coerce")
    s["grade"] = pd.to_numeric(s["grade"], errors="coerce")
    schools = {code: (sch.grade_min, sch.grade_max) for code, sch in ref.schools.items()}
    lo = c["school_code"].map(lambda x: schools.get(x, (None, None))[0])
    hi = c["school_code"].map(lambda x: schools.get(x, (None, None))[1])
    bad = (
        c[["school_code", "week_ending", "grade", "class_name", "enrolled", "school_days"]].isna().any(axis=1)
        | ~c["school_code"].isin(list(schools))
        | (c["week_ending"].dt.weekday != 4)
        | (c["grade"] < lo)
        | (c["grade"] > hi)
        | ~c["school_days"].between(0, 6)
        | (c["absent_excused"] < 0)
        | (c["absent_unexcused"] < 0)
        | (c["absent_excused"] + c["absent_unexcused"] > c["enrolled"] * c["school_days"])
        | (c[["grade", "enrolled", "school_days", "absent_excused", "absent_unexcused"]] % 1 != 0).any(axis=1)
        | c.duplicated(["file", "class_name"], keep=False)
        | (c.groupby("file")["school_code"].transform("nunique") > 1)
    )
    sbad = (
        s[["full_name", "birth_date", "sex", "grade", "class_name", "commune", "village", "status"]]
        .isna()
        .any(axis=1)
        | (s["sessions_missed"] < 0)
        | (s[["grade", "sessions_missed"]] % 1 != 0).any(axis=1)
        | ~s["grade"].between(1, 12)
        | (s["personal_id"].notna() & ~s["personal_id"].astype(str).str.fullmatch(r"\d{12}"))
    )
    rejected = set(c.loc[bad, "file"]) | set(s.loc[sbad, "file"])
    c_ok, s_ok = c[~c["file"].isin(rejected)].copy(), s[~s["file"].isin(rejected)].copy()
    for col in ("grade", "enrolled", "school_days", "absent_excused", "absent_unexcused"):
        c_ok[col] = c_ok[col].astype("Int64")
    for col in ("grade", "sessions_missed"):
        s_ok[col] = s_ok[col].astype("Int64")
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY floor_class (file, school_code, week_ending, grade, class_name, enrolled, school_days,"
            " absent_excused, absent_unexcused) FROM STDIN"
        ) as copy:
            for row in c_ok[
                [
                    "file",
                    "school_code",
                    "week_ending",
                    "grade",
                    "class_name",
                    "enrolled",
                    "school_days",
                    "absent_excused",
                    "absent_unexcused",
                ]
            ].itertuples(index=False):
                copy.write_row([None if pd.isna(v) else v for v in row])
        with cur.copy(
            "COPY floor_student (file, personal_id, full_name, birth_date, sex, grade, class_name, commune,"
            " village, status, sessions_missed) FROM STDIN"
        ) as copy:
            for row in s_ok[
                [
                    "file",
                    "personal_id",
                    "full_name",
                    "birth_date",
                    "sex",
                    "grade",
                    "class_name",
                    "commune",
                    "village",
                    "status",
                    "sessions_missed",
                ]
            ].itertuples(index=False):
                copy.write_row([None if pd.isna(v) else v for v in row])
    elapsed = time.perf_counter() - start
    files = c["file"].nunique()
    return elapsed, {
        "files": files,
        "rejected": len(rejected),
        "class_rows": len(c_ok),
        "student_rows": len(s_ok),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--week", type=date.fromisoformat, default=date(2025, 3, 14))
    parser.add_argument("--keep", action="store_true", help="keep the generated files and databases")
    args = parser.parse_args()

    from chuyencan_dev.synth import generate

    tmp = Path(tempfile.mkdtemp(prefix="chuyencan-bench-"))
    t0 = time.perf_counter()
    generate(tmp / "sample", seed=args.seed, scale="province", first_week=args.week, last_week=args.week)
    inbox, reference_dir = tmp / "sample" / "inbox", tmp / "sample" / "reference"
    files = sum(1 for _ in inbox.rglob("*.xlsx"))
    print(
        f"generated {files} school files for the week ending {args.week} in {time.perf_counter() - t0:.1f} s"
    )

    t0 = time.perf_counter()
    import great_expectations  # noqa: F401 - paid once per worker process; reported apart

    gx_import = time.perf_counter() - t0

    pipe_db, pipe_url = fresh_database("pipeline")
    floor_db, floor_url = fresh_database("floor")
    try:
        pipeline_s, pipeline_out = run_pipeline(inbox, reference_dir, pipe_url, tmp / "work")
        floor_s, floor_out = run_floor(inbox, reference_dir, floor_url)
    finally:
        if not args.keep:
            drop_database(pipe_db)
            drop_database(floor_db)
            shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"pipeline (scan+hash, read, GX validate, load/quarantine, status): {pipeline_s:6.1f} s "
        f"{files / pipeline_s:7.1f} files/s  {pipeline_out}"
    )
    print(
        f"floor    (calamine, vectorised pandas checks, COPY):             {floor_s:6.1f} s "
        f"{files / floor_s:7.1f} files/s  {floor_out}"
    )
    print(
        f"ratio pipeline/floor: {pipeline_s / floor_s:.2f}x   (GX import, once per process: {gx_import:.1f} s; "
        f"with it: {(pipeline_s + gx_import) / floor_s:.2f}x, {pipeline_s + gx_import:.1f} s)"
    )
    print("targets: whole Friday <= 60 s, within 3x of the floor")


if __name__ == "__main__":
    main()
