"""The district's weekly procedure as plain functions of the settings.

Each DAG task calls one of these; tests, benchmarks and the demo call them directly. They take
a `Settings` and open their own engine, so they run the same with or without Airflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Engine, select

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.contacts import load_contacts, write_contacts
from chuyencan.core.reference import write_reference
from chuyencan.core.runs import engine_for, organisation_for, reference_for
from chuyencan.core.settings import Settings

log = logging.getLogger(__name__)


def prepare_warehouse(settings: Settings) -> dict[str, int]:
    """Create or upgrade the schema and reload reference data, the organisation's included
    (idempotent)."""
    engine = engine_for(settings.warehouse_url)
    wh.ensure_schema(engine)
    ref = reference_for(settings)
    write_reference(engine, ref, organisation_for(settings))
    write_contacts(engine, load_contacts(settings.reference_dir, ref))
    for folder in (settings.archive_dir, settings.quarantine_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return {"schools": len(ref.schools), "communes": len(ref.communes), "school_weeks": len(ref.school_weeks)}


class CalendarGap(LookupError):
    """The school calendar does not reach the week a run works on: every figure computed for it
    (school days, statuses, reconciliation) would be wrong, so the run stops and says which file
    to extend."""


def check_calendar_covers(settings: Settings, week: date) -> dict[str, object]:
    """Raise `CalendarGap` unless the school calendar covers the week ending `week`.

    Covered: inside a school year, or in the summer before a school year the calendar lists.
    """
    ref = reference_for(settings)
    year = ref.school_year_of(week)
    if year is None:
        last = max((y.end for y in ref.years), default=None)
        raise CalendarGap(
            f"the school calendar ends {last.isoformat() if last else '(empty)'} and does not cover the week "
            f"ending {week.isoformat()}: add the coming school year's rows (year, semester_1, semester_2, "
            f"tet_break, holiday) to {settings.reference_dir / 'calendar.csv'} (include/reference/calendar.csv, "
            f"see include/reference/README.md), then clear this run"
        )
    return {"week": week.isoformat(), "school_year": year.name, "school_week": ref.is_school_week(week)}


def collect_new_files(settings: Settings, now: datetime | None = None) -> dict[str, object]:
    from chuyencan.submissions.collect import collect
    from chuyencan.submissions.notify import acceptance_hook, rejection_hook

    ref = reference_for(settings)
    result = collect(
        engine_for(settings.warehouse_url),
        ref,
        settings,
        on_rejected=rejection_hook(ref, settings),
        on_accepted=acceptance_hook(ref, settings),
        now=now,
    )
    return result.summary()


def close_week(settings: Settings, week: date, now: datetime | None = None) -> dict[str, object]:
    """After the deadline: every active school's status for the week, and the district's email."""
    from chuyencan.submissions.notify import queue_district_weekly
    from chuyencan.submissions.status import refresh_weeks

    ref = reference_for(settings)
    engine = engine_for(settings.warehouse_url)
    if not ref.is_school_week(week):
        log.info("week ending %s has no school days: nothing to close", week)
        return {"week": week.isoformat(), "school_week": False}
    statuses = refresh_weeks(engine, ref, settings, {week}, now=now)
    queued = queue_district_weekly(engine, ref, settings, week, statuses)
    codes = {
        s: sorted(x.school_code for x in statuses if x.status == s) for s in ("late", "missing", "rejected")
    }
    return {
        "week": week.isoformat(),
        "school_week": True,
        **_counts(statuses),
        "schools": codes,
        "district_email_queued": queued,
    }


def remind_schools(settings: Settings, week: date, now: datetime) -> dict[str, object]:
    """Before the deadline: one reminder to each school without an accepted file for the week."""
    from chuyencan.core.contacts import load_contacts
    from chuyencan.submissions.reminders import queue_reminders

    ref = reference_for(settings)
    contacts = load_contacts(settings.reference_dir, ref)
    return queue_reminders(
        engine_for(settings.warehouse_url), ref, contacts, settings, week=week, now=now
    ).as_dict()


def notify_not_received(settings: Settings, week: date, now: datetime) -> dict[str, object]:
    """After the deadline: one notice to each school still without an accepted file for the week,
    and to its managing unit."""
    from chuyencan.core.contacts import load_contacts
    from chuyencan.submissions.reminders import queue_not_received

    ref = reference_for(settings)
    contacts = load_contacts(settings.reference_dir, ref)
    engine = engine_for(settings.warehouse_url)
    notices = queue_not_received(
        engine, ref, organisation_for(settings), contacts, settings, week=week, now=now
    )
    return notices.as_dict()


def refresh_statuses(
    settings: Settings, weeks: Iterable[date], now: datetime | None = None
) -> dict[str, object]:
    """Every active school's status for those of `weeks` that are school weeks, without the
    district's email (the fortnightly run rechecks weeks the weekly run has closed)."""
    from chuyencan.submissions.status import refresh_weeks

    ref = reference_for(settings)
    school_weeks = {w for w in weeks if ref.is_school_week(w)}
    statuses = refresh_weeks(engine_for(settings.warehouse_url), ref, settings, school_weeks, now=now)
    return {"school_weeks": sorted(w.isoformat() for w in school_weeks), **_counts(statuses)}


def _counts(statuses: Iterable[Any]) -> dict[str, int]:
    found = [x.status for x in statuses]
    return {s: found.count(s) for s in ("on_time", "late", "missing", "rejected")}


class TooManySchoolsMissing(RuntimeError):
    """More schools than the threshold have no accepted report at the week's close."""


def check_schools_reported(settings: Settings, closed: dict[str, object]) -> dict[str, object]:
    """Raise `TooManySchoolsMissing` when the share of schools without an accepted file
    (missing or rejected) at the week's close is above `settings.missing_alert_share`."""
    if not closed.get("school_week"):
        return {"week": closed.get("week"), "checked": False}
    missing = int(closed.get("missing", 0)) + int(closed.get("rejected", 0))  # type: ignore[call-overload]
    expected = sum(int(closed.get(s, 0)) for s in ("on_time", "late", "missing", "rejected"))  # type: ignore[call-overload]
    share = missing / expected if expected else 0.0
    summary = {
        "week": closed["week"],
        "without_report": missing,
        "expected": expected,
        "share": round(share, 3),
    }
    if share > settings.missing_alert_share:
        codes = cast("dict[str, list[str]]", closed.get("schools", {}))
        names = ", ".join([*codes.get("missing", []), *codes.get("rejected", [])])
        raise TooManySchoolsMissing(
            f"week ending {closed['week']}: {missing} of {expected} schools have no accepted report at the "
            f"close ({share:.0%} > {settings.missing_alert_share:.0%}, AIRFLOW_VAR_CHUYENCAN_MISSING_ALERT_SHARE): "
            f"{names}. The district has been emailed the list; files that arrive later are picked up "
            f"by school_submissions_intake."
        )
    return summary


def send_emails(settings: Settings, send: Callable | None = None) -> dict[str, object]:
    """Send what the outbox holds; raise if anything could not be sent, so the task retries.

    `send=None` means no mail server is configured: everything stays queued, and the summary
    says how much is waiting (sent as soon as a server is configured).
    """
    from chuyencan.core.mail.outbox import count_unsent, send_pending

    engine = engine_for(settings.warehouse_url)
    if send is None:
        pending, given_up = count_unsent(engine)
        log.warning("no SMTP connection configured: %d emails wait in ops.email_outbox", pending)
        return {"sent": 0, "failed": 0, "pending": pending, "given_up": given_up, "smtp": "not configured"}
    report = send_pending(engine, send, now=datetime.now(UTC))
    summary: dict[str, object] = {
        "sent": report.sent,
        "sent_by_kind": report.sent_by_kind,
        "failed": report.failed,
        "pending": report.pending,
        # The outbox is shared: whichever DAG's send step runs first sends what every DAG
        # queued, so "0 sent" here can mean another run already sent this run's emails.
        "left_to_concurrent_sender": report.busy,
    }
    if report.failed:
        # The task fails so that Airflow retries it with backoff and the outage shows; nothing
        # is lost meanwhile (docs/faults.md).
        if report.server_unreachable:
            message = (
                f"{report.pending} emails could not be sent: the mail server cannot be reached "
                f"({report.server_unreachable}); they stay queued in ops.email_outbox and are "
                f"sent on the next try or run"
            )
        else:
            message = (
                f"{report.failed} emails were refused ({'; '.join(report.failures[:3])}); "
                f"{report.pending} wait in ops.email_outbox for the next try or run, "
                f"{report.given_up} were given up after repeated refusals and need a person"
            )
        log.warning(message)
        raise RuntimeError(message)
    return summary


def write_templates(settings: Settings, week: date) -> dict[str, object]:
    """Next week's template for every active school, prefilled with its classes."""
    from chuyencan.submissions.school_template import write_templates as write_all

    ref = reference_for(settings)
    classes = latest_classes(engine_for(settings.warehouse_url))
    out_dir = settings.templates_dir / week.isoformat()
    paths = write_all(
        ref,
        week,
        out_dir,
        classes_by_school=classes,
        deadline=settings.deadline,
        max_sessions=settings.eligibility_max_sessions,
    )
    return {"week": week.isoformat(), "templates": len(paths), "folder": str(out_dir)}


def latest_classes(engine: Engine) -> dict[str, list[tuple[int, str, int]]]:
    """(grade, class, enrolled) from each school's most recent accepted file."""
    cs, ca = schema.ops_current_submission, schema.ops_class_attendance
    latest = select(cs.c.school_code, cs.c.submission_id, cs.c.week_ending).order_by(
        cs.c.school_code, cs.c.week_ending.desc()
    )
    out: dict[str, list[tuple[int, str, int]]] = {}
    with engine.connect() as conn:
        chosen: dict[str, int] = {}
        for row in conn.execute(latest):
            chosen.setdefault(row.school_code, row.submission_id)
        if not chosen:
            return out
        rows = conn.execute(
            select(ca.c.school_code, ca.c.grade, ca.c.class_name, ca.c.enrolled)
            .where(ca.c.submission_id.in_(list(chosen.values())))
            .order_by(ca.c.school_code, ca.c.grade, ca.c.class_name)
        )
        for r in rows:
            out.setdefault(r.school_code, []).append((r.grade, r.class_name, r.enrolled))
    return out
