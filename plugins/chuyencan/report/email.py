"""The district's fortnightly email: key figures, the summary table, the Excel report attached.

Aggregates only (school names are not personal data; no student is named). The email is
queued in ops.email_outbox under `fortnightly_report:<date>:<digest of the Markdown twin>`:
rerunning a report date with the same data queues nothing; a rerun after late files changed
the figures queues the corrected report.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime

from markupsafe import Markup
from sqlalchemy import Engine

from chuyencan.core.mail.outbox import queue_email
from chuyencan.core.mail.render import MAX_TABLE_ROWS, RenderedEmail, render_email
from chuyencan.core.reference import load_reference
from chuyencan.core.settings import Settings
from chuyencan.report import markdown
from chuyencan.report.content import Issuer, ReportContent, load_content, load_issuer, status_text
from chuyencan.report.files import ReportFiles

log = logging.getLogger(__name__)

KIND = "fortnightly_report"


def render_fortnightly_report(content: ReportContent, issuer: Issuer, files: ReportFiles) -> RenderedEmail:
    summary = markdown.render_summary(content, issuer)
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
        max_sessions=content.max_sessions,
        f=d,
        completeness_rate=d.completeness_rate,
        attachment=files.xlsx.name,
        html_twin=files.html.name,
        # Rendered by the report's own templates (autoescaped there): the same table as the twin.
        summary_html=Markup(summary.html),
        summary_text=summary.markdown,
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


def queue_district_report(engine: Engine, settings: Settings, report_date: date, files: ReportFiles) -> bool:
    """Queue the report email to `settings.district_emails`; True if a new email was queued."""
    if not settings.district_emails:
        log.warning("no district email address configured: the report for %s is not emailed", report_date)
        return False
    content = load_content(
        engine,
        report_date,
        load_reference(settings.reference_dir),
        max_sessions=settings.eligibility_max_sessions,
    )
    email = render_fortnightly_report(content, load_issuer(), files)
    digest = hashlib.sha256(files.markdown.read_bytes()).hexdigest()[:16]
    with engine.begin() as conn:
        queued = queue_email(
            conn,
            dedup_key=f"{KIND}:{report_date.isoformat()}:{digest}",
            kind=KIND,
            recipients=list(settings.district_emails),
            email=email,
            attachments=[files.xlsx],
            now=datetime.now(settings.timezone),
        )
    log.info("report %s email %s", report_date, "queued" if queued else "already queued")
    return queued
