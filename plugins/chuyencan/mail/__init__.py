"""The mail layer: Vietnamese email templates, the outbox, and sending through Airflow's SMTP hook.

    email = render_rejection(ctx)
    with engine.begin() as conn:                       # the transaction that records the rejection
        queue_email(conn, dedup_key=f"rejection:{sha256}", kind="rejection",
                    recipients=[school_email], email=email, now=now)
    send_pending(engine, airflow_smtp_sender(), now=now)

`smtp` imports Airflow only when sending; `sink` (aiosmtpd, for demos and tests) is not imported here.
"""

from chuyencan.mail.outbox import (
    MailServerUnavailable,
    OutgoingEmail,
    SendReport,
    queue_email,
    send_pending,
)
from chuyencan.mail.render import (
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
    render_rejection,
    render_unreadable_file,
)
from chuyencan.mail.smtp import airflow_smtp_sender

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
    "airflow_smtp_sender",
    "queue_email",
    "render_accepted_with_warnings",
    "render_district_weekly",
    "render_rejection",
    "render_unreadable_file",
    "send_pending",
]
