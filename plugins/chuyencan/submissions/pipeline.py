"""The district's weekly procedure as plain functions of the settings.

Each DAG task calls one of these; tests, benchmarks and the demo call them directly. They take
a `Settings` and open their own engine, so they run the same with or without Airflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.reference import write_reference
from chuyencan.core.runs import engine_for, reference_for
from chuyencan.core.settings import Settings

log = logging.getLogger(__name__)


def prepare_warehouse(settings: Settings) -> dict[str, int]:
    """Create or upgrade the schema and reload reference data (idempotent)."""
    engine = engine_for(settings.warehouse_url)
    wh.ensure_schema(engine)
    ref = reference_for(settings)
    write_reference(engine, ref)
    for folder in (settings.archive_dir, settings.quarantine_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return {"schools": len(ref.schools), "communes": len(ref.communes), "school_weeks": len(ref.school_weeks)}


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
    counts = {s: sum(x.status == s for x in statuses) for s in ("on_time", "late", "missing", "rejected")}
    return {"week": week.isoformat(), "school_week": True, **counts, "district_email_queued": queued}


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
    summary: dict[str, object] = {"sent": report.sent, "failed": report.failed, "pending": report.pending}
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
    paths = write_all(ref, week, out_dir, classes_by_school=classes)
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
