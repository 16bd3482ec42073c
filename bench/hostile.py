"""What the worst single input of each class costs the intake, and what it costs everybody else.

    .venv/bin/python bench/hostile.py [--seed 11] [--week 2025-03-14] [--tags 1000000]

1. one line per limit: the worst case of each class judged in a fresh child process (the
   intake's own read path: inbox scan, limits, reader), with its seconds and the child's peak
   memory next to the same child judging a good file (the interpreter's own floor):
   - far cell: one stray cell at XFD1048576 (a grid of 17 billion cells);
   - tag flood: a sheet ending in --tags unfinished `<c ` tags (quadratic for the old regex);
   - 2 GiB file: a sparse 2 GiB file named .xlsx (never read: refused on its size);
   - 1 GB CSV: a sparse 1 GiB police extract (likewise);
2. a district's week of school files collected into a fresh SQLite warehouse, without and
   then with all the hostile files in the inbox (fresh warehouse each), and the ratio.
Numbers are printed, never asserted. Hostile files are built in a temporary folder and deleted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "devtools"))
sys.path.insert(0, str(ROOT))

GIB = 1024**3

# Runs in a child: the judgement of one file by the intake's read path, then its peak memory.
CHILD = """
import json, resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, {plugins!r})
from chuyencan.core.inbox import POLICE_LIMITS, SCHOOL_LIMITS, scan
from chuyencan.police.reader import read_extract
from chuyencan.submissions.reader import read_workbook
police = {police!r}
inbox = Path({inbox!r})
start = time.perf_counter()
(found,) = scan(inbox, settle_seconds=0, limits=POLICE_LIMITS if police else SCHOOL_LIMITS)
if found.problem is not None:
    rules = [found.problem]
else:
    parsed = (read_extract if police else read_workbook)(found.path)
    rules = sorted({{i.rule for i in parsed.issues if i.severity == "error"}})
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "rules": rules,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def judge(inbox: Path, *, police: bool = False) -> dict:
    code = CHILD.format(plugins=str(ROOT / "plugins"), police=police, inbox=str(inbox))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=3600
    )
    if out.returncode != 0:
        return {"seconds": float("nan"), "rules": [f"child died ({out.returncode})"], "peak_mb": float("nan")}
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_cases(tmp: Path, tags: int) -> dict[str, tuple[Path, bool]]:
    """One inbox per case (school folder layout), each holding the one hostile file."""
    from tests.bad_input.hostile_cases import _before_sheet_data_end, _tag_flood, patch_zip
    from tests.bad_input.police_cases import csv_bytes, household
    from tests.bad_input.school_cases import good

    cases: dict[str, tuple[Path, bool]] = {}
    week = date(2025, 3, 14)

    def workbook(name: str, edit=None) -> Path:
        folder = tmp / name / "BX-AMS"
        folder.mkdir(parents=True)
        plain = good("BX-AMS", week).save(tmp / f"{name}.plain")
        if edit is None:
            shutil.move(plain, folder / "bao cao.xlsx")
        else:
            patch_zip(plain, folder / "bao cao.xlsx", {"xl/worksheets/sheet1.xml": edit}, {})
            plain.unlink()
        return tmp / name

    cases["good workbook (floor)"] = (workbook("good"), False)
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    cases["far cell XFD1048576"] = (workbook("far", _before_sheet_data_end(far)), False)
    cases[f"tag flood {tags:,} '<c '"] = (workbook("flood", _tag_flood(tags)), False)
    # The same flood in a shape that compresses like real XML (under the ratio limit), so the
    # streaming scan and then the reader itself go through all of it.
    varied = "".join(f'<c r="A{i}" ' for i in range(tags)).encode()
    cases[f"tag flood {tags:,} '<c r=..' varied"] = (
        workbook("flood2", lambda b: b.replace(b"</sheetData>", varied + b"</sheetData>", 1)),
        False,
    )
    big = tmp / "big" / "BX-AMS"
    big.mkdir(parents=True)
    with (big / "bao cao.xlsx").open("wb") as fh:
        fh.truncate(2 * GIB)
    cases["2 GiB file"] = (tmp / "big", False)
    good_csv = tmp / "csv"
    good_csv.mkdir()
    (good_csv / "quang_kim.csv").write_bytes(csv_bytes(household("Quang Kim")).encode())
    cases["good police CSV (floor)"] = (good_csv, True)
    huge = tmp / "huge_csv"
    huge.mkdir()
    with (huge / "toan_tinh.csv").open("wb") as fh:
        fh.truncate(GIB)
    cases["1 GiB police CSV"] = (huge, True)
    return cases


def weekly(inbox: Path, reference: Path, work: Path) -> tuple[float, dict]:
    from chuyencan.core import warehouse as wh
    from chuyencan.core.reference import load_reference, write_reference
    from chuyencan.core.settings import Settings
    from chuyencan.submissions.collect import collect

    url = f"sqlite:///{work / 'warehouse' / 'w.db'}"
    engine = wh.make_engine(url)
    wh.ensure_schema(engine)
    ref = load_reference(reference)
    write_reference(engine, ref)
    settings = Settings(
        inbox=inbox, work_dir=work, warehouse_url=url, reference_dir=reference, settle_seconds=0
    )
    start = time.perf_counter()
    result = collect(engine, ref, settings)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, result.summary()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--week", type=date.fromisoformat, default=date(2025, 3, 14))
    parser.add_argument("--tags", type=int, default=1_000_000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="chuyencan-hostile-"))
    try:
        cases = build_cases(tmp / "cases", args.tags)
        print("limit / worst case                 seconds   peak MB  outcome")
        for label, (inbox, police) in cases.items():
            r = judge(inbox, police=police)
            print(
                f"{label:<34} {r['seconds']:7.2f} {r['peak_mb']:9.0f}  {', '.join(r['rules']) or 'readable'}"
            )

        from chuyencan_dev.synth import generate

        summary = generate(tmp / "sample", seed=args.seed, first_week=args.week, last_week=args.week)
        inbox, reference = tmp / "sample" / "inbox", summary.reference_dir
        files = sum(1 for _ in inbox.rglob("*.xlsx"))
        import great_expectations  # noqa: F401 - paid once per process, not by either run

        without, out_a = weekly(inbox, reference, tmp / "work_a")
        for label, (case_inbox, police) in cases.items():
            if not police and "floor" not in label:
                for path in case_inbox.rglob("*"):
                    if path.is_file():
                        target = inbox / "BX-AMS" / f"hostile {label}" / path.name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(path, target)
        with_hostile, out_b = weekly(inbox, reference, tmp / "work_b")
        print(f"weekly collection, {files} school files:              {without:6.1f} s  {out_a}")
        print(f"the same with the hostile files in the inbox:       {with_hostile:6.1f} s  {out_b}")
        print(f"ratio with/without: {with_hostile / without:.2f}  (target <= 1.5)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
