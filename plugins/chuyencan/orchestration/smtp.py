"""Send outbox messages through the SMTP provider's `SmtpHook` (Airflow connection `smtp_default`).

The hook opens the session (host, port, SSL/STARTTLS, login, timeouts, all from the Airflow
connection); the message itself is built here, because the hook's `send_email_smtp` can only
send one `text/html` part. Ours is `multipart/alternative` (the plain-text twin first, then the
HTML) inside `multipart/mixed` when there are attachments, so a reader whose mail client shows
no HTML, or a phone's preview, still gets the whole message. Headers are encoded here as
RFC 2047 words (folded, ASCII only): a Vietnamese subject, and a Vietnamese display name in
`From` encoded apart from the address; attachment names per RFC 2231.
The session comes from the hook's `get_conn()` (its `_smtp_client`, which the hook's own
`test_connection` uses too); `tests/test_mail.py` sends through it to a real SMTP server.

The sender comes from `[email] from_email` (`AIRFLOW__EMAIL__FROM_EMAIL`), falling back to the
connection's `from_email` extra.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from chuyencan.core.mail.outbox import TRANSPORT_ERRORS, MailServerUnavailable, OutgoingEmail, describe_error

_FALLBACK_DOMAIN = "chuyencan.invalid"


def airflow_smtp_sender(conn_id: str = "smtp_default") -> Callable[[OutgoingEmail], None]:
    """A `send` callable for `send_pending` that delivers through Airflow's SMTP connection."""

    def send(message: OutgoingEmail) -> None:
        # Imported here: importing Airflow's provider costs a second and needs Airflow's config,
        # which DAG parsing and the plain-Python tests of other modules should not pay for.
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with ExitStack() as stack:
            try:
                hook = stack.enter_context(SmtpHook(smtp_conn_id=conn_id))
                sender = _sender_address(hook)
                client = hook.get_conn()._smtp_client
            except TRANSPORT_ERRORS:
                raise
            except Exception as exc:
                # A missing connection or rejected login fails every message alike: report it
                # as the server being unavailable so the outbox stops instead of burning attempts.
                raise MailServerUnavailable(f"cannot open the SMTP session: {describe_error(exc)}") from exc
            if sender is None:
                raise MailServerUnavailable(
                    "no sender address: set AIRFLOW__EMAIL__FROM_EMAIL or the connection's from_email"
                )
            if client is None:
                raise MailServerUnavailable("the SMTP hook opened no session")
            mime = build_message(message, sender)
            client.sendmail(parseaddr(sender)[1], list(message.recipients), mime.as_string())

    return send


def build_message(message: OutgoingEmail, sender: str, *, now: datetime | None = None) -> Message:
    """The MIME message: text and HTML as alternatives, then the attachments.

    Built with the compat32 MIME classes and headers encoded here: the standard library's
    newer policy (Python 3.11) splits a Vietnamese display name mid-word across encoded words
    and quotes the whole address in `From`, which mail clients then show wrongly.
    """
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(message.text or _NO_TEXT_PART, "plain", "utf-8"))
    body.attach(MIMEText(message.html, "html", "utf-8"))
    mime: Message = body
    if message.attachments:
        mime = MIMEMultipart("mixed")
        mime.attach(body)
        for path in message.attachments:
            kind, _ = mimetypes.guess_type(path.name)
            maintype, _, subtype = (kind or "application/octet-stream").partition("/")
            part = MIMEBase(maintype, subtype)
            part.set_payload(path.read_bytes())
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", path.name))
            mime.attach(part)
    mime["Subject"] = encode_header(message.subject)
    mime["From"] = sender
    mime["To"] = ", ".join(message.recipients)
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    mime["Message-ID"] = message_id(message, sender)
    return mime


_NO_TEXT_PART = "Thư này có nội dung dạng HTML; vui lòng mở bằng chương trình đọc thư hỗ trợ HTML.\n"


def _sender_address(hook: Any) -> str | None:
    from airflow.configuration import conf

    # Airflow's [email] setting first: the hook itself would only look at the connection.
    configured = conf.get("email", "from_email", fallback=None) or hook.from_email
    return encode_address(configured) if configured else None


def encode_header(value: str) -> str:
    """RFC 2047 encoded words, folded: ASCII that every mail server and client accepts."""
    return Header(value, "utf-8", header_name="Subject").encode()


def encode_address(value: str) -> str:
    """'Phòng GD&ĐT <pgd@example.org>' with only the display name encoded."""
    name, address = parseaddr(value)
    if not address or "@" not in address:
        raise ValueError("[email] from_email is not an email address")
    return formataddr((name, address), charset="utf-8")


def message_id(message: OutgoingEmail, sender: str | None) -> str:
    """A Message-ID derived from the outbox row: a resend after a crash is recognisable as one.

    Mail clients and Gmail collapse messages with the same Message-ID, which makes the one
    at-least-once window of the outbox harmless for the reader.
    """
    domain = parseaddr(sender or "")[1].rpartition("@")[2] or _FALLBACK_DOMAIN
    digest = hashlib.sha256(message.dedup_key.encode("utf-8")).hexdigest()[:16]
    return f"<chuyencan.{message.email_id}.{digest}@{domain}>"
