"""The fortnightly report's Airflow tasks and its deadline check (the DAG files only wire them).

Each task reads the settings from Airflow, works out the report date from the run's logical
date, runs one step of `chuyencan.orchestration.fortnight` and returns counts or file paths (never
personal data). A per-unit step is a dynamically mapped task, one instance per reporting unit
that `list_reporting_units` returns, so a province's reports spread over the Celery workers.
Heavy imports happen inside the tasks, never when a DAG file is parsed.
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
    "list_reporting_units": QUICK,
    "email_district_report": QUICK,
    "publish_fortnight_summary": REPORT,
    "write_excel_report": REPORT,
    "write_school_risk_lists": REPORT,
}


def _note_after(name: str, run: Any, result: dict) -> None:
    """What a step adds to the run's note (the grid shows it)."""
    from chuyencan.orchestration.run_notes import add_to_run_note, note_files_collected

    if name == "publish_fortnight_summary":
        from chuyencan.core.runs import engine_for, organisation_for
        from chuyencan.report.status_board import district_headline, fortnight_note

        unit = organisation_for(run.settings).reporting_unit(result["unit"], run.report_date)
        if unit is not None and unit.parent is None:  # a province's communes would flood the note
            engine = engine_for(run.settings.warehouse_url)
            add_to_run_note(
                fortnight_note(run.report_date, district_headline(engine, run.report_date, unit.code)),
                tier="headline",
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
    fortnight ends the run red, without retrying, and says which file to extend.

    The units step returns its list of units itself: Airflow maps tasks over a task's whole
    return value, never over one key of it."""
    from chuyencan.orchestration.fortnight import UNITS_STEP, step_named

    returns_units = name == UNITS_STEP

    def run_step(**inputs: dict) -> dict | list:
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
        return result["units"] if returns_units else result  # type: ignore[return-value]

    run_step.__doc__ = step_named(name).doc
    return task(
        task_id=name,
        multiple_outputs=not returns_units,
        execution_timeout=_TIMEOUTS.get(name, LOAD),
        **RETRY_ARGS,
    )(run_step)


def _unit_step_task(name: str) -> Any:
    """The mapped task that runs the per-unit step `name` for one unit (`unit`, the mapped
    argument; its instances show the unit's code in the grid). The results of the per-unit
    steps it reads arrive as the lists of all units' results (each names its unit)."""
    from chuyencan.orchestration.fortnight import step_named

    def run_unit_step(unit: str, **inputs: Any) -> dict:
        from chuyencan.orchestration.fortnight import FortnightRun
        from chuyencan.orchestration.school_tasks import mail_sender

        get_current_context()["unit"] = unit  # type: ignore[typeddict-unknown-key]  # map_index_template
        # (inputs also holds Airflow's context: only the steps read are results)
        # A slice reads a mapped task's results in one request; iterating would ask for one more
        # item than there is, which Airflow's client logs as an error.
        results = {need: {r["unit"]: r for r in inputs[need][:]} for need in step_named(name).needs}
        run = FortnightRun(_settings(), run_report_date(), mail_sender=mail_sender, results=results)
        result = step_named(name).run(run, unit)
        _note_after(name, run, result)
        return result

    run_unit_step.__doc__ = step_named(name).doc
    return task(
        task_id=name,
        execution_timeout=_TIMEOUTS.get(name, LOAD),
        map_index_template="{{ unit }}",
        doc_md=step_named(name).doc,  # a mapped task does not take it from the docstring
        **RETRY_ARGS,
    )(run_unit_step)


def fortnight_tasks() -> None:
    """Inside a DAG: one task per step of `FORTNIGHT_STEPS`, each after the steps it waits for;
    a per-unit step mapped over the units of `list_reporting_units`."""
    from chuyencan.orchestration.fortnight import FORTNIGHT_STEPS, UNITS_STEP, upstream

    made: dict[str, Any] = {}
    for step in FORTNIGHT_STEPS:
        needs = {name: made[name] for name in step.needs}
        if step.per_unit:
            made[step.name] = _unit_step_task(step.name).partial(**needs).expand(unit=made[UNITS_STEP])
        else:
            made[step.name] = _step_task(step.name)(**needs)
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
