"""Schools are told before and after the deadline when their week's file is not in (issue 13).

- Reminder: at `Settings.reminder_time` on the Friday (default 08:00, two hours before the
  10:00 deadline), each active school with no accepted file for the week gets one email
  (`school_submission_reminders` DAG).
- Not received: after the deadline, each active school still without an accepted file gets one
  notice, copied to its managing unit (the reporting unit of `school_units.csv` on that day:
  Bát Xát's education office until 2025-06-30, the commune or the department after) — a step of
  `school_submissions_weekly`, which closes the week at 11:00. The district's weekly summary
  keeps listing these schools.

Each is queued at most once per school and week (outbox dedup keys `school_reminder:<code>:<week>`
and `school_not_received:<code>:<week>`), so a rerun sends nothing new. Nothing is sent in a week
without school days (holidays, Tết: not a school week in the calendar) or to a school closed by
then (`valid_to` in schools.csv). A school or unit without a contact in force is recorded as a
gap (`ops.contact_gap`, a warning naming it), never skipped in silence. The emails name the
school, the week and the deadline: no child's data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from chuyencan.core import schema
from chuyencan.core.contacts import Contacts, note_contact_gap
from chuyencan.core.mail.outbox import queue_email
from chuyencan.core.mail.render import (
    TEMPLATE_DIR,
    RenderedEmail,
    environment,
    format_date,
    format_datetime,
    format_deadline,
    render_notice,
)
from chuyencan.core.organisation import Organisation
from chuyencan.core.reference import Reference, School
from chuyencan.core.settings import Settings

log = logging.getLogger(__name__)

REMINDER = "school_reminder"
NOT_RECEIVED = "school_not_received"


@dataclass
class NoticeSummary:
    week: date
    kind: str
    school_week: bool = True
    too_early: bool = False  # a reminder run before the reminder time, a not-received one before the deadline
    too_late: bool = False  # a reminder run after the deadline
    queued: list[str] = field(default_factory=list)  # school codes newly emailed
    already: list[str] = field(default_factory=list)  # emailed by an earlier run
    no_contact: list[str] = field(default_factory=list)  # "school BX-X", "unit BAT_XAT"

    def as_dict(self) -> dict[str, Any]:
        return {
            "week": self.week.isoformat(),
            "kind": self.kind,
            "school_week": self.school_week,
            "too_early": self.too_early,
            "too_late": self.too_late,
            "queued": self.queued,
            "already_sent": self.already,
            "no_contact": self.no_contact,
        }


def schools_without_accepted_file(conn: Connection, ref: Reference, week: date) -> list[School]:
    """Active schools on the week's Friday with no accepted file for the week (missing or rejected)."""
    sub = schema.ops_submission
    accepted = set(
        conn.execute(
            select(sub.c.school_code).where(sub.c.week_ending == week, sub.c.outcome == "accepted").distinct()
        ).scalars()
    )
    return [s for s in ref.active_schools(week) if s.code not in accepted]


def queue_reminders(
    engine: Engine, ref: Reference, contacts: Contacts, settings: Settings, *, week: date, now: datetime
) -> NoticeSummary:
    """Remind every school still without an accepted file for the week ending `week`."""
    summary = NoticeSummary(week, REMINDER)
    if not ref.is_school_week(week):
        summary.school_week = False
        log.info("week ending %s has no school days: no reminders", week)
        return summary
    deadline = settings.deadline_for(week)
    if now >= deadline:
        # A late or repeated run after the deadline: the not-received notice speaks now.
        summary.too_late = True
        log.info("week ending %s: the deadline has passed, no reminders", week)
        return summary
    if now < settings.reminder_for(week):
        summary.too_early = True
        log.info("week ending %s: before the reminder time, no reminders", week)
        return summary
    with engine.begin() as conn:
        for school in schools_without_accepted_file(conn, ref, week):
            emails = contacts.emails_for("school", school.code, week)
            if not emails:
                _gap(conn, summary, "school", school.code, week=week, now=now)
                continue
            email = render_notice(
                REMINDER,
                roles=_school_roles(contacts, school.code, week),
                school_name=school.name,
                school_code=school.code,
                week=format_date(week),
                deadline=format_deadline(deadline),
                checked_at=format_datetime(now),
            )
            _queue(conn, summary, school.code, emails, email, now=now)
    _log_summary(summary, "reminders")
    return summary


def queue_not_received(
    engine: Engine,
    ref: Reference,
    organisation: Organisation | None,
    contacts: Contacts,
    settings: Settings,
    *,
    week: date,
    now: datetime,
) -> NoticeSummary:
    """After the deadline: tell each school still without an accepted file, and its managing unit."""
    summary = NoticeSummary(week, NOT_RECEIVED)
    if not ref.is_school_week(week):
        summary.school_week = False
        return summary
    deadline = settings.deadline_for(week)
    if now < deadline:
        summary.too_early = True
        log.info("week ending %s: before the deadline, no not-received notices", week)
        return summary
    with engine.begin() as conn:
        for school in schools_without_accepted_file(conn, ref, week):
            unit = organisation.reporting_unit_of_school(school.code, week) if organisation else None
            school_emails = contacts.emails_for("school", school.code, week)
            unit_emails = contacts.emails_for("unit", unit.code, week) if unit else []
            if unit is not None and not unit_emails:
                unit_emails = list(unit.emails)  # the unit's own addresses in reporting_units.csv
            if not school_emails:
                _gap(conn, summary, "school", school.code, week=week, now=now)
            if unit is None:
                log.warning(
                    "no managing unit for %s on %s in school_units.csv: only the school is told",
                    school.code,
                    week,
                )
            elif not unit_emails:
                _gap(conn, summary, "unit", unit.code, week=week, now=now)
            recipients = [*school_emails, *unit_emails]
            if not recipients:
                continue
            # Addressed as a letter is: the school's head by title and school, then the unit.
            school_roles = _school_roles(contacts, school.code, week)
            addressees = [f"{school_roles} {school.name}".strip()] if school_emails else []
            addressees += [unit.name] if unit is not None and unit_emails else []
            email = render_notice(
                NOT_RECEIVED,
                roles="; ".join(addressees),
                school_name=school.name,
                school_code=school.code,
                week=format_date(week),
                deadline=format_deadline(deadline),
                unit_name=unit.name if unit else environment(TEMPLATE_DIR).globals["office"],
            )
            _queue(conn, summary, school.code, recipients, email, now=now)
    _log_summary(summary, "not-received notices")
    return summary


def _school_roles(contacts: Contacts, school_code: str, week: date) -> str:
    """The school's contact roles (head, deputy…) in file order, each once, as the letter names them."""
    return ", ".join(dict.fromkeys(c.role for c in contacts.for_recipient("school", school_code, week)))


def _queue(
    conn: Connection,
    summary: NoticeSummary,
    school_code: str,
    recipients: Sequence[str],
    email: RenderedEmail,
    *,
    now: datetime,
) -> None:
    """Queue one school's notice once per week and kind; a rerun finds it already queued."""
    new = queue_email(
        conn,
        dedup_key=f"{summary.kind}:{school_code}:{summary.week.isoformat()}",
        kind=summary.kind,
        recipients=recipients,
        email=email,
        now=now,
    )
    (summary.queued if new else summary.already).append(school_code)


def _log_summary(summary: NoticeSummary, what: str) -> None:
    log.info(
        "%s for the week ending %s: %d queued (%s), %d already sent, %d without contact",
        what,
        summary.week,
        len(summary.queued),
        ", ".join(summary.queued) or "-",
        len(summary.already),
        len(summary.no_contact),
    )


def _gap(conn: Connection, summary: NoticeSummary, kind: str, key: str, *, week: date, now: datetime) -> None:
    note_contact_gap(conn, recipient_kind=kind, recipient_key=key, purpose=summary.kind, period=week, now=now)
    summary.no_contact.append(f"{kind} {key}")
