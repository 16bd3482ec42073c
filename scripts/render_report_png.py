"""Render the first sheet of a real fortnightly report to docs/report-first-sheet.png.

    .venv/bin/python scripts/render_report_png.py [--seed 7] [--out docs/report-first-sheet.png]

1. generates a sample school year for Bát Xát (chuyencan_dev.synth), 6 Sep 2024 to 4 Apr 2025,
   with the commune police's extracts;
2. runs the pipeline's own steps without Airflow: intake of every file, then the fortnightly
   procedure (statuses, police reconciliation, early warning, summary and breakdown, Excel
   report) for 21 Mar 2025 and for 4 Apr 2025, so the report shows the change since the last;
3. prints the report's first sheet with LibreOffice to PDF, its pages to PNG with pdftoppm,
   stacked into one picture with ImageMagick when the sheet takes more than one page; without
   LibreOffice, the same first sheet from the report's HTML twin with headless Chromium.

Needs Debian's libreoffice-calc, poppler-utils and imagemagick, or chromium and imagemagick
(a documentation tool, not part of the pipeline or its tests):
    apt-get install -y --no-install-recommends libreoffice-calc poppler-utils imagemagick fonts-liberation
    apt-get install -y --no-install-recommends chromium imagemagick fonts-liberation
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
PREVIOUS_DATE = date(2025, 3, 21)
FIRST_WEEK = date(2024, 9, 6)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-first-sheet.png")
    parser.add_argument("--keep", type=Path, help="also copy the report's files into this folder")
    args = parser.parse_args()
    office = all(shutil.which(tool) for tool in ("soffice", "pdftoppm"))
    if not office and not (shutil.which("chromium") and shutil.which("convert")):
        raise SystemExit("neither LibreOffice nor Chromium is installed; see this script's docstring")
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
        if office:
            _render_first_sheet(xlsx, work / "render", args.out)
        else:
            _render_with_chromium(xlsx.with_suffix(".html"), work / "render", args.out)
    print(f"wrote {args.out} in {time.monotonic() - started:.0f} s")


def _publish(work: Path, seed: int) -> Path:
    from chuyencan.core.settings import Settings
    from chuyencan.orchestration.fortnight import FortnightRun, run_fortnight
    from chuyencan_dev.synth import generate

    print(f"1/3 sample school year, weeks ending {FIRST_WEEK:%d/%m/%Y} to {REPORT_DATE:%d/%m/%Y}")
    sample = generate(
        work / "sample", seed=seed, scale="district", first_week=FIRST_WEEK, last_week=REPORT_DATE
    )
    settings = Settings(
        inbox=sample.inbox,
        police_inbox=sample.police_inbox,
        work_dir=work / "work",
        warehouse_url=f"sqlite:///{work / 'warehouse' / 'warehouse.db'}",
        settle_seconds=0,
    )
    print("2/3 intake, then the fortnightly procedure for the last two report Fridays")
    # Every file is in the inbox already; "now" is the report's Friday afternoon. The report's
    # sequence (no lists, no email), for the previous report date and then the report's own.
    now = datetime(REPORT_DATE.year, REPORT_DATE.month, REPORT_DATE.day, 8, 0, tzinfo=UTC)
    skip = frozenset({"write_school_risk_lists", "email_district_report", "send_emails"})
    run_fortnight(FortnightRun(settings, PREVIOUS_DATE, now=now), skip=skip)
    results = run_fortnight(FortnightRun(settings, REPORT_DATE, now=now), skip=skip)
    return Path(str(results["write_excel_report"]["BAT_XAT"]["xlsx"]))  # type: ignore[index]


def _render_with_chromium(html: Path, folder: Path, out: Path) -> None:
    """The HTML twin up to its first annexed table (what the first sheet holds), as a picture."""
    print("3/3 the first sheet from the HTML twin with headless Chromium")
    folder.mkdir(parents=True)
    text = html.read_text(encoding="utf-8")
    first_annex = text.index("<h2", text.index("<h2") + 1)
    page = folder / "first_sheet.html"
    page.write_text(text[:first_annex] + "</div></body></html>", encoding="utf-8")
    shot = folder / "shot.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1340,4200",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    # The page is taller than the report: cut the empty grey below it.
    subprocess.run(["convert", str(shot), "-trim", "+repage", str(out)], check=True, timeout=120)


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
