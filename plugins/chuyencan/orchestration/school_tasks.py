"""The pipeline's Airflow tasks, shared by the DAG files (which only schedule and wire them).

Each task reads the settings from Airflow, calls one step of `chuyencan.submissions.pipeline` and returns
a small JSON summary (counts and school codes only: no personal data in XCom or logs). Tasks
whose outcome an operator needs at a glance also add a line to the run's note. Heavy imports
happen inside the tasks, never when the scheduler parses a DAG file. A task's docstring is its
documentation in the UI (Task → Details).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import get_current_context, task

from chuyencan.orchestration.dag_defaults import LOAD, QUICK, RETRY_ARGS

if TYPE_CHECKING:
    from collections.abc import Callable

    from chuyencan.core.mail.outbox import OutgoingEmail
    from chuyencan.core.settings import Settings


def _settings() -> Settings:
    from chuyencan.orchestration.adapter import settings_from_airflow
    from chuyencan.orchestration.task_logging import quiet_third_party_loggers

    # First thing in every task: what follows in its log is ours, or a library's warning.
    quiet_third_party_loggers()
    return settings_from_airflow()


def run_week() -> date:
    """The Friday a run works on: the `week` param of a manual run if given, else its logical
    date's (a manual run without one: the last week that ended)."""
    from chuyencan.core.runs import friday_of

    context = get_current_context()
    chosen = (context.get("params") or {}).get("week")
    if chosen:
        return friday_of(date.fromisoformat(str(chosen)), _settings())
    moment = context.get("logical_date") or context["dag_run"].run_after
    return friday_of(moment, _settings())


def run_moment() -> datetime:
    """The moment a run stands for: its logical date (a scheduled run's time, e.g. Friday 08:00
    for the reminders; a manual run's trigger time)."""
    context = get_current_context()
    moment: datetime = context.get("logical_date") or context["dag_run"].run_after
    return moment


def fail_without_retry(message: str) -> None:
    """End the task red at once: retrying cannot fix what the message asks a person to do."""
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(message)


@task(execution_timeout=QUICK, **RETRY_ARGS)
def prepare_warehouse() -> dict:
    """Create or upgrade the warehouse schema and reload the reference data (schools, communes,
    school calendar) from `include/reference`. Idempotent."""
    from chuyencan.submissions.pipeline import prepare_warehouse as run

    return run(_settings())


@task(execution_timeout=QUICK, **RETRY_ARGS)
def check_school_calendar() -> dict:
    """Stop the run when `include/reference/calendar.csv` does not cover the run's week: school
    days, statuses and reconciliation would all be computed against a calendar that is not
    there. The log and the run note say which file to extend; nothing downstream runs."""
    from chuyencan.orchestration.run_notes import add_to_run_note
    from chuyencan.submissions.pipeline import CalendarGap, check_calendar_covers

    try:
        return check_calendar_covers(_settings(), run_week())
    except CalendarGap as gap:
        add_to_run_note(f"calendar gap: {gap}", tier="alert")
        fail_without_retry(str(gap))
        raise


@task(execution_timeout=LOAD, **RETRY_ARGS)
def collect_new_files() -> dict:
    """Every new file in the schools' shared folder (by content hash; the inbox is never
    modified): checked against `include/expectations`, loaded or quarantined with its reasons,
    the school emailed what to fix. One log line per file: name, school, week, outcome, rules."""
    from chuyencan.orchestration.run_notes import note_files_collected
    from chuyencan.submissions.pipeline import collect_new_files as run

    summary: dict[str, Any] = run(_settings())
    note_files_collected(summary)
    return summary


@task(execution_timeout=LOAD, **RETRY_ARGS)
def close_the_week() -> dict:
    """Every active school's status for the week (on time, late, missing, rejected) into
    `report.submission_status`, and the district's summary email queued. The run note gets the
    week's line: '12/14 on time · late BX-DTH · missing BX-THPT2 · rejected BX-GDTX'."""
    from chuyencan.orchestration.run_notes import add_to_run_note, week_note
    from chuyencan.submissions.pipeline import close_week

    closed: dict[str, Any] = close_week(_settings(), run_week())
    if closed.get("school_week"):
        counts = {s: int(closed.get(s, 0)) for s in ("on_time", "late", "missing", "rejected")}
        add_to_run_note(week_note(str(closed["week"]), counts, closed.get("schools", {})), tier="headline")
    else:
        add_to_run_note(
            f"week {closed['week']}: no school days (holiday week), nothing to close", tier="headline"
        )
    return closed


@task(execution_timeout=QUICK, **RETRY_ARGS)
def check_schools_reported(closed: dict) -> dict:
    """Ends red when more than `chuyencan_missing_alert_share` (default 25 %) of the schools have
    no accepted report at the close, so a bad week shows on the grid. Runs last: the emails and
    next week's templates are already out."""
    from chuyencan.orchestration.run_notes import add_to_run_note
    from chuyencan.submissions.pipeline import TooManySchoolsMissing
    from chuyencan.submissions.pipeline import check_schools_reported as run

    try:
        return run(_settings(), closed)
    except TooManySchoolsMissing as alarm:
        add_to_run_note(f"ALERT too many schools without a report: {alarm}", tier="alert")
        fail_without_retry(str(alarm))
        raise


def _note_notices(summary: dict[str, Any], what: str) -> None:
    from chuyencan.orchestration.run_notes import add_to_run_note, note_no_contact

    if not summary.get("school_week"):
        add_to_run_note(f"{what}: week {summary['week']} has no school days, none sent")
        return
    if summary.get("too_late") or summary.get("too_early"):
        add_to_run_note(f"{what}: not due at this run's time for week {summary['week']}, none sent")
        return
    queued = summary.get("queued", [])
    line = f"{what}: {len(queued)} sent ({', '.join(queued) or '-'}), {len(summary.get('already_sent', []))} sent before"
    add_to_run_note(line)
    note_no_contact(summary.get("no_contact", []))


@task(execution_timeout=QUICK, **RETRY_ARGS)
def remind_schools_without_a_file() -> dict:
    """Before the deadline: one reminder (Vietnamese, no personal data) to each active school
    with no accepted file for the week, once per school and week; none in a week without school
    days. A school without a contact in `include/reference/contacts.csv` is named in the run note
    and on the chuyencan page."""
    from chuyencan.submissions.pipeline import remind_schools

    summary: dict[str, Any] = remind_schools(_settings(), run_week(), run_moment())
    _note_notices(summary, "reminders")
    return summary


@task(execution_timeout=QUICK, **RETRY_ARGS)
def tell_schools_not_received() -> dict:
    """After the deadline: one notice to each active school still without an accepted file for
    the week and to its managing unit (`school_units.csv`), once per school and week; none in a
    week without school days."""
    from chuyencan.submissions.pipeline import notify_not_received

    summary: dict[str, Any] = notify_not_received(_settings(), run_week(), run_moment())
    _note_notices(summary, "not-received notices")
    return summary


def mail_sender() -> Callable[[OutgoingEmail], None] | None:
    """Airflow's SMTP connection as a sender; None when none is configured."""
    from chuyencan.orchestration.adapter import SMTP_CONN_ID, smtp_configured
    from chuyencan.orchestration.smtp import airflow_smtp_sender

    return airflow_smtp_sender(SMTP_CONN_ID) if smtp_configured() else None


@task(execution_timeout=LOAD, **RETRY_ARGS)
def send_emails() -> dict:
    """Send what the shared outbox (`ops.email_outbox`) holds, whichever DAG queued it; what
    cannot be sent stays queued and the task fails so it is retried. Logs each email's kind and
    recipient role, never addresses."""
    from chuyencan.orchestration.run_notes import add_to_run_note
    from chuyencan.submissions.pipeline import send_emails as run

    summary: dict[str, Any] = run(_settings(), mail_sender())
    if summary.get("sent"):
        kinds = ", ".join(f"{n} {k}" for k, n in summary.get("sent_by_kind", {}).items())
        add_to_run_note(f"emails: {summary['sent']} sent ({kinds})")
    elif summary.get("smtp") == "not configured" and summary.get("pending"):
        add_to_run_note(f"emails: {summary['pending']} waiting, no SMTP connection configured")
    return summary


@task(execution_timeout=LOAD, **RETRY_ARGS)
def write_next_week_templates() -> dict:
    """Each school's template for the coming week, prefilled with its classes, in
    `<work dir>/templates/<week>/`."""
    from chuyencan.submissions.pipeline import write_templates

    return write_templates(_settings(), run_week() + timedelta(days=7))
