"""What operators see, checked in the running deployment: each weekly run's note written by the
scheduler, and the chuyencan page of the UI in Debian's headless Chromium (behind Airflow's
auth; the statuses it shows are the warehouse's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from scripts.browser.chromium import ensure_chromium, headless
from scripts.integration.checks import CheckFailed

WEEKLY = "school_submissions_weekly"


class PageCheckFailed(CheckFailed):
    pass


def check_run_notes(api: Any) -> str:
    runs = [r for r in api.runs(WEEKLY) if r["state"] == "success"]
    missing = [r["dag_run_id"] for r in runs if not (r.get("note") or "").startswith("week ")]
    if not runs or missing:
        raise PageCheckFailed(f"weekly runs without their note: {missing or 'no runs'}")
    return f"{len(runs)} weekly runs carry their note, e.g. {runs[-1]['note'].splitlines()[0]!r}"


def check_page(api: Any, warehouse_url: str, screenshot: Path) -> str:
    binary = ensure_chromium()
    if binary is None:
        return "chuyencan page: skipped (no chromium, and it cannot be installed here)"
    api.login()
    token = api._token
    base = api.base_url
    with create_engine(warehouse_url).connect() as conn:
        truth = {
            (str(r.week_ending), r.school_code): r.status
            for r in conn.execute(
                text("SELECT week_ending, school_code, status FROM report.submission_status")
            )
        }
    with headless(binary) as page:
        page.open(f"{base}/chuyencan/")
        anonymous = page.evaluate("document.body.innerText")
        if "Not authenticated" not in anonymous:
            raise PageCheckFailed(f"the chuyencan page answered without a login: {anonymous[:200]!r}")
        page.set_token(base, token)
        page.open(f"{base}/chuyencan/?weeks=52")
        shown = page.evaluate(
            "Array.from(document.querySelectorAll('table.week tr[data-school]')).map(tr => "
            "[tr.closest('table').dataset.week, tr.dataset.school, tr.dataset.status])"
        )
        seen = {(week, school): status for week, school, status in shown}
        if seen != truth:
            wrong = sorted(set(seen.items()) ^ set(truth.items()))[:5]
            raise PageCheckFailed(f"the page's statuses differ from report.submission_status: {wrong}")
        links = page.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
        page.open(f"{base}/plugin/chuyencan", settle=3)
        if "Chuyên cần" not in page.evaluate("document.body.innerText"):
            raise PageCheckFailed("no 'Chuyên cần' entry in the UI's navigation")
        page.screenshot(screenshot)
    reports = sum(1 for h in links if "/files/report/" in (h or ""))
    return (
        f"chuyencan page in headless Chromium: 401 without a login; {len(seen)} school-weeks shown as in "
        f"report.submission_status; {reports} Excel report links; screenshot {screenshot}"
    )
