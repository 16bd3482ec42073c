"""A unit's fortnightly email: key figures, the summary table, the Excel report attached.

Aggregates only (school names are not personal data; no student is named). The email is
queued in ops.email_outbox under `fortnightly_report:<date>:<digest of the Markdown twin>`
(Bát Xát's district, as always) or `fortnightly_report:<unit>:<date>:<digest>` (every other
unit): rerunning a report date with the same data queues nothing; a rerun after late files
changed the figures queues the corrected report.

Recipients: Bát Xát's district keeps its configured addresses (`settings.district_emails`, the
Airflow Variable); every other unit gets the `emails` of include/reference/reporting_units.csv.
Who signs and to whom the report goes come from the unit's letterhead.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime

from markupsafe import Markup
from sqlalchemy import Engine

from chuyencan.core.mail.outbox import queue_email
from chuyencan.core.mail.render import MAX_TABLE_ROWS, RenderedEmail, render_email
from chuyencan.core.runs import organisation_for, reference_for
from chuyencan.core.settings import DISTRICT_KEY, Settings
from chuyencan.report import markdown
from chuyencan.report.content import ReportContent, load_content, status_text
from chuyencan.report.files import ReportFiles
from chuyencan.report.unit import ReportUnit, report_unit
from chuyencan.report.wording import say

log = logging.getLogger(__name__)

KIND = "fortnightly_report"


def render_fortnightly_report(content: ReportContent, files: ReportFiles) -> RenderedEmail:
    issuer = content.unit.letterhead
    summary = markdown.render_summary(content)
    d = content.district.figures
    problems = content.completeness_problems
    shown = problems[:MAX_TABLE_ROWS]
    return render_email(
        KIND,
        report_date=content.report_date,
        period_start=content.period_start,
        weeks=list(content.weeks),
        school_year=content.school_year,
        addressee=issuer.addressee,
        # The sender is the unit's office (the mail catalogue's `office` is the district's).
        office=issuer.office_name,
        reviewers=say(f"email_reviewers.{content.unit.kind}"),
        max_sessions=content.max_sessions,
        f=d,
        completeness_rate=d.completeness_rate,
        attachment=files.xlsx.name,
        html_twin=files.html.name,
        # Rendered by the report's own templates (autoescaped there): the same table as the twin.
        summary_html=Markup(summary.html),
        summary_text=summary.text,
        problems=[
            {
                "school_code": s.school_code,
                "school_name": s.school_name,
                "weeks": [status_text(w.status, w.received_at, w.error_count) for w in s.weeks],
            }
            for s in shown
        ],
        more_problems=len(problems) - len(shown),
    )


def recipients_of(unit: ReportUnit, settings: Settings) -> tuple[str, ...]:
    """Bát Xát's district: its configured addresses, as always; another unit: its own."""
    return settings.district_emails if unit.keeps_district_names else unit.emails


def dedup_key(unit: ReportUnit, report_date: date, digest: str) -> str:
    tag = f"{unit.file_tag}:" if unit.file_tag else ""
    return f"{KIND}:{tag}{report_date.isoformat()}:{digest}"


def queue_district_report(
    engine: Engine,
    settings: Settings,
    report_date: date,
    files: ReportFiles,
    unit: str | ReportUnit = DISTRICT_KEY,
) -> bool:
    """Queue a unit's report email (Bát Xát's district by default); True if a new email was
    queued."""
    if isinstance(unit, str):
        unit = report_unit(organisation_for(settings), unit, report_date)
    content = load_content(
        engine,
        report_date,
        reference_for(settings),
        unit=unit,
        max_sessions=settings.eligibility_max_sessions,
    )
    recipients = recipients_of(content.unit, settings)
    if not recipients:
        log.warning(
            "no email address for %s: the report for %s is not emailed", content.unit.code, report_date
        )
        return False
    email = render_fortnightly_report(content, files)
    digest = hashlib.sha256(files.markdown.read_bytes()).hexdigest()[:16]
    with engine.begin() as conn:
        queued = queue_email(
            conn,
            dedup_key=dedup_key(content.unit, report_date, digest),
            kind=KIND,
            recipients=list(recipients),
            email=email,
            attachments=[files.xlsx],
            now=datetime.now(settings.timezone),
        )
    log.info(
        "report %s of %s email %s", report_date, content.unit.code, "queued" if queued else "already queued"
    )
    return queued
