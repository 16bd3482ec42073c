"""The README's screenshots of the Airflow UI, from a running `make ui` (after `make demo`).

    make demo && make ui     # in one shell
    .venv/bin/python scripts/screenshots.py [--base-url http://127.0.0.1:8080]

Writes docs/ui-grid.png (the weekly DAG's runs), docs/ui-run-note.png (a run with its note),
docs/ui-run-failed.png (a red run with its note, when there is one) and
docs/ui-chuyencan.png (the chuyencan page inside the UI), in headless Chromium set to Vietnam
time (the UI shows times in the browser's time zone).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.browser.chromium import ensure_chromium, headless  # noqa: E402 - after the path is set

WEEKLY = "school_submissions_weekly"


def token(base_url: str, user: str = "admin", password: str = "admin") -> str:
    request = urllib.request.Request(
        f"{base_url}/auth/token",
        data=json.dumps({"username": user, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access_token"]


def latest_run_with_note(base_url: str, jwt: str, dag_id: str, state: str = "success") -> str | None:
    request = urllib.request.Request(
        f"{base_url}/api/v2/dags/{dag_id}/dagRuns?order_by=-logical_date&limit=20",
        headers={"Authorization": f"Bearer {jwt}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        runs = json.load(response)["dag_runs"]
    noted = [r for r in runs if r.get("note") and r["state"] == state]
    return noted[0]["dag_run_id"] if noted else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    binary = ensure_chromium()
    if binary is None:
        raise SystemExit("no chromium")
    base = args.base_url.rstrip("/")
    jwt = token(base)
    run_id = latest_run_with_note(base, jwt, WEEKLY)
    # A red run too, if the UI has one (e.g. the scheduler's run of a week the calendar lacks).
    failed_id = latest_run_with_note(base, jwt, WEEKLY, state="failed")
    with headless(binary, timezone="Asia/Ho_Chi_Minh") as page:
        page.set_token(base, jwt)
        page.open(f"{base}/dags/{WEEKLY}", settle=2)
        page.wait_for("document.body.innerText.includes('check_schools_reported')")
        print(page.screenshot(args.out / "ui-grid.png"))
        for name, run in (("ui-run-note.png", run_id), ("ui-run-failed.png", failed_id)):
            if run is None:
                continue
            page.open(f"{base}/dags/{WEEKLY}/runs/{urllib.parse.quote(run, safe='')}", settle=2)
            page.wait_for("document.body.innerText.includes('week ')")
            print(page.screenshot(args.out / name))
        page.open(f"{base}/plugin/chuyencan", settle=3)
        print(page.screenshot(args.out / "ui-chuyencan.png"))


if __name__ == "__main__":
    main()
