"""Every other Friday at the report time (13:30 by default): the district's fortnightly report
(`fortnightly_report`, docs/contracts.md#2-dags)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from airflow.sdk import dag

from chuyencan.core.settings import REPORT_DEADLINE, REPORT_TIME, TIMEZONE
from chuyencan.orchestration.dag_defaults import DAG_ARGS, WEEK_PARAMS
from chuyencan.orchestration.report_tasks import (
    fortnight_tasks,
)
from chuyencan.orchestration.timetable import FortnightlyFridays
from chuyencan.report.calendar_periods import FIRST_REPORT

DOC = f"""
### Fortnightly report to the district (báo cáo định kỳ 2 tuần)

Every other Friday at {REPORT_TIME:%H:%M} Vietnam time from 4 April 2025 (4 Apr, 18 Apr, 2 May, …), as the
district ordered on 26 March 2025, so that the head of office can review and sign it before it
is due at the People's Committee at 15:00 (`REPORT_TIME` in `chuyencan.core.settings`): how many
students dropped out, split by when they left (summer, semester 1, semester 2, after Tết), why,
by grade, how many left the locality and where to, where they work, how many may move up, who
came back and whether they may move up, who is at risk, how the schools reported, and the
change since the last report. A run for Friday F
publishes the report dated F covering the school weeks ending F-7 and F:

1. **prepare_warehouse**, **check_school_calendar**, **collect_new_files**: the weekly DAG's
   steps, sweeping in files that arrived since its last run (late reports and corrections
   count); a calendar that does not cover the fortnight stops the run.
2. **close_both_weeks**: every active school's submission status for both weeks (on time,
   late, missing, rejected). The district's weekly email is not sent again.
3. **refresh_reconciliation**: police verdicts (left the locality / still there); a case no
   extract settles is reported unverified.
4. **flag_students_at_risk**: early warning into `restricted.student_risk` (chronic absence,
   absences rising, near 45 missed sessions, the school's own "at risk", a sibling who dropped out).
   **check_dropout_lists**: schools whose dropout lists disagree with the calendar are warned;
   the texts no phrase rule classified are listed for the district.
5. **list_reporting_units**: the units that get a report on the date (`reporting_units.csv`:
   the district's education office until June 2025; since the reform each commune's People's
   Committee and the provincial department).
6. One mapped task per unit (the grid shows the unit's code), spread over the workers:
   **publish_fortnight_summary** (`report.fortnight_summary` and `report.fortnight_breakdown` of
   the unit's report: the unit, each level, commune and school), **write_excel_report**
   (+ Markdown/HTML twin and public version under `<work dir>/reports/`) and
   **email_district_report** (aggregates only). **write_school_risk_lists**: restricted, one per
   school for its principal.
7. **send_emails**: what the outbox holds.

Missed fortnights are caught up one at a time; a rerun of the same Friday leaves the warehouse
as it was and emails nobody twice. The tasks are the steps of `chuyencan.orchestration.fortnight`, in
its order (tests and the benchmark run the same list). If the report is not out by
{REPORT_DEADLINE:%H:%M}, `fortnightly_report_deadline` emails the district and the data engineers
(`AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL`).
"""


@dag(
    dag_id="fortnightly_report",
    schedule=FortnightlyFridays(),
    description=f"Every other Friday {REPORT_TIME:%H:%M} Vietnam time from 4 Apr 2025: the district's fortnightly report",
    start_date=datetime.combine(FIRST_REPORT, time(0), tzinfo=TIMEZONE),
    catchup=True,
    max_active_runs=1,
    **DAG_ARGS,
    params=WEEK_PARAMS,
    tags=["chuyencan", "report", "fortnightly"],
    doc_md=DOC,
    dagrun_timeout=timedelta(hours=3),
)
def fortnightly_report() -> None:
    fortnight_tasks()


fortnightly_report()
