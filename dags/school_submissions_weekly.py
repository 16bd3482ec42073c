"""Friday: close the schools' reporting week (`school_submissions_weekly`, docs/contracts.md#2-dags)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag

from chuyencan.core.settings import DEADLINE, TIMEZONE_NAME, weekly_run_time
from chuyencan.orchestration.dag_defaults import DAG_ARGS, START, WEEK_PARAMS, weekly_cron
from chuyencan.orchestration.police_tasks import announce_new_cases
from chuyencan.orchestration.school_tasks import (
    check_school_calendar,
    check_schools_reported,
    close_the_week,
    collect_new_files,
    prepare_warehouse,
    send_emails,
    tell_schools_not_received,
    write_next_week_templates,
)
from chuyencan.orchestration.timetables import WeeklyCron

DOC = f"""
### Weekly school submissions: close the week

Every Friday at {weekly_run_time():%H:%M} (after the schools' default {DEADLINE:%H:%M} deadline) for the week
ending that Friday:

1. **prepare_warehouse**: create or upgrade the warehouse schema, reload schools, communes and
   the school calendar from `include/reference`; **check_school_calendar** stops the run (red,
   saying which file to extend) when the calendar does not cover the week.
2. **collect_new_files**: take every new file in the schools' shared folder (by content hash;
   the inbox is never modified), check it against the rules in `include/expectations`, load it
   or quarantine it with its reasons, and queue an email to the school that says what to fix.
3. **close_the_week**: write `report.submission_status` for every active school (on time,
   late, missing, rejected) and queue the district's summary of missing, late and rejected
   schools; **tell_schools_not_received** queues one notice to each school still without an
   accepted file, copied to its managing unit (once per school and week; none in a holiday week
   or to a closed school; a school without a contact is named in the run note).
4. **send_emails**: send the queued emails; what cannot be sent stays queued for the next run.
   **announce_new_cases** emits the `chuyencan_school_cases` asset when lists changed, which
   starts `police_reconciliation`.
5. **write_next_week_templates**: each school's template for the coming week, prefilled with
   its classes, in `<work dir>/templates/<week>/`.
6. **check_schools_reported**: ends red when more than a quarter of the schools
   (`AIRFLOW_VAR_CHUYENCAN_MISSING_ALERT_SHARE`) have no accepted report at the close.

The run note says the week's outcome, e.g. `week 2025-04-04: 12/14 on time · late BX-DTH ·
missing BX-THPT2`. A manual run can name the week in its `week` param (any date of it); its run
id names the week (`manual__week-2025-04-04__…`). A failed run emails the data engineers
(`AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL`) once, with a link to the failed task's log.

A run for logical date on Friday F works on the week ending F; reruns leave the warehouse
unchanged. Files that arrive later are picked up by `school_submissions_intake` (every 10
minutes on school days) or the next run. Settings: docs/contracts.md#1-configuration (all optional).
"""


@dag(
    dag_id="school_submissions_weekly",
    description=f"Fridays {weekly_run_time():%H:%M} Vietnam time: close the schools' week, who is missing, email the district",
    schedule=WeeklyCron(weekly_cron(), timezone=TIMEZONE_NAME),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    **DAG_ARGS,
    params=WEEK_PARAMS,
    tags=["chuyencan", "schools", "weekly"],
    doc_md=DOC,
    dagrun_timeout=timedelta(hours=2),
)
def school_submissions_weekly() -> None:
    week_closed = close_the_week()
    collected = collect_new_files()
    prepare_warehouse() >> check_school_calendar() >> collected >> week_closed
    announce_new_cases(collected)
    emails = send_emails()
    done = [emails, write_next_week_templates()]
    week_closed >> tell_schools_not_received() >> emails
    week_closed >> done >> check_schools_reported(week_closed)


school_submissions_weekly()
