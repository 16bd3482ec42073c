"""Friday morning: remind the schools whose week's file is not in (`school_submission_reminders`,
docs/contracts.md#2-dags)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag

from chuyencan.core.settings import DEADLINE, REMINDER_TIME, TIMEZONE_NAME
from chuyencan.orchestration.dag_defaults import DAG_ARGS, START, WEEK_PARAMS, reminder_cron
from chuyencan.orchestration.school_tasks import (
    check_school_calendar,
    collect_new_files,
    prepare_warehouse,
    remind_schools_without_a_file,
    send_emails,
)
from chuyencan.orchestration.timetables import WeeklyCron

DOC = f"""
### Reminders to schools before the deadline

Every Friday at {REMINDER_TIME:%H:%M}, {DEADLINE:%H:%M} being the schools' default deadline, for
the week ending that Friday:

1. **prepare_warehouse**, **check_school_calendar**: as in the weekly run.
2. **collect_new_files**: files dropped since the last intake are taken first, so a school that
   has just sent its file is not reminded.
3. **remind_schools_without_a_file**: one email to each active school with no accepted file for
   the week (schools' contacts: `include/reference/contacts.csv`), at most once per school and
   week: a rerun sends nothing new. No reminders in a week without school days (holidays, Tết)
   or to a school closed by then. A school without a contact is named in the run note and on
   the chuyencan page (`ops.contact_gap`).
4. **send_emails**: sends what the outbox holds.

The reminder says the week and the deadline only: no child's data. A run whose logical date is
before the reminder time (`AIRFLOW_VAR_CHUYENCAN_REMINDER_TIME`) or after the deadline (a manual
run later in the day) sends no reminders: the weekly run's not-received notice speaks after the
deadline (`school_submissions_weekly`). This schedule stays at {REMINDER_TIME:%H:%M} whatever the
variable says.
"""


@dag(
    dag_id="school_submission_reminders",
    description=f"Fridays {REMINDER_TIME:%H:%M} Vietnam time: remind schools whose week's file is not in yet",
    schedule=WeeklyCron(reminder_cron(), timezone=TIMEZONE_NAME),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    **DAG_ARGS,
    params=WEEK_PARAMS,
    tags=["chuyencan", "schools", "weekly", "reminders"],
    doc_md=DOC,
    dagrun_timeout=timedelta(hours=1),
)
def school_submission_reminders() -> None:
    collected = collect_new_files()
    reminded = remind_schools_without_a_file()
    prepare_warehouse() >> check_school_calendar() >> collected >> reminded >> send_emails()


school_submission_reminders()
