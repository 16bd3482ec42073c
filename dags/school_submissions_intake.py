"""Every 10 minutes on school days: schools hear within minutes what is wrong with a file."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag

from chuyencan.orchestration.dag_defaults import DEFAULT_ARGS, START, TIMEZONE_NAME
from chuyencan.orchestration.police_tasks import announce_new_cases
from chuyencan.orchestration.school_tasks import collect_new_files, prepare_warehouse, send_emails

DOC = """
### School submissions: continuous intake

Every 10 minutes, 06:00–21:50 Monday to Saturday: new files in the schools' shared folder are
checked, loaded or quarantined, and a school whose file was rejected gets an email within
minutes that lists sheet, row, column and how to fix it — while it can still make the Friday
10:00 deadline. Statuses of the weeks those files report are refreshed.

The Friday run of `school_submissions_weekly` adds the week's completeness check and the
district's summary. Both DAGs can overlap safely: a file is stored once (content hash), loads
of one school and week are serialised. When accepted files change the schools' lists,
**announce_new_cases** emits the `chuyencan_school_cases` asset, which starts
`police_reconciliation` for the new cases.
"""


@dag(
    dag_id="school_submissions_intake",
    schedule=CronTriggerTimetable("*/10 6-21 * * 1-6", timezone=TIMEZONE_NAME),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["chuyencan", "schools", "intake"],
    doc_md=DOC,
    dagrun_timeout=timedelta(minutes=30),
)
def school_submissions_intake() -> None:
    collected = collect_new_files()
    prepare_warehouse() >> collected >> send_emails()
    announce_new_cases(collected)


school_submissions_intake()
