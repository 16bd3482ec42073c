"""The fortnightly report's sequence: which steps run, in which order, waiting for which.

One definition for every caller: the `fortnightly_report` DAG builds one task per step from
`FORTNIGHT_STEPS` (`chuyencan.orchestration.report_tasks.fortnight_tasks`), the demo runs that
DAG, and tests and the benchmark call `run_fortnight`/`publish_fortnight`. A step marked
`per_unit` runs once for each reporting unit `list_reporting_units` names (the DAG maps it over
them, so a province's units spread over the workers; `run_fortnight` loops), and its results
are kept by unit. Plain Python, no
Airflow: it sits in orchestration because it strings the three flows together (the school
files' collection and statuses, the police reconciliation, the report). The steps are the
flows' own functions, imported when a step runs: DAG files import this module and must stay
cheap to parse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chuyencan.core.mail.outbox import OutgoingEmail
    from chuyencan.core.settings import Settings


def _weekly() -> ModuleType:
    from chuyencan.submissions import pipeline

    return pipeline


def _police() -> ModuleType:
    from chuyencan.police import pipeline

    return pipeline


def _report() -> ModuleType:
    from chuyencan.report import pipeline

    return pipeline


def _verification() -> ModuleType:
    from chuyencan.report import verification_pipeline

    return verification_pipeline


@dataclass
class FortnightRun:
    """What each step of one fortnightly run is given."""

    settings: Settings
    report_date: date
    now: datetime | None = None
    # The mail server's sender, asked for only when the sending step runs (None: not configured).
    mail_sender: Callable[[], Callable[[OutgoingEmail], None] | None] = lambda: None
    # What the steps that ran before returned, by step name.
    results: dict[str, dict[str, object]] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One step of the fortnightly run; its name is the DAG's task id."""

    name: str
    # (run) for a step of the whole date, (run, unit) for a per-unit step.
    run: Callable[..., dict[str, object]]
    # The steps it waits for (None: the one listed before it) and those whose results it reads
    # (a per-unit step reads the result of the same unit of a per-unit step it needs).
    after: tuple[str, ...] | None = None
    needs: tuple[str, ...] = ()
    # What the step does, for the operators (the task's docs in the Airflow UI).
    doc: str = ""
    per_unit: bool = False


# The step whose result names the units the per-unit steps run for ({"units": [...]}).
UNITS_STEP = "list_reporting_units"


def list_reporting_units(run: FortnightRun) -> dict[str, object]:
    """The reporting units in force on the report date with a fortnightly schedule (a commune's
    before its department's); each gets its own report."""
    return {
        "report_date": run.report_date.isoformat(),
        "units": _report().units_to_report(run.settings, run.report_date),
    }


def close_both_weeks(run: FortnightRun) -> dict[str, object]:
    """Every active school's submission status for both weeks of the fortnight; the district's
    weekly email is the weekly DAG's job and is not queued again."""
    from chuyencan.report.calendar_periods import Fortnight

    weeks = Fortnight(run.report_date).weeks
    return {
        "report_date": run.report_date.isoformat(),
        **_weekly().refresh_statuses(run.settings, weeks, now=run.now),
    }


def refresh_reconciliation(run: FortnightRun) -> dict[str, object]:
    """Police reconciliation first, so the report counts fresh verdicts."""
    from chuyencan.police.pipeline import reconcile

    return {"reconciled": True, **reconcile(run.settings)}


# The fortnightly report's procedure, in order: the one definition the DAG's tasks, the demo
# (through the DAG), the tests and the benchmark all run. The first two and the last steps are
# the weekly DAG's, repeated to sweep in files that came late and to send what was queued.
FORTNIGHT_STEPS: tuple[Step, ...] = (
    Step(
        "prepare_warehouse",
        lambda r: _weekly().prepare_warehouse(r.settings),
        doc="Create or upgrade the warehouse schema; reload the reference data from include/reference.",
    ),
    Step(
        "check_school_calendar",
        lambda r: _weekly().check_calendar_covers(r.settings, r.report_date),
        doc="Stop the run (red, naming the file to extend) when include/reference/calendar.csv does "
        "not cover the fortnight: every figure would be computed against a calendar that is not there.",
    ),
    Step(
        "collect_new_files",
        lambda r: _weekly().collect_new_files(r.settings, now=r.now),
        doc="Sweep in the files that came since the weekly run (late reports and corrections count).",
    ),
    Step("close_both_weeks", close_both_weeks, doc=close_both_weeks.__doc__ or ""),
    Step("refresh_reconciliation", refresh_reconciliation, doc=refresh_reconciliation.__doc__ or ""),
    Step(
        "check_police_extracts_arrived",
        lambda r: _police().check_police_rounds(r.settings, now=r.now, report_date=r.report_date),
        doc="Per police round (include/reference/police_rounds.csv) and commune: did its extract arrive "
        "by the due date (report.police_round_arrival)? After the due date a missing one is named once "
        "to the commune police by email (no personal data; only by the current fortnight's run) and in "
        "the report.",
    ),
    Step(
        "flag_students_at_risk",
        lambda r: _report().flag_students_at_risk(r.settings, r.report_date),
        doc="Early warning into restricted.student_risk: chronic absence, rising absences, near the "
        "45-session limit, the school's own 'at risk', a sibling who dropped out.",
    ),
    Step(
        "check_dropout_lists",
        lambda r: _report().check_dropout_lists(r.settings, r.report_date),
        after=("flag_students_at_risk",),
        doc="Warn schools whose dropout lists disagree with the calendar; list the texts the phrase "
        "rules did not classify (cum_tu_chua_phan_loai_<date>.csv) for the district to extend them.",
    ),
    Step(
        UNITS_STEP,
        list_reporting_units,
        after=("flag_students_at_risk",),
        doc=list_reporting_units.__doc__ or "",
    ),
    Step(
        "collect_verification_returns",
        lambda r: _verification().collect_verification_returns(r.settings, r.report_date, now=r.now),
        after=("flag_students_at_risk",),
        doc="The communes' filled-in verification lists from their nop_lai folders: checked, recorded "
        "or quarantined with reasons (the commune is emailed what to fix); then which communes have "
        "not answered for two fortnights (report.commune_verification). docs/verification.md.",
    ),
    Step(
        "publish_fortnight_summary",
        lambda r, unit: _report().publish_fortnight_summary(r.settings, r.report_date, unit),
        per_unit=True,
        doc="One per reporting unit: report.fortnight_summary and report.fortnight_breakdown of the "
        "unit's report, for the unit, each level, commune and school (docs/organisation.md); the run "
        "note gets the headline figures of each unit without parent.",
    ),
    Step(
        "write_excel_report",
        lambda r, unit: _report().write_excel_report(r.settings, r.report_date, unit),
        per_unit=True,
        doc="One per reporting unit: its Excel report (+ Markdown/HTML twin) and its public version "
        "(small counts hidden) under <work dir>/reports/.",
    ),
    Step(
        "write_school_risk_lists",
        lambda r: _report().write_school_risk_lists(r.settings, r.report_date),
        after=("publish_fortnight_summary",),
        doc="One restricted list of at-risk students per school, for its principal.",
    ),
    Step(
        "write_commune_verification_lists",
        lambda r: _verification().write_commune_verification_lists(r.settings, r.report_date, now=r.now),
        after=("publish_fortnight_summary",),
        doc="Each commune's list of out-of-school and at-risk children living there, by village, "
        "delivered into the commune's folder for home visits. docs/verification.md.",
    ),
    Step(
        "email_district_report",
        lambda r, unit: _report().email_district_report(
            r.settings, r.report_date, r.results["write_excel_report"][unit]
        ),
        after=("write_excel_report",),
        needs=("write_excel_report",),
        per_unit=True,
        doc="One per reporting unit: queue its Excel report to it (aggregates only); sent by send_emails.",
    ),
    Step(
        "deliver_principals_lists",
        lambda r: _report().deliver_principals_lists(r.settings, r.report_date, now=r.now),
        after=("write_school_risk_lists", "email_district_report"),
        doc="Each school's restricted list (dropouts, long absences, at risk with the reasons, returns) "
        "into the school's folder on the share; its contacts get a notice without personal data.",
    ),
    Step(
        "deliver_home_affairs_list",
        lambda r: _report().deliver_home_affairs_list(r.settings, r.report_date, now=r.now),
        doc="The Home Affairs office's restricted list of pupils working in karaoke bars, restaurants and "
        "guesthouses (the report's counts by commune), into the office's folder, with a notice.",
    ),
    Step(
        "send_emails",
        lambda r: _weekly().send_emails(r.settings, r.mail_sender()),
        after=("deliver_home_affairs_list", "check_dropout_lists", "write_commune_verification_lists"),
        doc="Send what the shared outbox holds; what cannot be sent stays queued and the task is retried.",
    ),
)
# Steps shared with the weekly DAG: callers that filled the warehouse themselves leave them out.
WEEKLY_STEPS = frozenset({"prepare_warehouse", "check_school_calendar", "collect_new_files", "send_emails"})


def step_named(name: str) -> Step:
    return next(step for step in FORTNIGHT_STEPS if step.name == name)


def upstream(step: Step) -> tuple[str, ...]:
    """The steps `step` waits for."""
    if step.after is not None:
        return step.after
    index = FORTNIGHT_STEPS.index(step)
    return (FORTNIGHT_STEPS[index - 1].name,) if index else ()


def run_fortnight(
    run: FortnightRun, *, skip: frozenset[str] = frozenset(), seconds: dict[str, float] | None = None
) -> dict[str, dict[str, object]]:
    """Every step in order (but those in `skip`); each one's result by name. `seconds`, when
    given, receives each step's wall time."""
    for step in FORTNIGHT_STEPS:
        if step.name in skip:
            continue
        start = time.perf_counter()
        if step.per_unit:
            units = run.results[UNITS_STEP]["units"]
            assert isinstance(units, list)
            run.results[step.name] = {unit: step.run(run, unit) for unit in units}
        else:
            run.results[step.name] = step.run(run)
        if seconds is not None:
            seconds[step.name] = time.perf_counter() - start
    return run.results


def publish_fortnight(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, dict[str, object]]:
    """The report's own steps, for tests and scripts that loaded the warehouse themselves; a
    per-unit step's result is {unit: result}."""
    return run_fortnight(FortnightRun(settings, report_date, now=now), skip=WEEKLY_STEPS)
