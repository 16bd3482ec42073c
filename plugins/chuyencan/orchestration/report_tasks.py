"""The fortnightly report's Airflow tasks and its deadline check (the DAG files only wire them).

Each task reads the settings from Airflow, works out the report date from the run's logical
date, runs one step of `chuyencan.orchestration.fortnight` and returns counts or file paths (never
personal data). Heavy imports happen inside the tasks, never when a DAG file is parsed.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from airflow.sdk import get_current_context, task

from chuyencan.orchestration.dag_defaults import LOAD, QUICK, REPORT, RETRY_ARGS
from chuyencan.orchestration.school_tasks import _settings, fail_without_retry

log = logging.getLogger(__name__)


def run_report_date() -> date:
    """The report a run publishes: the report Friday of its `week` param if given, else of its
    logical date (a manual run without one: the latest report Friday by the time it was
    triggered)."""
    from chuyencan.report.pipeline import report_date_for

    context = get_current_context()
    chosen = (context.get("params") or {}).get("week")
    moment = (
        date.fromisoformat(str(chosen))
        if chosen
        else context.get("logical_date") or context["dag_run"].run_after
    )
    return report_date_for(moment, _settings())


# How long each step's task may take before Airflow stops it (well above measured times).
_TIMEOUTS = {
    "prepare_warehouse": QUICK,
    "check_school_calendar": QUICK,
    "email_district_report": QUICK,
    "publish_fortnight_summary": REPORT,
    "write_excel_report": REPORT,
    "write_school_risk_lists": REPORT,
}


def _note_after(name: str, run: Any, result: dict) -> None:
    """What a step adds to the run's note (the grid shows it)."""
    from chuyencan.orchestration.run_notes import add_to_run_note, note_files_collected

    if name == "publish_fortnight_summary":
        from chuyencan.core.runs import engine_for
        from chuyencan.report.status_board import district_headline, fortnight_note

        engine = engine_for(run.settings.warehouse_url)
        add_to_run_note(
            fortnight_note(run.report_date, district_headline(engine, run.report_date)), tier="headline"
        )
    elif name == "collect_new_files":
        note_files_collected(result)
    elif name == "check_police_extracts_arrived" and result.get("police_rounds"):
        missing = list(result.get("police_missing") or [])
        add_to_run_note(
            f"police extracts: {result.get('extracts_on_time', 0)} on time, {result.get('extracts_late', 0)} late, "
            f"{len(missing)} missing after the due date"
            + (f" ({', '.join(missing[:12])}{' …' if len(missing) > 12 else ''})" if missing else "")
            + f"; {result.get('police_named', 0)} commune police told now",
            tier="alert" if missing else "detail",
        )
        gaps = list(result.get("police_without_contact") or [])
        if gaps:
            add_to_run_note(f"no police contact for: {', '.join(gaps)}", tier="alert")
    elif name == "deliver_principals_lists" and result.get("schools_without_contact"):
        schools = list(result["schools_without_contact"])
        add_to_run_note(
            f"principals' lists delivered, no contact to tell: {', '.join(schools)}", tier="alert"
        )
    elif (
        name == "deliver_home_affairs_list"
        and result.get("home_affairs_delivered")
        and not result.get("home_affairs_notified")
    ):
        add_to_run_note(
            f"Home Affairs list delivered, no contact for {result['home_affairs_office']}", tier="alert"
        )


def _step_task(name: str) -> Any:
    """The Airflow task that runs the step `name` for the run's report date; the results of
    the steps it reads arrive as keyword arguments (XCom). A calendar that does not cover the
    fortnight ends the run red, without retrying, and says which file to extend."""
    from chuyencan.orchestration.fortnight import step_named

    def run_step(**inputs: dict) -> dict:
        from chuyencan.orchestration.fortnight import FortnightRun
        from chuyencan.orchestration.run_notes import add_to_run_note
        from chuyencan.orchestration.school_tasks import mail_sender
        from chuyencan.submissions.pipeline import CalendarGap

        run = FortnightRun(_settings(), run_report_date(), mail_sender=mail_sender, results=dict(inputs))
        try:
            result = step_named(name).run(run)
        except CalendarGap as gap:
            add_to_run_note(f"calendar gap: {gap}", tier="alert")
            fail_without_retry(str(gap))
            raise
        _note_after(name, run, result)
        return result

    run_step.__doc__ = step_named(name).doc
    return task(
        task_id=name, multiple_outputs=True, execution_timeout=_TIMEOUTS.get(name, LOAD), **RETRY_ARGS
    )(run_step)


def fortnight_tasks() -> None:
    """Inside a DAG: one task per step of `FORTNIGHT_STEPS`, each after the steps it waits for."""
    from chuyencan.orchestration.fortnight import FORTNIGHT_STEPS, upstream

    made: dict[str, Any] = {}
    for step in FORTNIGHT_STEPS:
        made[step.name] = _step_task(step.name)(**{name: made[name] for name in step.needs})
        for name in upstream(step):
            made[name] >> made[step.name]


@task(execution_timeout=QUICK, **RETRY_ARGS)
def check_report_is_out() -> dict:
    """At the report deadline: the report dated today is out, or the district and the engineers
    are told and this task ends red (without retrying, which would alert them again)."""
    from chuyencan.orchestration.run_notes import add_to_run_note
    from chuyencan.orchestration.school_tasks import mail_sender
    from chuyencan.report.pipeline import ReportDeadlineMissed, check_report_out

    report_date = run_report_date()
    try:
        seen = check_report_out(_settings(), report_date, now=datetime.now(UTC), send=mail_sender())
    except ReportDeadlineMissed as missed:
        add_to_run_note(f"DEADLINE MISSED: {missed}", tier="alert")
        fail_without_retry(str(missed))
        raise
    add_to_run_note(
        tier="headline",
        line=f"report {report_date.isoformat()} "
        + ("is out" if seen["published"] else "not out (past fortnight: no alert)"),
    )
    return seen
