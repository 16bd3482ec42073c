"""The fortnightly report's sequence: which steps run, in which order, waiting for which.

One definition for every caller: the `fortnightly_report` DAG builds one task per step from
`FORTNIGHT_STEPS` (`chuyencan.orchestration.report_tasks.fortnight_tasks`), the demo runs that
DAG, and tests and the benchmark call `run_fortnight`/`publish_fortnight`. Plain Python, no
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


def _report() -> ModuleType:
    from chuyencan.report import pipeline

    return pipeline


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
    run: Callable[[FortnightRun], dict[str, object]]
    # The steps it waits for (None: the one listed before it) and those whose results it reads.
    after: tuple[str, ...] | None = None
    needs: tuple[str, ...] = ()


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
    Step("prepare_warehouse", lambda r: _weekly().prepare_warehouse(r.settings)),
    Step("collect_new_files", lambda r: _weekly().collect_new_files(r.settings, now=r.now)),
    Step("close_both_weeks", close_both_weeks),
    Step("refresh_reconciliation", refresh_reconciliation),
    Step("flag_students_at_risk", lambda r: _report().flag_students_at_risk(r.settings, r.report_date)),
    Step(
        "publish_fortnight_summary", lambda r: _report().publish_fortnight_summary(r.settings, r.report_date)
    ),
    Step("write_excel_report", lambda r: _report().write_excel_report(r.settings, r.report_date)),
    Step(
        "write_school_risk_lists",
        lambda r: _report().write_school_risk_lists(r.settings, r.report_date),
        after=("publish_fortnight_summary",),
    ),
    Step(
        "email_district_report",
        lambda r: _report().email_district_report(r.settings, r.report_date, r.results["write_excel_report"]),
        after=("write_excel_report",),
        needs=("write_excel_report",),
    ),
    Step("send_emails", lambda r: _weekly().send_emails(r.settings, r.mail_sender())),
)
# Steps shared with the weekly DAG: callers that filled the warehouse themselves leave them out.
WEEKLY_STEPS = frozenset({"prepare_warehouse", "collect_new_files", "send_emails"})


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
        run.results[step.name] = step.run(run)
        if seconds is not None:
            seconds[step.name] = time.perf_counter() - start
    return run.results


def publish_fortnight(
    settings: Settings, report_date: date, now: datetime | None = None
) -> dict[str, dict[str, object]]:
    """The report's own steps, for tests and scripts that loaded the warehouse themselves."""
    return run_fortnight(FortnightRun(settings, report_date, now=now), skip=WEEKLY_STEPS)
