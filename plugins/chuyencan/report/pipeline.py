"""The fortnightly report's procedure as plain functions of the settings and the report date.

`chuyencan.orchestration.fortnight` puts them in order, and runs them for the DAG, the demo, the tests
and the benchmark. The report dated Friday F covers the school weeks ending F-7 and F. Every
step replaces what an earlier run of the same date wrote, so a rerun leaves the same state.

A report is produced for every reporting unit in force on the report date with a fortnightly
schedule (`units_to_report`, docs/organisation.md): the steps that take a `unit` work on that
unit's report alone, so the units' reports can run at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chuyencan.core.runs import engine_for, friday_of, organisation_for, reference_for
from chuyencan.core.settings import REPORT_DEADLINE, Settings
from chuyencan.core.wording import catalogue
from chuyencan.report.calendar_periods import Fortnight, report_date_on_or_before

if TYPE_CHECKING:
    from chuyencan.core.contacts import Contacts
    from chuyencan.core.mail.outbox import OutgoingEmail

log = logging.getLogger(__name__)


def report_date_for(moment: datetime | date, settings: Settings) -> date:
    """The report a run publishes: the latest report Friday on or before its logical date
    (a scheduled run's logical date is the report Friday itself)."""
    return report_date_on_or_before(friday_of(moment, settings))


def reports_dir(settings: Settings) -> Path:
    """Where the report files go; per-school lists of at-risk students go in its `restricted/`."""
    return settings.work_dir / "reports"


def units_to_report(settings: Settings, report_date: date) -> list[str]:
    """Codes of the reporting units in force on the report date whose schedule is fortnightly,
    each before its parent."""
    units = organisation_for(settings).reporting_units_in_force(report_date)
    return [u.code for u in units if u.schedule == "fortnightly"]


def flag_students_at_risk(settings: Settings, report_date: date) -> dict[str, object]:
    from chuyencan.report.early_warning import flag_students

    result = flag_students(
        engine_for(settings.warehouse_url),
        reference_for(settings),
        settings,
        report_date,
        organisation_for(settings),
    )
    return result.as_dict()


def check_dropout_lists(settings: Settings, report_date: date) -> dict[str, object]:
    """What concerns the schools' lists whatever the unit: warnings to schools whose dropout
    lists disagree with the calendar, and the list of texts the phrase rules did not classify."""
    from chuyencan.report.school_warnings import warn_schools
    from chuyencan.report.summary import find_unclassified, write_unclassified

    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    unclassified = find_unclassified(engine, ref, organisation_for(settings), report_date)
    path = write_unclassified(report_date, unclassified, reports_dir(settings))
    warnings = warn_schools(engine, ref, settings, report_date)
    return {
        "report_date": report_date.isoformat(),
        "unclassified_file": str(path),
        "unclassified_texts": sum(len(v) for v in unclassified.values()),
        "calendar_warnings": warnings,
    }


def publish_fortnight_summary(settings: Settings, report_date: date, unit: str) -> dict[str, object]:
    """The summary and breakdown tables of `unit`'s report."""
    from chuyencan.report.summary import publish_summary

    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    result = publish_summary(engine, ref, organisation_for(settings), settings, report_date, unit=unit)
    return result.as_dict()


def write_excel_report(settings: Settings, report_date: date, unit: str | None = None) -> dict[str, str]:
    """A reporting unit's report (.xlsx, .md, .html) and its public version (small counts
    hidden); Bát Xát's district by default. The letterhead, wording and recipients are the
    unit's, from the organisation's reference files."""
    from chuyencan.core.settings import DISTRICT_KEY
    from chuyencan.report.content import load_content
    from chuyencan.report.excel import write_report_files
    from chuyencan.report.public import write_public_report
    from chuyencan.report.unit import report_unit

    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    who = report_unit(organisation_for(settings), unit or DISTRICT_KEY, report_date)
    content = load_content(engine, report_date, ref, unit=who, max_sessions=settings.eligibility_max_sessions)
    files = write_report_files(content, reports_dir(settings))
    public = write_public_report(content, reports_dir(settings))
    return {
        "unit": who.code,
        "xlsx": str(files.xlsx),
        "markdown": str(files.markdown),
        "html": str(files.html),
        "public_xlsx": str(public.xlsx),
        "public_csv": str(public.csv),
        "public_breakdown_csv": str(public.breakdown_csv),
    }


def write_school_risk_lists(settings: Settings, report_date: date) -> dict[str, object]:
    from chuyencan.report.lists import write_school_risk_lists as write_lists

    paths = write_lists(
        engine_for(settings.warehouse_url),
        report_date,
        reports_dir(settings),
        reference_for(settings),
        max_sessions=settings.eligibility_max_sessions,
    )
    # Paths only name school codes and dates; the files themselves are restricted.
    return {"report_date": report_date.isoformat(), "school_lists": len(paths)}


PRINCIPAL_LIST = "principal_list"  # chuyencan.core.delivery's document kind


def _contacts(settings: Settings) -> Contacts:
    """contacts.csv of the reference folder. A folder without one (a generated province sample)
    delivers all the same and records every recipient as having no contact (ops.contact_gap,
    a warning): nobody is skipped silently. A file with mistakes stops the step."""
    from chuyencan.core.contacts import CONTACTS_FILE, Contacts, load_contacts

    if not (settings.reference_dir / CONTACTS_FILE).is_file():
        log.warning("no %s in %s: lists are delivered, nobody is told", CONTACTS_FILE, settings.reference_dir)
        return Contacts(())
    return load_contacts(settings.reference_dir, reference_for(settings))


def deliver_principals_lists(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, object]:
    """Each school's restricted list of the report date (write_school_risk_lists) into that
    school's folder on the share, with a notice (no personal data) to its contacts."""
    from chuyencan.core.delivery import deliver_file
    from chuyencan.report.files import restricted_dir
    from chuyencan.report.lists import list_file_name

    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    moment = now or datetime.now(UTC)
    folder = restricted_dir(reports_dir(settings))
    contacts = _contacts(settings)
    delivered, new, unnotified = 0, 0, []
    for school in ref.active_schools(report_date):
        path = folder / list_file_name(school.code, report_date)
        if not path.is_file():
            continue  # nobody in any of the four parts on its list
        done = deliver_file(
            engine,
            settings,
            recipient_kind="school",
            recipient_key=school.code,
            document_kind=PRINCIPAL_LIST,
            source=path,
            period=report_date,
            now=moment,
            recipient_name=school.name,
            contacts=contacts,
        )
        delivered += 1
        new += done.new
        if done.new and not done.notified:
            unnotified.append(school.code)
    log.info(
        "principals' lists %s: %d delivered (%d new); no contact: %s", report_date, delivered, new, unnotified
    )
    return {
        "report_date": report_date.isoformat(),
        "principals_lists": delivered,
        "principals_lists_new": new,
        "schools_without_contact": unnotified,
    }


HOME_AFFAIRS_LIST = "home_affairs_list"  # chuyencan.core.delivery's document kind


def deliver_home_affairs_list(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, object]:
    """The Home Affairs office's restricted list of pupils working in karaoke bars, restaurants
    and guesthouses (the report's counts), written and delivered to the office's folder."""
    from chuyencan.core.delivery import deliver_file
    from chuyencan.report.home_affairs import write_home_affairs_list

    engine, ref = engine_for(settings.warehouse_url), reference_for(settings)
    office = settings.home_affairs_office
    written = write_home_affairs_list(
        engine,
        ref,
        organisation_for(settings),
        settings,
        report_date,
        out_dir=reports_dir(settings),
        office=office,
    )
    done = deliver_file(
        engine,
        settings,
        recipient_kind="office",
        recipient_key=office,
        document_kind=HOME_AFFAIRS_LIST,
        source=written.path,
        period=report_date,
        now=now or datetime.now(UTC),
        contacts=_contacts(settings),
    )
    return {
        "report_date": report_date.isoformat(),
        "home_affairs_office": office,
        "home_affairs_pupils": written.pupils,
        "home_affairs_communes": written.communes,
        "home_affairs_delivered": done.new,
        "home_affairs_notified": bool(done.notified),
    }


def email_district_report(
    settings: Settings, report_date: date, files: dict[str, str], unit: str | None = None
) -> dict[str, object]:
    """Queue the report email of the unit whose files `write_excel_report` wrote (its "unit"),
    or of `unit`; Bát Xát's district by default."""
    from chuyencan.core.settings import DISTRICT_KEY
    from chuyencan.report.email import queue_district_report
    from chuyencan.report.files import ReportFiles
    from chuyencan.report.unit import report_unit

    code = unit or files.get("unit") or DISTRICT_KEY
    who = report_unit(organisation_for(settings), code, report_date)
    report_files = ReportFiles(
        xlsx=Path(files["xlsx"]), markdown=Path(files["markdown"]), html=Path(files["html"])
    )
    queued = queue_district_report(
        engine_for(settings.warehouse_url), settings, report_date, report_files, who
    )
    return {"report_date": report_date.isoformat(), "unit": who.code, "queued": bool(queued)}


RUN_STATE_LABELS: dict[str, str] = catalogue("mail")["report_run_states"]


def deadline_of(report_date: date, settings: Settings) -> datetime:
    """When the district expects the report dated `report_date`, local time."""
    return datetime.combine(report_date, REPORT_DEADLINE, tzinfo=settings.timezone)


def report_is_out(settings: Settings, report_date: date, unit: str | None = None) -> bool:
    """Published: `unit`'s own summary row is in the warehouse and its Excel report is written
    (what the unit reads and what it files); without `unit`, that of every reporting unit in
    force on the date (Bát Xát's district before the reform, each commune and the department
    after)."""
    from sqlalchemy import func, select

    from chuyencan.core.schema import fortnight_summary as t
    from chuyencan.report.files import report_files
    from chuyencan.report.unit import report_unit

    org = organisation_for(settings)
    codes = [unit] if unit else [u.code for u in org.reporting_units_in_force(report_date)]
    units = [report_unit(org, code, report_date) for code in codes]
    if not units:
        return False
    with engine_for(settings.warehouse_url).connect() as conn:
        for who in units:
            query = select(func.count()).where(
                t.c.report_date == report_date,
                t.c.reporting_unit == who.code,
                t.c.scope == who.top_scope,
                t.c.scope_key == who.code,
            )
            if not conn.execute(query).scalar_one():
                return False
    return all(report_files(reports_dir(settings), report_date, u.file_tag).xlsx.exists() for u in units)


def reports_missing(settings: Settings, report_date: date) -> list[str]:
    """The units due a report on the date whose report is not out."""
    return [u for u in units_to_report(settings, report_date) if not report_is_out(settings, report_date, u)]


def check_report_out(
    settings: Settings,
    report_date: date,
    *,
    now: datetime,
    send: Callable[[OutgoingEmail], None] | None,
) -> dict[str, object]:
    """At the deadline: is every unit's report out? If not, alert the district and the engineers.

    Only the current fortnight's report alerts anyone: a check of an older date (a manual run,
    or the scheduler's first run while the report DAG still catches up) only says what it saw.
    An unreachable warehouse counts as "not out": it is one of the reasons a report is late.
    """
    from sqlalchemy.exc import SQLAlchemyError

    summary: dict[str, object] = {
        "report_date": report_date.isoformat(),
        "published": False,
        "alerted": False,
    }
    state = "not_published"
    try:
        missing = reports_missing(settings, report_date)
        summary["published"] = not missing
        summary["units_missing"] = missing
    except SQLAlchemyError as exc:
        log.warning("cannot tell whether report %s is out: %s", report_date, type(exc).__name__)
        state = "warehouse_unreachable"
    if summary["published"]:
        log.info("report %s is out", report_date)
        return summary
    current = report_date_on_or_before(now.astimezone(settings.timezone).date())
    if report_date != current:
        log.info("report %s is not out; not the current fortnight (%s), so no alert", report_date, current)
        return summary
    recipients = [*settings.district_emails, *settings.engineer_emails]
    if send is None:
        raise RuntimeError(
            f"report {report_date} is not out by its deadline and no SMTP connection is configured "
            f"to alert {len(recipients)} recipients"
        )
    summary["alerted"] = send_deadline_alert(
        settings, report_date, recipients=recipients, dag_id="fortnightly_report", state=state, send=send
    )
    # The alert is out; the check itself ends red so the grid shows the missed deadline too.
    raise ReportDeadlineMissed(
        f"report {report_date.isoformat()} is not out by {deadline_of(report_date, settings):%H:%M} "
        f"({RUN_STATE_LABELS_EN.get(state, state)}); "
        + (
            f"{len(recipients)} recipients alerted"
            if summary["alerted"]
            else "nobody to alert: no recipients set"
        )
    )


class ReportDeadlineMissed(RuntimeError):
    """The current fortnight's report is not out at its deadline (raised after the alert)."""


RUN_STATE_LABELS_EN = {
    "not_published": "no summary or Excel report for the date",
    "warehouse_unreachable": "the warehouse cannot be reached",
}


def send_deadline_alert(
    settings: Settings,
    report_date: date,
    *,
    recipients: Sequence[str],
    dag_id: str,
    state: str,
    send: Callable[[OutgoingEmail], None],
) -> bool:
    """Tell the district and the engineers that the report is not out by its deadline.

    Sent straight through the mail server, not the outbox: the outbox lives in the warehouse
    and is emptied by a later task of the very run that is late, either of which may be what
    broke. False when there is nobody to tell.
    """
    from chuyencan.core.mail.outbox import OutgoingEmail
    from chuyencan.core.mail.render import render_email

    if not recipients:
        log.warning("report %s missed its deadline and no recipients are configured", report_date)
        return False
    week_1, week_2 = Fortnight(report_date).weeks
    rendered = render_email(
        "report_deadline_missed",
        report_date=report_date,
        week_1=week_1,
        week_2=week_2,
        deadline=deadline_of(report_date, settings),
        dag_id=dag_id,
        state_label=RUN_STATE_LABELS.get(state, state),
    )
    send(
        OutgoingEmail(
            email_id=0,
            recipients=list(dict.fromkeys(recipients)),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=[],
            dedup_key=f"report_deadline:{report_date.isoformat()}",
        )
    )
    log.warning("report %s missed its deadline: %d recipients alerted", report_date, len(recipients))
    return True
