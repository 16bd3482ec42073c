"""Every other Friday 15:00: the district's fortnightly report (`fortnightly_report`,
docs/contracts.md#2-dags)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import chain, dag

from chuyencan.orchestration.dag_defaults import DEFAULT_ARGS, LOCAL
from chuyencan.orchestration.report_tasks import (
    close_both_weeks,
    email_district_report,
    flag_students_at_risk,
    publish_fortnight_summary,
    refresh_reconciliation,
    write_excel_report,
    write_school_risk_lists,
)
from chuyencan.orchestration.school_tasks import collect_new_files, prepare_warehouse, send_emails
from chuyencan.orchestration.timetable import FortnightlyFridays

DOC = """
### Fortnightly report to the district (báo cáo định kỳ 2 tuần)

Every other Friday at 15:00 Vietnam time from 4 April 2025 (4 Apr, 18 Apr, 2 May, …), as the
district ordered on 26 March 2025: how many students dropped out, split by when they left
(summer, semester 1, semester 2, after Tết), how many left the locality, how many are eligible
to continue, who came back, who is at risk, and how the schools reported. A run for Friday F
publishes the report dated F covering the school weeks ending F-7 and F:

1. **prepare_warehouse**, **collect_new_files**: the weekly DAG's steps, sweeping in files
   that arrived since its last run (late reports and corrections count).
2. **close_both_weeks**: every active school's submission status for both weeks (on time,
   late, missing, rejected). The district's weekly email is not sent again.
3. **refresh_reconciliation**: police verdicts (left the locality / still there); until the
   reconciliation is installed every case is reported unverified.
4. **flag_students_at_risk**: early warning into `restricted.student_risk` (chronic absence,
   absences rising, near 45 missed sessions, the school's own "at risk", a sibling who dropped out).
5. **publish_fortnight_summary**: `report.fortnight_summary` for the district, each level,
   commune and school; schools whose dropout lists disagree with the calendar are warned.
6. **write_excel_report** (+ Markdown/HTML twin) and **write_school_risk_lists** (restricted,
   one per school for its principal) under `<work dir>/reports/`.
7. **email_district_report**, **send_emails**: the Excel report to the district (aggregates only).

Missed fortnights are caught up one at a time; a rerun of the same Friday leaves the warehouse
as it was and emails nobody twice. If the report is not out by 15:30,
`fortnightly_report_deadline` emails the district and the data engineers
(`AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL`).
"""


@dag(
    dag_id="fortnightly_report",
    schedule=FortnightlyFridays(),
    start_date=datetime(2025, 4, 4, tzinfo=LOCAL),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["chuyencan", "report", "fortnightly"],
    doc_md=DOC,
    dagrun_timeout=timedelta(hours=3),
)
def fortnightly_report() -> None:
    files = write_excel_report()
    published = publish_fortnight_summary()
    chain(
        prepare_warehouse(),
        collect_new_files(),
        close_both_weeks(),
        refresh_reconciliation(),
        flag_students_at_risk(),
        published,
    )
    published >> [files, write_school_risk_lists()]
    email_district_report(files) >> send_emails()


fortnightly_report()
