"""Command line: python -m chuyencan_dev.synth --out var/sample --seed 7 [--scale province] [...]."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from chuyencan_dev.synth.generate import SCALES, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chuyencan_dev.synth",
        description="Write sample weekly school workbooks, police extracts and ground truth.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output directory (its inbox/, police_inbox/, truth/, reference/ are replaced)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same data")
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default="district",
        help="district: the 14 schools of Bát Xát; province: the merged Lào Cai province (~1,200 schools,"
        " ~100 post-reform communes); province-small: Bát Xát and Trạm Tấu (~100 schools)",
    )
    parser.add_argument(
        "--first-week",
        type=date.fromisoformat,
        help="first Friday to write (default: the school year's first week)",
    )
    parser.add_argument(
        "--last-week",
        type=date.fromisoformat,
        help="last Friday to write (default: the school year's last week)",
    )
    parser.add_argument(
        "--mistake-rate", type=float, default=0.05, help="share of submissions whose first file is broken"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        s = generate(
            args.out, args.seed, args.scale, args.first_week, args.last_week, mistake_rate=args.mistake_rate
        )
    except ValueError as exc:
        parser.error(str(exc))
    elapsed = time.perf_counter() - started
    # Counts only: the data are synthetic, but the habit of never logging personal data stays.
    print(
        f"{s.scale} seed={s.seed} weeks {s.first_week}..{s.last_week} ({s.weeks}): "
        f"{s.schools} schools, {s.students} students, {s.households} households, {s.persons} people; "
        f"{s.files} workbooks ({s.accepted_files} good, {s.rejected_files} broken), "
        f"{s.missing_submissions} of {s.school_weeks} school-weeks missing; "
        f"{s.police_files} police extracts ({s.police_records} records), {s.cases} cases; "
        f"{elapsed:.1f}s -> {s.out_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
