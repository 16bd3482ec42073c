"""Render the first sheet of a real fortnightly report to docs/report-first-sheet.png.

    .venv/bin/python scripts/render_report_png.py [--seed 7] [--out docs/report-first-sheet.png]

1. generates a sample school year for Bát Xát (chuyencan_dev.synth), 6 Sep 2024 to 4 Apr 2025;
2. runs the pipeline's own steps without Airflow: intake of every file, the fortnight's
   submission statuses, early warning, the summary, the Excel report dated 4 Apr 2025
   (police reconciliation is left out: every case shows as not yet verified);
3. prints the report's first sheet with LibreOffice to PDF, its pages to PNG with pdftoppm,
   stacked into one picture with ImageMagick when the sheet takes more than one page.

Needs Debian's libreoffice-calc, poppler-utils and imagemagick (a documentation tool, not part
of the pipeline or its tests):
    apt-get install -y --no-install-recommends libreoffice-calc poppler-utils imagemagick fonts-liberation
Everything else lands in a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT_DATE = date(2025, 4, 4)
FIRST_WEEK = date(2024, 9, 6)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-first-sheet.png")
    parser.add_argument("--keep", type=Path, help="also copy the report's files into this folder")
    args = parser.parse_args()
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed; see this script's docstring")
    sys.path.insert(0, str(ROOT / "plugins"))
    sys.path.insert(0, str(ROOT / "devtools"))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chuyencan-report-png-") as tmp:
        work = Path(tmp)
        xlsx = _publish(work, args.seed)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for path in xlsx.parent.glob(f"{xlsx.stem}.*"):
                shutil.copy2(path, args.keep / path.name)
        _render_first_sheet(xlsx, work / "render", args.out)
    print(f"wrote {args.out} in {time.monotonic() - started:.0f} s")


def _publish(work: Path, seed: int) -> Path:
    from chuyencan.core.settings import Settings
    from chuyencan.report import pipeline as report
    from chuyencan.submissions.pipeline import collect_new_files, prepare_warehouse
    from chuyencan_dev.synth import generate

    print(f"1/3 sample school year, weeks ending {FIRST_WEEK:%d/%m/%Y} to {REPORT_DATE:%d/%m/%Y}")
    sample = generate(
        work / "sample", seed=seed, scale="district", first_week=FIRST_WEEK, last_week=REPORT_DATE
    )
    settings = Settings(
        inbox=sample.inbox,
        work_dir=work / "work",
        warehouse_url=f"sqlite:///{work / 'warehouse' / 'warehouse.db'}",
    )
    print("2/3 intake, statuses, early warning, summary, report")
    prepare_warehouse(settings)
    # Every file is in the inbox already; "now" is the report's Friday afternoon.
    now = datetime(REPORT_DATE.year, REPORT_DATE.month, REPORT_DATE.day, 8, 0, tzinfo=UTC)
    collect_new_files(settings, now=now)
    report.close_fortnight_weeks(settings, REPORT_DATE, now=now)
    report.flag_students_at_risk(settings, REPORT_DATE)
    report.publish_fortnight_summary(settings, REPORT_DATE)
    files = report.write_excel_report(settings, REPORT_DATE)
    return Path(files["xlsx"])


def _render_first_sheet(xlsx: Path, folder: Path, out: Path) -> None:
    from openpyxl import load_workbook

    print("3/3 printing the first sheet with LibreOffice")
    folder.mkdir(parents=True)
    wb = load_workbook(xlsx)
    for ws in wb.worksheets[1:]:
        wb.remove(ws)
    first = folder / "first_sheet.xlsx"
    wb.save(first)
    subprocess.run(
        ["soffice", "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(folder), str(first)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run(
        ["pdftoppm", "-png", "-r", "110", str(folder / "first_sheet.pdf"), str(folder / "page")],
        check=True,
        timeout=120,
    )
    pages = sorted(folder.glob("page-*.png"))
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(pages) > 1 and shutil.which("convert"):
        # Pages one under the other, with a thin gap, as the sheet reads on screen.
        subprocess.run(
            [
                "convert",
                *map(str, pages),
                "-background",
                "#bbbbbb",
                "-splice",
                "0x6",
                "-append",
                "-chop",
                "0x6",
                str(out),
            ],
            check=True,
            timeout=120,
        )
    else:
        shutil.copyfile(pages[0], out)
    print(f"    {len(pages)} printed page(s)")


if __name__ == "__main__":
    main()
