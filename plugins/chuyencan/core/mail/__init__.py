"""The mail layer: Vietnamese email templates and the outbox (sending through Airflow's SMTP hook is
`chuyencan.orchestration.smtp`).

    email = render_rejection(ctx)
    with engine.begin() as conn:                       # the transaction that records the rejection
        queue_email(conn, dedup_key=f"rejection:{sha256}", kind="rejection",
                    recipients=[school_email], email=email, now=now)
    send_pending(engine, airflow_smtp_sender(), now=now)

The mail sink for demos and tests (aiosmtpd) is `chuyencan_dev.mail_sink`, outside the package.
"""

from chuyencan.core.mail.outbox import (
    MailServerUnavailable,
    OutgoingEmail,
    SendReport,
    queue_email,
    send_pending,
)
from chuyencan.core.mail.render import (
    AcceptedWithWarningsContext,
    DistrictWeeklyContext,
    IssueLine,
    LateSchool,
    RejectedSchool,
    RejectionContext,
    RenderedEmail,
    SchoolRef,
    UnattributedFile,
    UnreadableFileContext,
    render_accepted_with_warnings,
    render_district_weekly,
    render_notice,
    render_rejection,
    render_unreadable_file,
)

__all__ = [
    "AcceptedWithWarningsContext",
    "DistrictWeeklyContext",
    "IssueLine",
    "LateSchool",
    "MailServerUnavailable",
    "OutgoingEmail",
    "RejectedSchool",
    "RejectionContext",
    "RenderedEmail",
    "SchoolRef",
    "SendReport",
    "UnattributedFile",
    "UnreadableFileContext",
    "queue_email",
    "render_accepted_with_warnings",
    "render_district_weekly",
    "render_notice",
    "render_rejection",
    "render_unreadable_file",
    "send_pending",
]
