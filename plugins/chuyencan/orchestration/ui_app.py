"""The chuyencan page inside the Airflow UI: who is missing, week by week, and the fortnights.

A FastAPI app that the api-server mounts under `/chuyencan` (registered, with its navigation
entry, by `plugins/chuyencan_operations.py`). Read-only. Plugin endpoints are not protected by
Airflow, so every route asks the auth manager first: the JWT from the `Authorization: Bearer`
header or the UI's `_token` cookie must be valid (401/403 otherwise) and its user allowed to
read DAGs. It shows `report`/`ops` tables only (statuses, counts, rule codes) and serves three
kinds of file by fixed name: each reporting unit's Excel report, its public version and a quarantined
file's error report (rules and rows, personal values masked), never the workbooks themselves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chuyencan.core.settings import TIMEZONE_NAME

if TYPE_CHECKING:
    from chuyencan.core.settings import Settings
    from chuyencan.report.status_board import FortnightLine, WeekBoard

URL_PREFIX = "/chuyencan"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_LABELS = {
    "on_time": ("on time", "#1e7e34", "#e6f4ea"),
    "late": ("late", "#8a5a00", "#fff4d6"),
    "missing": ("missing", "#b00020", "#fde7ea"),
    "rejected": ("rejected", "#b00020", "#fde7ea"),
}


# Recipients the pipeline had something for but no contact (ops.contact_gap), newest first.
GAPS_SHOWN = 50

_bearer = HTTPBearer(auto_error=False)


async def _reader(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Airflow's own check, as its REST API does it: a valid JWT (bearer header, else the UI's
    `_token` cookie; 401/403 otherwise) whose user may read DAGs. Imported here, at request time
    in the api-server: the plugin module is also loaded by the scheduler, the dag-processor and
    every task, which need none of the api-server's security machinery."""
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag

    user = await get_user(request, None, credentials)
    requires_access_dag(method="GET")(request, user)


def _settings() -> Settings:
    from chuyencan.orchestration.adapter import settings_for_api_server

    return settings_for_api_server()


def _engine(settings: Settings) -> Any:
    from chuyencan.core.runs import engine_for

    return engine_for(settings.warehouse_url)


def create_app() -> FastAPI:
    app = FastAPI(title="chuyencan", docs_url=None, redoc_url=None, openapi_url=None)
    auth = [Depends(_reader)]

    @app.get("/", response_class=HTMLResponse, dependencies=auth)
    def page(weeks: int = Query(4, ge=1, le=52)) -> HTMLResponse:
        from chuyencan.core.contacts import contact_gaps
        from chuyencan.report.pipeline import reports_dir
        from chuyencan.report.status_board import fortnights, recent_weeks

        settings = _settings()
        engine = _engine(settings)
        try:
            boards = recent_weeks(engine, limit=weeks)
            lines = fortnights(engine, reports_dir(settings))
            gaps = contact_gaps(engine)[:GAPS_SHOWN]
        except Exception as exc:  # an empty or unreachable warehouse is a state to show, not a 500
            return HTMLResponse(
                _document(_notice(f"The warehouse cannot be read yet: {type(exc).__name__}."))
            )
        return HTMLResponse(
            _document(_gaps_html(gaps) + _fortnights_html(lines) + "".join(_week_html(b) for b in boards))
        )

    # ?unit=<code>: that reporting unit's report of the date (Bát Xát's district without it).
    @app.get("/files/report/{report_date}.xlsx", dependencies=auth)
    def report(report_date: str, unit: str | None = None) -> FileResponse:
        return _report_file(report_date, public=False, unit=unit)

    @app.get("/files/public/{report_date}.xlsx", dependencies=auth)
    def public_report(report_date: str, unit: str | None = None) -> FileResponse:
        return _report_file(report_date, public=True, unit=unit)

    @app.get("/files/errors/{submission_id}.txt", dependencies=auth)
    def error_report(submission_id: int) -> FileResponse:
        from chuyencan.report.status_board import error_report as find

        settings = _settings()
        path = find(_engine(settings), submission_id, settings.quarantine_dir)
        if path is None:
            raise HTTPException(status_code=404, detail="no error report for this submission")
        return FileResponse(path, media_type="text/plain; charset=utf-8", filename=_ascii_name(path))

    return app


def _report_file(report_date: str, *, public: bool, unit: str | None = None) -> FileResponse:
    from chuyencan.core.settings import DISTRICT_KEY
    from chuyencan.report.pipeline import reports_dir
    from chuyencan.report.status_board import report_file

    path = report_file(reports_dir(_settings()), report_date, public=public, unit=unit or DISTRICT_KEY)
    if path is None:
        raise HTTPException(status_code=404, detail="no report file for this date")
    return FileResponse(path, media_type=XLSX, filename=path.name)


def _ascii_name(path: Path) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in path.name)


# --- HTML ----------------------------------------------------------------------------------------


def _document(body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>chuyencan: who is missing?</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 16px 24px;
       color: #1a1a1a; font-size: 14px; }}
h1 {{ font-size: 20px; margin: 0 0 4px 0; }} h2 {{ font-size: 16px; margin: 24px 0 6px 0; }}
p.sub {{ color: #555; margin: 0 0 12px 0; }}
table {{ border-collapse: collapse; margin: 4px 0 8px 0; }}
th, td {{ border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f3f5f7; font-weight: 600; }} td.n {{ text-align: right; }}
.badge {{ display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; }}
.summary {{ margin: 2px 0 6px 0; }} code {{ font-size: 12px; }}
</style></head><body>
<h1>chuyencan: who is missing?</h1>
<p class="sub">Each school's report per week (report.submission_status) and the fortnightly reports'
headline figures (report.fortnight_summary). Times are {TIMEZONE_NAME}. Read-only; aggregates only.</p>
{body}
</body></html>"""


def _notice(text: str) -> str:
    return f'<p class="summary">{escape(text)}</p>'


def _fortnights_html(lines: list[FortnightLine]) -> str:
    from chuyencan.core.settings import DISTRICT_KEY
    from chuyencan.report.status_board import HEADLINE

    if not lines:
        return "<h2>Fortnightly reports</h2>" + _notice("No fortnightly report published yet.")
    head = (
        "<tr><th>report date</th><th>unit</th><th>school-weeks expected</th><th>on time</th><th>late</th><th>missing</th>"
        "<th>rejected</th><th>attendance</th><th>dropouts open</th><th>new</th><th>left locality</th>"
        "<th>unverified</th><th>returned</th><th>at risk</th><th>files</th></tr>"
    )
    rows = []
    for line in lines:
        day = line.report_date.isoformat()
        # Each reporting unit's own files (docs/organisation.md#the-report-of-a-unit).
        query = "" if line.unit == DISTRICT_KEY else f"?unit={quote(line.unit)}"
        links = []
        if line.report_xlsx is not None:
            links.append(f'<a href="{URL_PREFIX}/files/report/{day}.xlsx{query}">Excel report</a>')
        if line.public_xlsx is not None:
            links.append(f'<a href="{URL_PREFIX}/files/public/{day}.xlsx{query}">public version</a>')
        # One cell per headline figure, in status_board.HEADLINE's order (the table's header).
        cells = [
            f"<td>{_d(line.report_date)}</td>",
            f"<td>{escape(line.unit)}</td>",
            *(_figure(k, line.figures.get(k)) for k in HEADLINE),
            f"<td>{' · '.join(links) or 'not written'}</td>",
        ]
        rows.append(f'<tr data-report="{day}" data-unit="{escape(line.unit)}">{"".join(cells)}</tr>')
    return f'<h2>Fortnightly reports</h2><table id="fortnights">{head}{"".join(rows)}</table>'


def _gaps_html(gaps: list[dict[str, Any]]) -> str:
    """Who was not told for want of a contact: shown first, it needs a person (add a row to
    include/reference/contacts.csv)."""
    if not gaps:
        return ""
    head = "<tr><th>recipient</th><th>key</th><th>what</th><th>period</th><th>last seen</th></tr>"
    rows = "".join(
        f'<tr data-gap="{escape(str(g["recipient_kind"]))}:{escape(str(g["recipient_key"]))}">'
        f"<td>{escape(str(g['recipient_kind']))}</td><td>{escape(str(g['recipient_key']))}</td>"
        f"<td>{escape(str(g['purpose']))}</td><td>{_d(g['period'])}</td>"
        f"<td>{_when(g['last_noted_at'])}</td></tr>"
        for g in gaps
    )
    return (
        "<h2>Recipients without a contact</h2>"
        + _notice("Nobody was told: add the recipient to include/reference/contacts.csv (docs/delivery.md).")
        + f'<table id="contact-gaps">{head}{rows}</table>'
    )


def _figure(name: str, value: object) -> str:
    if name == "attendance_rate":
        return f'<td class="n">{"-" if value is None else f"{float(value):.1%}"}</td>'  # type: ignore[arg-type]
    return f'<td class="n">{_n(value)}</td>'


def _week_html(board: WeekBoard) -> str:
    from chuyencan.orchestration.run_notes import week_note

    week = board.week_ending.isoformat()
    summary = week_note(week, board.counts, {s: board.codes(s) for s in ("late", "missing", "rejected")})
    rows = []
    for line in board.lines:
        label, color, background = STATUS_LABELS.get(line.status, (line.status, "#333", "#eee"))
        badge = f'<span class="badge" style="color:{color};background:{background}">{escape(label)}</span>'
        rules = " ".join(f"<code>{escape(r)}</code>" for r in line.rules)
        report = (
            f'<a href="{URL_PREFIX}/files/errors/{line.rejected_submission}.txt">error report</a>'
            if line.rejected_submission is not None
            else ""
        )
        received = line.received_at.astimezone(_tz()).strftime("%a %d/%m %H:%M") if line.received_at else ""
        rows.append(
            f'<tr data-school="{escape(line.school_code)}" data-status="{escape(line.status)}">'
            f"<td>{escape(line.school_code)}</td><td>{escape(line.school_name)}</td><td>{badge}</td>"
            f'<td>{received}</td><td class="n">{line.version or ""}</td><td>{rules}</td><td>{report}</td></tr>'
        )
    head = (
        "<tr><th>school</th><th>name</th><th>status</th><th>received</th><th>version</th>"
        "<th>rules broken</th><th></th></tr>"
    )
    return (
        f'<h2>Week ending {_d(board.week_ending)}</h2><p class="summary">{escape(summary)}</p>'
        f'<table class="week" data-week="{week}">{head}{"".join(rows)}</table>'
    )


def _when(moment: datetime) -> str:
    # SQLite gives back naive UTC times.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(_tz()).strftime("%d/%m %H:%M")


def _tz() -> Any:
    from chuyencan.core.settings import TIMEZONE

    return TIMEZONE


def _d(day: date) -> str:
    return f"{day:%a %d/%m/%Y}"


def _n(value: object) -> str:
    return "-" if value is None else str(value)


app = create_app()
