"""Friday: close the schools' reporting week (`school_submissions_weekly`, docs/contracts.md#2-dags)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag

from chuyencan.orchestration.dag_defaults import DEFAULT_ARGS, START, TIMEZONE_NAME
from chuyencan.orchestration.police_tasks import announce_new_cases
from chuyencan.orchestration.school_tasks import (
    close_the_week,
    collect_new_files,
    prepare_warehouse,
    send_emails,
    write_next_week_templates,
)

DOC = """
### Weekly school submissions: close the week

Every Friday at 11:00 (an hour after the schools' 10:00 deadline) for the week ending that
Friday:

1. **prepare_warehouse**: create or upgrade the warehouse schema, reload schools, communes and
   the school calendar from `include/reference`.
2. **collect_new_files**: take every new file in the schools' shared folder (by content hash;
   the inbox is never modified), check it against the rules in `include/expectations`, load it
   or quarantine it with its reasons, and queue an email to the school that says what to fix.
3. **close_the_week**: write `report.submission_status` for every active school (on time,
   late, missing, rejected) and queue the district's summary of missing, late and rejected
   schools.
4. **send_emails**: send the queued emails; what cannot be sent stays queued for the next run.
   **announce_new_cases** emits the `chuyencan_school_cases` asset when lists changed, which
   starts `police_reconciliation`.
5. **write_next_week_templates**: each school's template for the coming week, prefilled with
   its classes, in `<work dir>/templates/<week>/`.

A run for logical date on Friday F works on the week ending F; reruns leave the warehouse
unchanged. Files that arrive later are picked up by `school_submissions_intake` (every 10
minutes on school days) or the next run. Settings: docs/contracts.md#1-configuration (all optional).
"""


@dag(
    dag_id="school_submissions_weekly",
    schedule=CronTriggerTimetable("0 11 * * 5", timezone=TIMEZONE_NAME),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["chuyencan", "schools", "weekly"],
    doc_md=DOC,
    dagrun_timeout=timedelta(hours=2),
)
def school_submissions_weekly() -> None:
    week_closed = close_the_week()
    collected = collect_new_files()
    prepare_warehouse() >> collected >> week_closed
    announce_new_cases(collected)
    week_closed >> [send_emails(), write_next_week_templates()]


school_submissions_weekly()
