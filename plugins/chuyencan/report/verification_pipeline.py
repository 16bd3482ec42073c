"""The commune verification loop's two steps of the fortnightly run (docs/verification.md).

- `collect_verification_returns` (before the summary): the workbooks communes dropped into
  their `nop_lai` folders since the last run, checked and recorded; a rejected one's email to
  the commune queued; then `report.commune_verification` for the date (who has not answered).
- `write_commune_verification_lists` (after the summary): every commune's list written to the
  restricted area and delivered into the commune's folder (`chuyencan.core.delivery`).

A commune's folder key is its name as in communes.csv (the contacts' key for `commune`,
include/reference/contacts.csv), else the name of the unit in force.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from chuyencan.core import schema as wh
from chuyencan.core.contacts import load_contacts, note_contact_gap
from chuyencan.core.delivery import deliver_file, recipient_folder
from chuyencan.core.mail.outbox import queue_email
from chuyencan.core.mail.render import render_email
from chuyencan.core.runs import engine_for, organisation_for, reference_for
from chuyencan.core.settings import Settings
from chuyencan.report.verification_findings import publish_commune_status
from chuyencan.report.verification_returns import (
    RETURN_FOLDER,
    CheckedReturn,
    ReturnFolder,
    ReturnRejectedHook,
    collect_returns,
    issue_line,
)
from chuyencan.report.verification_sheet import W

log = logging.getLogger(__name__)

RECIPIENT_KIND = "commune"
DOCUMENT_KIND = "commune_verification_list"
EMAIL_KIND = "verification_rejected"
MAX_LINES = 30


def write_commune_verification_lists(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, object]:
    from chuyencan.report.commune_lists import recipient_key, write_commune_lists

    now = now or datetime.now(UTC)
    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    org = organisation_for(settings)
    written = write_commune_lists(engine, ref, org, report_date, settings.work_dir / "reports", now=now)
    delivered = 0
    for commune_list, path in written:
        key = recipient_key(ref, commune_list.commune, report_date)
        delivery = deliver_file(
            engine,
            settings,
            recipient_kind=RECIPIENT_KIND,
            recipient_key=key,
            document_kind=DOCUMENT_KIND,
            source=path,
            period=report_date,
            now=now,
            recipient_name=commune_list.commune.label,
        )
        delivered += int(delivery.new)
        _return_folder(recipient_folder(settings, RECIPIENT_KIND, key) / RETURN_FOLDER)
    return {
        "report_date": report_date.isoformat(),
        "commune_lists": len(written),
        "children": sum(len(c.cases) for c, _ in written),
        "delivered": delivered,
    }


# The commune's group writes its filled copies here (its folder itself is read-only to it);
# setgid so they take the group; closed to everyone else, like the commune's folder.
RETURN_FOLDER_MODE = 0o2770


def _return_folder(folder: Path) -> None:
    if not folder.is_dir():
        folder.mkdir()
        os.chmod(folder, RETURN_FOLDER_MODE)  # mkdir's mode is cut by the umask


def return_folders(engine: Engine, settings: Settings) -> list[ReturnFolder]:
    """The `nop_lai` folder of every commune that was ever sent a list."""
    t = wh.verification_list
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.commune_code, t.c.commune, t.c.recipient_key, t.c.report_date).order_by(
                t.c.commune_code, t.c.report_date
            )
        ).all()
    latest = {r.commune_code: r for r in rows}  # its latest name and key
    return [
        ReturnFolder(
            r.commune_code,
            r.commune,
            r.recipient_key,
            recipient_folder(settings, RECIPIENT_KIND, r.recipient_key) / RETURN_FOLDER,
        )
        for r in latest.values()
    ]


def collect_verification_returns(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, object]:
    engine = engine_for(settings.warehouse_url)
    folders = return_folders(engine, settings)
    result = collect_returns(
        engine, settings, folders, now=now, on_rejected=rejection_email(settings, folders, now)
    )
    status = publish_commune_status(engine, settings, report_date)
    return {"report_date": report_date.isoformat(), **result.as_dict(), **status}


def rejection_email(
    settings: Settings, folders: list[ReturnFolder], now: datetime | None
) -> ReturnRejectedHook:
    """Queue the commune's email about a rejected return, with the rejection's transaction."""
    by_code = {f.commune_code: f for f in folders}

    def on_rejected(conn: Connection, checked: CheckedReturn, return_id: int) -> None:
        place = by_code[checked.commune_code]
        moment = now or datetime.now(UTC)
        # The contacts of the commune the list was sent to, in force on the list's date.
        on = checked.list_date or moment.astimezone(settings.timezone).date()
        emails = load_contacts(settings.reference_dir).emails_for(RECIPIENT_KIND, place.recipient_key, on)
        if not emails:
            note_contact_gap(
                conn,
                recipient_kind=RECIPIENT_KIND,
                recipient_key=place.recipient_key,
                purpose=EMAIL_KIND,
                period=checked.list_date or on,
                now=moment,
            )
            return
        lines = [issue_line(i, masked=True) for i in checked.issues]
        email = render_email(
            EMAIL_KIND,
            commune=place.commune,
            file_name=checked.file.name,
            received_at=checked.file.received_at,
            list_date=checked.list_date,
            error_count=len(checked.issues),
            lines=lines[:MAX_LINES],
            more=max(0, len(lines) - MAX_LINES),
            fix=W("fixes.default"),
        )
        queue_email(
            conn,
            dedup_key=f"{EMAIL_KIND}:{checked.file.sha256}",
            kind=EMAIL_KIND,
            recipients=emails,
            email=email,
            now=moment,
        )

    return on_rejected
