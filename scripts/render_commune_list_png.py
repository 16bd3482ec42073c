"""Render the first sheet of a real commune verification list to docs/commune-list-first-sheet.png.

    .venv/bin/python scripts/render_commune_list_png.py [--seed 7] [--commune "Dền Thàng"] [--out ...]

1. generates a sample of Bát Xát (chuyencan_dev.synth), weeks ending 21 March to 4 April 2025,
   with the commune police's extracts (invented children);
2. runs the fortnightly sequence's own steps without Airflow for 4 April 2025, which writes and
   delivers every commune's verification list;
3. draws the commune's first sheet as the workbook holds it (the hidden case-key column left
   out, the yellow fill-in columns and the village headings kept) as an HTML table and takes a
   picture of exactly the table with headless Chromium (scripts/browser/chromium.py).

Needs chromium (`apt-get install -y chromium fonts-liberation`); a
documentation tool, not part of the pipeline or its tests. Everything else lands in a temporary
folder.
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORT_DATE = date(2025, 4, 4)
FIRST_WEEK = date(2025, 3, 21)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--commune", default="Dền Thàng", help="name as in communes.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "commune-list-first-sheet.png")
    parser.add_argument("--rows", type=int, default=24, help="children's rows shown at most")
    args = parser.parse_args()
    if not shutil.which("chromium"):
        raise SystemExit("chromium is needed; see this script's docstring")
    sys.path.insert(0, str(ROOT / "plugins"))
    sys.path.insert(0, str(ROOT / "devtools"))
    with tempfile.TemporaryDirectory(prefix="chuyencan-commune-list-") as tmp:
        work = Path(tmp)
        xlsx = _publish(work, args.seed, args.commune)
        page = work / "sheet.html"
        page.write_text(sheet_html(xlsx, args.rows), encoding="utf-8")
        _picture(page, args.out)
    print(f"wrote {args.out}")


def _picture(page: Path, out: Path) -> None:
    """A picture of exactly the table, through Chromium's DevTools protocol."""
    import base64

    sys.path.insert(0, str(ROOT))
    from scripts.browser.chromium import headless

    with headless("chromium", width=2400, height=1600) as tab:
        tab.open(page.as_uri(), settle=0.5)
        box = tab.evaluate(
            "(() => { const r = document.querySelector('table').getBoundingClientRect();"
            " return [r.x, r.y, r.width, r.height]; })()"
        )
        x, y, width, height = (float(v) for v in box)
        tab.call(
            "Emulation.setDeviceMetricsOverride",
            width=2400,
            height=int(y + height + 40),
            deviceScaleFactor=1,
            mobile=False,
        )
        clip = {"x": x - 8, "y": y - 8, "width": width + 16, "height": height + 16, "scale": 1}
        data = tab.call("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(data))


def _publish(work: Path, seed: int, commune: str) -> Path:
    from chuyencan.core.delivery import recipient_key_safe
    from chuyencan.core.settings import Settings
    from chuyencan.orchestration.fortnight import publish_fortnight
    from chuyencan.submissions.pipeline import collect_new_files, prepare_warehouse
    from chuyencan_dev.synth import generate

    print("1/3 sample", flush=True)
    sample = generate(
        work / "sample", seed=seed, scale="district", first_week=FIRST_WEEK, last_week=REPORT_DATE
    )
    settings = Settings(
        inbox=sample.inbox,
        police_inbox=sample.police_inbox,
        work_dir=work / "work",
        warehouse_url=f"sqlite:///{work / 'work' / 'warehouse.db'}",
        reference_dir=sample.reference_dir,
        settle_seconds=0,
        delivery_dir=work / "share",
    )
    print("2/3 the fortnightly steps", flush=True)
    prepare_warehouse(settings)
    collect_new_files(settings, now=datetime(2025, 4, 4, 8, tzinfo=UTC))
    publish_fortnight(settings, REPORT_DATE)
    print("3/3 the picture", flush=True)
    folder = work / "share" / "commune" / recipient_key_safe(commune)
    return next(folder.glob(f"xac_minh_*_{REPORT_DATE.isoformat()}.xlsx"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value:%d/%m/%Y}"
    return html.escape(str(value))


def sheet_html(xlsx: Path, max_rows: int) -> str:
    """The first sheet as an HTML table: visible columns, fills, bold headings."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    ws = load_workbook(xlsx).worksheets[0]
    columns = [
        c for c in range(1, ws.max_column + 1) if not ws.column_dimensions[get_column_letter(c)].hidden
    ]
    out = [
        '<html><head><meta charset="utf-8"><style>',
        "body{font-family:'Liberation Serif','Times New Roman',serif;font-size:13px;margin:16px;background:#fff}",
        "table{border-collapse:collapse}td{padding:3px 5px;vertical-align:top}",
        "td.b{border:1px solid #000}td.h{text-align:center;font-weight:bold}",
        "</style></head><body><table>",
    ]
    header = None
    children = 0
    for r in range(1, ws.max_row + 1):
        cells = [ws.cell(r, c) for c in columns]
        if header is None and any(str(c.value or "") == "STT" for c in cells):
            header = r
        if header is not None and r > header and isinstance(cells[0].value, int):
            children += 1
            if children > max_rows:
                break
        out.append("<tr>")
        # Title lines above the header, village headings below it: one cell across the row.
        heading_row = header is None or (r > header and isinstance(cells[0].value, str))
        for i, c in enumerate(cells):
            styles = []
            rgb = getattr(c.fill.fgColor, "rgb", None) if c.fill and c.fill.fill_type == "solid" else None
            if isinstance(rgb, str) and len(rgb) >= 6:
                styles.append(f"background:#{rgb[-6:]}")
            if c.font and c.font.bold:
                styles.append("font-weight:bold")
            if c.font and c.font.italic:
                styles.append("font-style:italic")
            if c.font and c.font.color is not None and isinstance(c.font.color.rgb, str):
                styles.append(f"color:#{c.font.color.rgb[-6:]}")
            width = ws.column_dimensions[get_column_letter(columns[i])].width or 10
            styles.append(f"min-width:{int(width * 6)}px;max-width:{int(width * 7)}px")
            css = (
                ' class="b h"' if r == header else (' class="b"' if c.border and c.border.left.style else "")
            )
            if heading_row and i == 0 and c.value is not None:
                out.append(
                    f'<td colspan="{len(cells)}" style="{";".join(styles)};white-space:nowrap">{_text(c.value)}</td>'
                )
                break
            out.append(f'<td{css} style="{";".join(styles)}">{_text(c.value)}</td>')
        out.append("</tr>")
    out.append("</table></body></html>")
    return "\n".join(out)


if __name__ == "__main__":
    main()
