"""Send outbox messages through the SMTP provider's `SmtpHook` (Airflow connection `smtp_default`).

What the installed hook (apache-airflow-providers-smtp 3.2) allows, and what we do about it:
- `send_email_smtp` builds `multipart/mixed` with one `text/html` part: there is no way to add
  a plain-text alternative, so the message carries the HTML only (the text twin stays in the
  outbox for operators and for senders that can use it).
- It sets `Subject` and `From` from plain strings. A Vietnamese subject then goes out as one
  over-long encoded word, and a Vietnamese display name in `From` is encoded together with the
  address, which mail servers reject. Both are therefore handed over already RFC 2047-encoded
  (folded; in `From` only the name), which the hook passes through untouched.
- The sender comes from `[email] from_email` (`AIRFLOW__EMAIL__FROM_EMAIL`), falling back to
  the connection's `from_email` extra.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from email.header import Header
from email.utils import formataddr, parseaddr
from typing import Any

from chuyencan.mail.outbox import TRANSPORT_ERRORS, MailServerUnavailable, OutgoingEmail, describe_error

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
            except TRANSPORT_ERRORS:
                raise
            except Exception as exc:
                # A missing connection or rejected login fails every message alike: report it
                # as the server being unavailable so the outbox stops instead of burning attempts.
                raise MailServerUnavailable(f"cannot open the SMTP session: {describe_error(exc)}") from exc
            if not sender:
                raise MailServerUnavailable(
                    "no sender address: set AIRFLOW__EMAIL__FROM_EMAIL or the connection's from_email"
                )
            hook.send_email_smtp(
                to=list(message.recipients),
                subject=encode_header(message.subject),
                html_content=message.html,
                from_email=sender,
                files=[str(p) for p in message.attachments] or None,
                mime_charset="utf-8",
                custom_headers={"Message-ID": message_id(message, sender)},
            )

    return send


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
    if not address:
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
