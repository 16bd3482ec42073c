"""The merged province after the reform on PostgreSQL: a Friday's intake and a report date.

    .venv/bin/python bench/province.py [--seed 11] [--report-date 2025-10-17] [--sample DIR] [--keep]

1. generates the fortnight ending on the report date (two school weeks of 2025-26) twice with
   chuyencan_dev.synth: `--scale province` (the merged Lào Cai province, ~1,200 schools, its own
   reference directory) and `--scale district` (Bát Xát's 14 schools, the shipped reference);
   `--sample DIR` reuses (or writes once) the province's sample there;
2. (a) a Friday: the files the schools had dropped by the first Friday's weekly run (11:00)
   through the weekly intake (what the weekly DAG runs: collect_new_files, then close_week),
   province and district, each on a fresh PostgreSQL database with one process; prints
   seconds, files/s and the ratio province/district;
3. (b) the report date: the commune police's extracts (each commune's latest) loaded first (their
   own DAG loads them as they arrive; timed apart), the files dropped since (late ones of the first week, the second
   week's by the report's time, 13:30) into the same inbox, then the whole
   fortnightly sequence (`chuyencan.orchestration.fortnight.FORTNIGHT_STEPS`, what the
   fortnightly DAG runs: sweep, statuses, police reconciliation, early warning, then every
   reporting unit's summary, Excel and email (a per-unit step's time is that of all its units),
   principals' lists, communes' verification lists), timed step by step, for both, and their ratio.
Numbers are printed, never asserted. Targets: Friday <= 60 s, report date <= 5 min, one worker.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "devtools"))

from intake import drop_database, fresh_database  # noqa: E402 - bench/ is on the path


@dataclass
class Scale:
    """One side of the comparison: its sample, database and timings."""

    name: str  # "province" or "district"
    sample: Path
    reference_dir: Path
    work: Path
    database: str = ""
    url: str = ""
    friday_files: int = 0
    friday_seconds: float = 0.0
    report_files: int = 0
    report_seconds: float = 0.0
    police_seconds: float = 0.0


def sample(scale: str, out: Path, seed: int, report_date: date) -> Path:
    """The generated fortnight (reused when `out` already holds it)."""
    from chuyencan_dev.synth import generate

    if (out / "truth" / "files.csv").is_file():
        print(f"  {scale}: reusing {out}")
        return out
    started = time.perf_counter()
    s = generate(
        out, seed=seed, scale=scale, first_week=report_date - timedelta(days=7), last_week=report_date
    )
    print(
        f"  {scale}: {s.schools} schools, {s.students} students, {s.files} workbooks, "
        f"{s.police_files} police extracts, generated in {time.perf_counter() - started:.0f} s"
    )
    return out


def deliver(side: Scale, inbox: Path, until: datetime) -> int:
    """Copy into the inbox the files the schools had dropped by `until` (their file time, as
    truth/files.csv records it) and that are not there yet: late files wait for the next run."""
    count = 0
    with (side.sample / "truth" / "files.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            target = inbox / row["path"].removeprefix("inbox/")
            if int(row["file_mtime"]) > until.timestamp() or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(side.sample / row["path"], target)
            count += 1
    return count


def latest_extracts(side: Scale) -> int:
    """Each commune's latest police extract into the side's police inbox: a fortnight brings one
    round per commune (the sample writes two; the earlier one belongs to the previous fortnight)."""
    latest: dict[str, Path] = {}
    for path in sorted((side.sample / "police_inbox").iterdir()):
        latest[path.stem.rsplit("_", 1)[0]] = path  # sorted: a commune's later round comes last
    folder = side.work / "police_inbox"
    folder.mkdir(parents=True, exist_ok=True)
    for path in latest.values():
        shutil.copy2(path, folder / path.name)
    return len(latest)


def settings_for(side: Scale):  # -> chuyencan.core.settings.Settings
    from chuyencan.core.settings import Settings

    return Settings(
        inbox=side.work / "inbox",
        work_dir=side.work,
        warehouse_url=side.url,
        police_inbox=side.work / "police_inbox",
        district_emails=("pgd@example.org",),
        reference_dir=side.reference_dir,
        settle_seconds=0,
    )


def friday(side: Scale, week: date) -> None:
    """(a) The week's files through the weekly intake, after the weekly run's preparation."""
    from chuyencan.core.settings import TIMEZONE, weekly_run_time
    from chuyencan.submissions import pipeline

    settings = settings_for(side)
    now = datetime.combine(week, weekly_run_time(), tzinfo=TIMEZONE).astimezone(UTC)
    side.friday_files = deliver(side, settings.inbox, now)
    start = time.perf_counter()
    pipeline.prepare_warehouse(settings)
    prepared = time.perf_counter() - start
    start = time.perf_counter()
    collected = pipeline.collect_new_files(settings, now=now)
    collect_s = time.perf_counter() - start
    start = time.perf_counter()
    closed = pipeline.close_week(settings, week, now=now)
    close_s = time.perf_counter() - start
    side.friday_seconds = collect_s + close_s
    print(
        f"  {side.name:<8} {side.friday_files:5d} files: collect {collect_s:6.1f} s + close_week {close_s:5.1f} s "
        f"= {side.friday_seconds:6.1f} s ({side.friday_files / side.friday_seconds:5.1f} files/s; "
        f"prepare_warehouse {prepared:.1f} s before)"
    )
    print(
        f"           {_short(collected)}; statuses {_short(closed, 'on_time', 'late', 'missing', 'rejected')}"
    )


def report_date_run(side: Scale, report_date: date) -> None:
    """(b) The second week's files, then every step of the fortnightly sequence."""
    from chuyencan.core.settings import REPORT_TIME, TIMEZONE
    from chuyencan.orchestration.fortnight import FortnightRun, run_fortnight
    from chuyencan.police.pipeline import load_police_extracts

    settings = settings_for(side)
    now = datetime.combine(report_date, REPORT_TIME, tzinfo=TIMEZONE).astimezone(UTC)
    # The commune police's extracts come in through their own DAG (police_extract_intake, every
    # 30 minutes as they arrive), not at the report's time: loaded first, timed apart.
    latest_extracts(side)
    start = time.perf_counter()
    police = load_police_extracts(settings, now)
    side.police_seconds = time.perf_counter() - start
    side.report_files = deliver(side, settings.inbox, now)
    seconds: dict[str, float] = {}
    run_fortnight(FortnightRun(settings, report_date, now=now), seconds=seconds)
    side.report_seconds = sum(seconds.values())
    print(
        f"  {side.name}: police extracts beforehand {side.police_seconds:.1f} s "
        f"({_short(police, 'files_found', 'accepted', 'rejected', 'records', 'communes_with_extract')}); "
        f"then {side.report_files} new school files and the sequence, {side.report_seconds:.1f} s in all"
    )
    for step, s in seconds.items():
        print(f"    {step:<28} {s:7.2f} s")


def _short(result: dict[str, object], *keys: str) -> str:
    keys = keys or tuple(k for k, v in result.items() if isinstance(v, int | float))
    return ", ".join(f"{k} {result[k]}" for k in keys if k in result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--report-date", type=date.fromisoformat, default=date(2025, 10, 17))
    parser.add_argument("--sample", type=Path, help="where the province sample is kept (and reused)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    args = parser.parse_args()

    from chuyencan.core.settings import REFERENCE_DIR
    from chuyencan.report.calendar_periods import report_date_on_or_before
    from chuyencan.submissions.pipeline import engine_for

    if report_date_on_or_before(args.report_date) != args.report_date:
        parser.error(f"{args.report_date} is not a report Friday")
    tmp = Path(tempfile.mkdtemp(prefix="chuyencan-bench-province-"))
    print(f"1/3 the fortnight ending {args.report_date} (seed {args.seed})")
    province_sample = sample("province", args.sample or tmp / "province", args.seed, args.report_date)
    district_sample = sample("district", tmp / "district", args.seed, args.report_date)
    sides = [
        Scale("province", province_sample, province_sample / "reference", tmp / "work-province"),
        Scale("district", district_sample, REFERENCE_DIR, tmp / "work-district"),
    ]
    try:
        for side in sides:
            side.database, side.url = fresh_database(side.name)
        first_week = args.report_date - timedelta(days=7)
        print(f"2/3 (a) the Friday {first_week}: the weekly intake on PostgreSQL, one process")
        for side in sides:
            friday(side, first_week)
        province, district = sides
        print(
            f"  province/district: {province.friday_seconds / district.friday_seconds:.1f}x the time for "
            f"{province.friday_files / district.friday_files:.0f}x the files "
            f"({province.friday_seconds / province.friday_files * 1000:.0f} vs "
            f"{district.friday_seconds / district.friday_files * 1000:.0f} ms per file); target <= 60 s"
        )
        print(f"3/3 (b) the report date {args.report_date}: the fortnightly sequence on PostgreSQL")
        for side in sides:
            report_date_run(side, args.report_date)
        print(
            f"  province/district: {province.report_seconds / district.report_seconds:.1f}x "
            f"({province.report_seconds:.1f} s vs {district.report_seconds:.1f} s); target <= 300 s"
        )
    finally:
        engine_for.cache_clear()
        if args.keep:
            print(f"kept {tmp} and databases {', '.join(s.database for s in sides if s.database)}")
        else:
            for side in sides:
                if side.database:
                    drop_database(side.database)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
