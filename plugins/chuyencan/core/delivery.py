"""Deliver a document to its recipient: a copy in the recipient's own folder on the share, a
record in `restricted.delivery`, and one short email saying that something is there.

No child's data ever leaves the share by email (docs/delivery.md has the threat model): lists
travel as files in `<delivery_dir>/<recipient_kind>/<recipient_key_safe>/`, a folder the share's
admin gives to the recipient's own POSIX group; the email names the document kind, the period
and the file name only.

    delivery = deliver_file(engine, settings, recipient_kind="commune", recipient_key="Quang Kim",
                            document_kind="commune_verification_list", source=path,
                            period=report_date, now=now)

- Atomic: the copy is written beside its final name and renamed, so a recipient never opens half
  a workbook; files are 0640, the recipient's folder 2750 (setgid: files take its group).
- Idempotent: the same bytes for the same recipient, document kind and period are delivered
  once (no new copy, no new row, no new email); changed bytes are a new delivery that replaces
  the file of the same name.
- One email per recipient and batch (default: the period): the second document delivered in a
  batch rewrites the queued email to list both; once it has gone out, a later delivery gets
  its own email.
- A recipient without a contact in force is recorded (`chuyencan.core.contacts.note_contact_gap`)
  and its `Delivery.notified` is empty: the file is delivered all the same.
- Retention: `purge_expired_deliveries` deletes copies older than
  `Settings.delivery_retention_days` (the police reconciliation's retention step runs it); the
  row stays, with `purged_at`.

Core: no flow imports, no Airflow. File names must not carry personal data (they are in the
email and the logs): callers name files by document kind, recipient and date.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, select
from sqlalchemy.engine import Connection

from chuyencan.core import warehouse as wh
from chuyencan.core.contacts import RECIPIENT_KINDS, Contacts, load_contacts, note_contact_gap, recipient_id
from chuyencan.core.mail.outbox import queue_email, rewrite_unsent
from chuyencan.core.mail.render import format_date, render_notice
from chuyencan.core.reference import load_reference
from chuyencan.core.schema import delivery as delivery_table
from chuyencan.core.settings import Settings
from chuyencan.core.text import strip_diacritics
from chuyencan.core.wording import Wording

log = logging.getLogger(__name__)

# Modes (docs/delivery.md): the share's root and the kind folders let anyone pass through but
# list nothing; a recipient's folder is its group's only (setgid, so files take the group);
# a file is readable by that group, written by the pipeline alone.
PASS_THROUGH_MODE = 0o711
RECIPIENT_DIR_MODE = 0o2750
FILE_MODE = 0o640
NOTICE_KIND = "delivery_notice"
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
_CHUNK = 1 << 20


class DeliveryRefused(RuntimeError):
    """The recipient's folder is open to everyone and cannot be closed by the pipeline."""


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    recipient_kind: str
    recipient_key: str
    document_kind: str
    period: date
    file_name: str
    path: Path
    sha256: str
    delivered_at: datetime
    notified: tuple[str, ...]  # addresses told; empty: no contact in force (recorded as a gap)
    new: bool  # False: these bytes had been delivered before, nothing was done


def recipient_key_safe(key: str) -> str:
    """A folder name for a recipient key: ASCII letters, digits and '-', words joined by '_'
    ('Thị trấn Bát Xát' -> 'Thi_tran_Bat_Xat', 'BX-AMS' stays)."""
    safe = _UNSAFE.sub("_", strip_diacritics(key.strip())).strip("_")
    if not safe:
        raise ValueError("a recipient key needs letters or digits")
    return safe[:64]


def recipient_folder(settings: Settings, recipient_kind: str, recipient_key: str) -> Path:
    """`<delivery_dir>/<kind>/<key_safe>/`, created with the modes above when missing; an
    existing folder open to others is closed, or refused if the pipeline does not own it."""
    if recipient_kind not in RECIPIENT_KINDS:
        raise ValueError(f"unknown recipient kind {recipient_kind!r}")
    root = settings.share_dir
    kind_dir = root / recipient_kind
    folder = kind_dir / recipient_key_safe(recipient_key)
    for directory, mode in (
        (root, PASS_THROUGH_MODE),
        (kind_dir, PASS_THROUGH_MODE),
        (folder, RECIPIENT_DIR_MODE),
    ):
        if not directory.is_dir():
            directory.mkdir(exist_ok=True)
            os.chmod(directory, mode)  # mkdir's mode is cut by the umask
    current = stat.S_IMODE(folder.stat().st_mode)
    if current & 0o007:
        try:
            os.chmod(folder, current & ~0o007)
        except PermissionError as exc:
            raise DeliveryRefused(
                f"{recipient_kind}/{folder.name} is open to every user of the share and the pipeline "
                "cannot close it: ask the share's admin (docs/delivery.md)"
            ) from exc
    return folder


@cache
def _contacts_for(reference_dir: Path) -> Contacts:
    return load_contacts(reference_dir)


@cache
def _names(reference_dir: Path) -> dict[tuple[str, str], str]:
    """(kind, key) -> name, for schools and reporting units (the latest row of a unit code)."""
    names = {("school", s.code): s.name for s in load_reference(reference_dir).schools.values()}
    units = reference_dir / "reporting_units.csv"
    if units.is_file():
        with units.open(encoding="utf-8-sig", newline="") as fh:
            names |= {("unit", r["code"].strip().upper()): r["name"].strip() for r in csv.DictReader(fh)}
    return names


def name_of_recipient(settings: Settings, recipient_kind: str, recipient_key: str) -> str:
    """How a notice names its recipient: a school's or unit's name, 'Ủy ban nhân dân xã Quang
    Kim', 'Công an thị trấn Bát Xát'; an office by its key."""
    kind, key = recipient_id(recipient_kind, recipient_key)
    known = _names(settings.reference_dir).get((kind, key))
    if known:
        return known
    if recipient_kind in ("commune", "police"):
        w = Wording("mail")
        # A name written with its kind ("Thị trấn Bát Xát") keeps it, in lower case after the
        # office's name; a bare name is a xã.
        written = " ".join(recipient_key.split())
        has_kind = any(written.lower().startswith(f"{k} ") for k in w.raw("recipients.kinds"))
        place = written[:1].lower() + written[1:] if has_kind else w("recipients.place", name=written)
        return w(f"recipients.{recipient_kind}", place=place)
    return recipient_key


def document_label(document_kind: str) -> str:
    """The Vietnamese name of a document kind (include/wording/mail.vi.json `documents`)."""
    labels: dict[str, Any] = Wording("mail").raw("documents")
    if document_kind not in labels or document_kind.startswith("_"):
        raise ValueError(
            f"document kind {document_kind!r} has no name in include/wording/mail.vi.json 'documents'"
        )
    return str(labels[document_kind])


def deliver_file(
    engine: Engine,
    settings: Settings,
    *,
    recipient_kind: str,
    recipient_key: str,
    document_kind: str,
    source: Path,
    period: date,
    now: datetime,
    batch: str | None = None,
    recipient_name: str | None = None,
    contacts: Contacts | None = None,
) -> Delivery:
    """Copy `source` into the recipient's folder, record it, and queue the recipient's notice.

    `batch` groups the deliveries one email announces (default: the period); `recipient_name`
    is how the email names the recipient (default: `name_of_recipient`); `contacts` defaults to
    the settings' reference folder's contacts.csv.

    Bytes delivered once are never copied again for the same recipient, kind and period, even
    after retention deleted the copy: a late rerun does not bring a deleted list back.
    """
    document_label(document_kind)  # an unnamed kind fails before anything is copied
    file_name = source.name
    if file_name.startswith(".") or "/" in file_name or "\\" in file_name:
        raise ValueError("a delivered file needs a plain, visible file name")
    digest, size = _sha256(source)
    batch = batch or period.isoformat()
    t = delivery_table
    identity = (
        t.c.recipient_kind == recipient_kind,
        t.c.recipient_key == recipient_key,
        t.c.document_kind == document_kind,
        t.c.period == period,
    )
    with engine.begin() as conn:
        wh.serialise(conn, f"chuyencan_delivery:{recipient_kind}:{recipient_key}")
        done = conn.execute(select(t).where(*identity, t.c.sha256 == digest)).first()
        if done is not None:
            return _delivery(done, new=False)
        folder = recipient_folder(settings, recipient_kind, recipient_key)
        target = folder / file_name
        _copy_atomically(source, target)
        delivery_id = conn.execute(
            t.insert()
            .values(
                recipient_kind=recipient_kind,
                recipient_key=recipient_key,
                document_kind=document_kind,
                period=period,
                batch=batch,
                file_name=file_name,
                stored_path=str(target),
                sha256=digest,
                file_size=size,
                delivered_at=now,
            )
            .returning(t.c.delivery_id)
        ).scalar_one()
        on = now.astimezone(settings.timezone).date()
        book = contacts if contacts is not None else _contacts_for(settings.reference_dir)
        emails = book.emails_for(recipient_kind, recipient_key, on)
        if not emails:
            note_contact_gap(
                conn,
                recipient_kind=recipient_kind,
                recipient_key=recipient_key,
                purpose=document_kind,
                period=period,
                now=now,
            )
        else:
            roles = ", ".join(
                dict.fromkeys(c.role for c in book.for_recipient(recipient_kind, recipient_key, on))
            )
            notice_key = _queue_notice(
                conn,
                settings,
                recipient_kind=recipient_kind,
                recipient_key=recipient_key,
                recipient_name=recipient_name or name_of_recipient(settings, recipient_kind, recipient_key),
                roles=roles,
                batch=batch,
                delivery_id=delivery_id,
                emails=emails,
                now=now,
            )
            conn.execute(
                t.update()
                .where(t.c.delivery_id == delivery_id)
                .values(notified=", ".join(emails), notice_key=notice_key)
            )
        row = conn.execute(select(t).where(t.c.delivery_id == delivery_id)).one()
    log.info(
        "delivered %s (%s) to %s %s: %d bytes; %s",
        file_name,
        document_kind,
        recipient_kind,
        recipient_key,
        size,
        f"{len(emails)} contact address(es) told" if emails else "no contact in force",
    )
    return _delivery(row, new=True)


def _queue_notice(
    conn: Connection,
    settings: Settings,
    *,
    recipient_kind: str,
    recipient_key: str,
    recipient_name: str,
    roles: str,
    batch: str,
    delivery_id: int,
    emails: list[str],
    now: datetime,
) -> str:
    """Queue (or grow) the one email of this recipient and batch; the dedup key it went under."""
    t = delivery_table
    kind, key = recipient_id(recipient_kind, recipient_key)
    base_key = f"delivery:{kind}:{recipient_key_safe(key)}:{batch}"[:200]

    def email_for(notice_key: str | None) -> Any:
        rows = conn.execute(
            select(t)
            .where(
                t.c.recipient_kind == recipient_kind,
                t.c.recipient_key == recipient_key,
                t.c.batch == batch,
                (t.c.notice_key == notice_key) | (t.c.delivery_id == delivery_id),
            )
            .order_by(t.c.delivery_id)
        ).all()
        period = max(r.period for r in rows)
        return render_notice(
            "delivery",
            items=[
                {
                    "document": document_label(r.document_kind),
                    "period": format_date(r.period),
                    "file_name": r.file_name,
                }
                for r in rows
            ],
            recipient=recipient_name,
            roles=roles,
            folder=f"{recipient_kind}/{recipient_key_safe(recipient_key)}",
            period=format_date(period),
            retention_days=settings.delivery_retention_days,
        )

    if queue_email(
        conn, dedup_key=base_key, kind=NOTICE_KIND, recipients=emails, email=email_for(base_key), now=now
    ):
        return base_key
    if rewrite_unsent(conn, dedup_key=base_key, email=email_for(base_key)):
        return base_key
    # The batch's email has gone out: this later delivery is announced on its own.
    own_key = f"{base_key}:{delivery_id}"[:200]
    queue_email(
        conn, dedup_key=own_key, kind=NOTICE_KIND, recipients=emails, email=email_for(own_key), now=now
    )
    return own_key


def summarise(deliveries: Iterable[Delivery]) -> dict[str, Any]:
    """What a step delivered, for its task summary and run note (counts and recipient keys only;
    `chuyencan.orchestration.run_notes.note_deliveries` writes the lines)."""
    done = list(deliveries)
    return {
        "delivered": sum(d.new for d in done),
        "unchanged": sum(not d.new for d in done),
        "notices": len({(d.recipient_kind, d.recipient_key) for d in done if d.new and d.notified}),
        "no_contact": sorted({f"{d.recipient_kind} {d.recipient_key}" for d in done if not d.notified}),
    }


def purge_expired_deliveries(engine: Engine, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete delivered copies older than the retention window; the rows stay, with `purged_at`.

    A copy is deleted only if the file at its place still holds its bytes: a newer delivery of
    the same name has replaced it and lives on until its own time comes.
    """
    cutoff = now - timedelta(days=settings.delivery_retention_days)
    t = delivery_table
    with engine.begin() as conn:
        expired = conn.execute(
            select(t.c.delivery_id, t.c.stored_path, t.c.sha256).where(
                t.c.purged_at.is_(None), t.c.delivered_at < cutoff
            )
        ).all()
        deleted = 0
        for r in expired:
            path = Path(r.stored_path)
            if path.is_file() and _sha256(path)[0] == r.sha256:
                path.unlink()
                deleted += 1
        ids = [r.delivery_id for r in expired]
        for start in range(0, len(ids), 500):
            conn.execute(
                t.update().where(t.c.delivery_id.in_(ids[start : start + 500])).values(purged_at=now)
            )
    summary = {
        "deliveries_expired": len(expired),
        "delivered_files_deleted": deleted,
        "delivery_retention_days": settings.delivery_retention_days,
    }
    log.info("delivery retention: %s", summary)
    return summary


def _copy_atomically(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _delivery(row: Row[Any], *, new: bool) -> Delivery:
    return Delivery(
        delivery_id=row.delivery_id,
        recipient_kind=row.recipient_kind,
        recipient_key=row.recipient_key,
        document_kind=row.document_kind,
        period=row.period,
        file_name=row.file_name,
        path=Path(row.stored_path),
        sha256=row.sha256,
        delivered_at=row.delivered_at,
        notified=tuple(a.strip() for a in (row.notified or "").split(",") if a.strip()),
        new=new,
    )
