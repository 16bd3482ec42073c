"""The email outbox (`ops.email_outbox`): emails survive an SMTP outage and are sent once.

Tasks queue an email in the same transaction that records what the email is about (a
rejected submission, a week's status), keyed by a dedup key such as
`rejection:<sha256>`; a rerun queues nothing new. `send_pending` then delivers what is
unsent, marking each message in its own transaction right after the server accepted it.

A message's attempts count only failures of its own (a refused recipient, a rejected
message): while the server cannot be reached nothing is spent, so an outage of any length
gives up on nothing.

Delivery is at-least-once only in one narrow window: a crash after the server accepted a
message and before its row is marked. Two senders never work at the same time (a lock per
warehouse), so overlapping DAG runs do not send a message twice.

Logs carry email ids and counts only: never recipients, subjects or bodies.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
import smtplib
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, String, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from chuyencan.core.mail.render import RenderedEmail
from chuyencan.core.schema import ops_email_outbox
from chuyencan.core.warehouse import sqlite_path_from_url

log = logging.getLogger(__name__)

_DEDUP_KEY_TYPE = ops_email_outbox.c.dedup_key.type
_DEDUP_KEY_MAX = (_DEDUP_KEY_TYPE.length if isinstance(_DEDUP_KEY_TYPE, String) else None) or 200
_LAST_ERROR_MAX = 500
_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


class MailServerUnavailable(ConnectionError):
    """Raised by a send callable when no message can go out (server down, bad configuration)."""


# Failures that say the mail server is unreachable, not that this message is bad: every
# other message would fail the same way, so the run stops instead of spending their attempts.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,  # includes MailServerUnavailable
    TimeoutError,
    socket.gaierror,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)
_LOCK_KEY = "chuyencan_email_outbox"

# Who reads each kind of email: log lines name the role, never the address.
RECIPIENT_ROLES = {
    "rejection": "school",
    "accepted_with_warnings": "school",
    "calendar_warning": "school",
    "district_weekly": "district office",
    "fortnightly_report": "district office",
    "police_rejected": "district office",
    "police_counts": "district office",
    "police_round_missing": "commune police",
    "delivery_notice": "recipient of a delivered document",
    "school_reminder": "school",
    "school_not_received": "school and its managing unit",
    "verification_rejected": "commune",
}


def describe_kind(kind: str) -> str:
    """'rejection to school': what a log line says about an email."""
    return f"{kind} to {RECIPIENT_ROLES.get(kind, 'recipients')}"


@dataclass(frozen=True)
class OutgoingEmail:
    email_id: int
    recipients: list[str]
    subject: str
    text: str
    html: str
    attachments: list[Path]
    dedup_key: str = ""


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0  # failed attempts in this run
    pending: int = 0  # unsent after this run, still to be retried
    given_up: int = 0  # unsent and out of attempts: needs a person
    busy: bool = False  # another sender held the lock; nothing was tried
    failures: list[str] = field(default_factory=list)  # "email <id>: <Error>: <message>"
    sent_by_kind: dict[str, int] = field(default_factory=dict)  # "rejection to school" -> count
    server_unreachable: str | None = None  # why, when the run stopped because of the server


def queue_email(
    conn: Connection,
    *,
    dedup_key: str,
    kind: str,
    recipients: Sequence[str],
    email: RenderedEmail,
    attachments: Sequence[Path] = (),
    now: datetime,
) -> bool:
    """Add an email to the outbox unless one with this dedup key exists; True if added.

    Runs inside the caller's transaction, so the email is queued exactly when the fact it
    reports is committed.
    """
    if not dedup_key or len(dedup_key) > _DEDUP_KEY_MAX:
        raise ValueError(f"dedup_key must be 1-{_DEDUP_KEY_MAX} characters")
    values = {
        "dedup_key": dedup_key,
        "kind": kind,
        "recipients": ", ".join(_clean_recipients(recipients)),
        "subject": email.subject,
        "body_text": email.text,
        "body_html": email.html,
        "attachments": json.dumps([str(p) for p in attachments], ensure_ascii=False),
        "created_at": now,
        "attempts": 0,
    }
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        # Atomic: two overlapping runs cannot both pass an existence check and then collide.
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(ops_email_outbox)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            # rowcount is unreliable once SQLAlchemy adds RETURNING for the key; ask for the row.
            .returning(ops_email_outbox.c.email_id)
        )
        return conn.execute(stmt).first() is not None
    existing = conn.execute(
        select(ops_email_outbox.c.email_id).where(ops_email_outbox.c.dedup_key == dedup_key)
    ).first()
    if existing is not None:
        return False
    conn.execute(ops_email_outbox.insert().values(**values))
    return True


def rewrite_unsent(conn: Connection, *, dedup_key: str, email: RenderedEmail) -> bool:
    """Replace the words of a queued email not yet sent (one email that grows as more of the
    same news arrives in a run); False if there is no such email, or it has gone out."""
    result = conn.execute(
        ops_email_outbox.update()
        .where(ops_email_outbox.c.dedup_key == dedup_key, ops_email_outbox.c.sent_at.is_(None))
        .values(subject=email.subject, body_text=email.text, body_html=email.html)
    )
    return bool(result.rowcount)


def send_pending(
    engine: Engine,
    send: Callable[[OutgoingEmail], None],
    *,
    now: datetime,
    max_attempts: int = 20,
) -> SendReport:
    """Send every unsent email with attempts left, oldest first; never raises for a failed send."""
    report = SendReport()
    with _sender_lock(engine) as acquired:
        if not acquired:
            log.info("another run is sending the outbox right now; the emails are left to that run")
            report.busy = True
        else:
            _send_all(engine, send, now=now, max_attempts=max_attempts, report=report)
    report.pending, report.given_up = count_unsent(engine, max_attempts)
    log.info(
        "outbox: %d sent (%s), %d failed, %d pending, %d given up",
        report.sent,
        ", ".join(f"{n} {k}" for k, n in sorted(report.sent_by_kind.items())) or "none",
        report.failed,
        report.pending,
        report.given_up,
    )
    return report


def _send_all(
    engine: Engine,
    send: Callable[[OutgoingEmail], None],
    *,
    now: datetime,
    max_attempts: int,
    report: SendReport,
) -> None:
    t = ops_email_outbox
    with engine.begin() as conn:
        ids = list(
            conn.execute(
                select(t.c.email_id)
                .where(t.c.sent_at.is_(None), t.c.attempts < max_attempts)
                .order_by(t.c.email_id)
            ).scalars()
        )
    for email_id in ids:
        # No transaction is open while talking to the mail server: a slow server must not
        # hold the warehouse's write lock.
        with engine.begin() as conn:
            row = conn.execute(select(t).where(t.c.email_id == email_id, t.c.sent_at.is_(None))).first()
        if row is None:
            continue
        try:
            send(_outgoing(row))
        except Exception as exc:
            reason = describe_error(exc)
            # An unreachable server says nothing about this message: its attempts are kept for
            # failures of its own, or an outage longer than max_attempts runs would give up on
            # good emails.
            unreachable = isinstance(exc, TRANSPORT_ERRORS)
            with engine.begin() as conn:
                conn.execute(
                    t.update()
                    .where(t.c.email_id == email_id)
                    .values(attempts=t.c.attempts + (0 if unreachable else 1), last_error=reason)
                )
            report.failed += 1
            report.failures.append(f"email {email_id}: {reason}")
            if unreachable:
                report.server_unreachable = reason
                log.warning("mail server unreachable (%s); the emails wait for the next run", reason)
                return
            log.warning(
                "email %d (%s) not sent (attempt %d): %s",
                email_id,
                describe_kind(row.kind),
                row.attempts + 1,
                reason,
            )
            continue
        with engine.begin() as conn:
            conn.execute(t.update().where(t.c.email_id == email_id).values(sent_at=now, last_error=None))
        report.sent += 1
        what = describe_kind(row.kind)
        report.sent_by_kind[what] = report.sent_by_kind.get(what, 0) + 1
        log.info("email %d sent: %s", email_id, what)


def _outgoing(row: Row[Any]) -> OutgoingEmail:
    return OutgoingEmail(
        email_id=row.email_id,
        recipients=[a for a in (s.strip() for s in row.recipients.split(",")) if a],
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
        attachments=[Path(p) for p in json.loads(row.attachments or "[]")],
        dedup_key=row.dedup_key,
    )


def count_unsent(engine: Engine, max_attempts: int = 20) -> tuple[int, int]:
    """(still to send, given up after max_attempts)."""
    t = ops_email_outbox
    with engine.begin() as conn:
        pending = conn.execute(
            select(func.count()).where(t.c.sent_at.is_(None), t.c.attempts < max_attempts)
        ).scalar_one()
        given_up = conn.execute(
            select(func.count()).where(t.c.sent_at.is_(None), t.c.attempts >= max_attempts)
        ).scalar_one()
    return int(pending), int(given_up)


def describe_error(exc: BaseException) -> str:
    """'ConnectionRefusedError: [Errno 111] Connection refused', with addresses masked.

    SMTP errors quote the refused recipients; the reason ends up in logs and task output.
    """
    message = _ADDRESS.sub("<address>", " ".join(str(exc).split()))
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return reason[:_LAST_ERROR_MAX]


def _clean_recipients(recipients: Sequence[str]) -> list[str]:
    if isinstance(recipients, str):
        raise TypeError("recipients must be a sequence of addresses, not one string")
    cleaned: list[str] = []
    for position, address in enumerate(recipients, start=1):
        value = address.strip()
        # The column holds a comma-separated list; a comma or line break would split or
        # inject an address.
        if "@" not in value or any(ch in value for ch in ",;\r\n"):
            raise ValueError(f"recipient #{position} is not a single email address")
        if value.lower() not in (c.lower() for c in cleaned):
            cleaned.append(value)
    if not cleaned:
        raise ValueError("an email needs at least one recipient")
    return cleaned


@contextmanager
def _sender_lock(engine: Engine) -> Iterator[bool]:
    """Yield whether this process may send: one sender per warehouse at a time."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            # A session-level advisory lock, released below or when the connection dies.
            acquired = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": _LOCK_KEY}).scalar()
            )
            conn.commit()
            try:
                yield acquired
            finally:
                if acquired:
                    conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": _LOCK_KEY})
                    conn.commit()
        return
    db_path = sqlite_path_from_url(engine.url.render_as_string(hide_password=False))
    if db_path is None:
        yield True
        return
    # SQLite is one host's file: an OS file lock beside it serialises the senders.
    with (db_path.parent / f"{db_path.name}.outbox.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
