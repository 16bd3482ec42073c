"""Every 30 minutes on working days: commune police extracts in, and the district told at once
about an extract that cannot be used."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, dag

from chuyencan.orchestration.dag_defaults import DEFAULT_ARGS, START, TIMEZONE_NAME
from chuyencan.orchestration.police_tasks import announce_new_extracts, load_police_extracts
from chuyencan.orchestration.school_tasks import prepare_warehouse, send_emails

DOC = """
### Police extracts: continuous intake

Every 30 minutes, 07:00–17:30 Monday to Saturday: new household extracts that commune police
dropped into the police inbox (`AIRFLOW_VAR_CHUYENCAN_POLICE_INBOX`, CSV or .xlsx,
docs/contracts.md#4-police-extract) are checked and loaded, or quarantined with reasons, and
the district is emailed row numbers and rules (never the records). The inbox is never modified.

When a new extract is accepted, **announce_new_extracts** emits the `chuyencan_police_extracts`
asset, which starts `police_reconciliation`: the commune's open cases are matched against the
new records the same day.
"""


@dag(
    dag_id="police_extract_intake",
    schedule=CronTriggerTimetable("*/30 7-17 * * 1-6", timezone=TIMEZONE_NAME),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["chuyencan", "police", "intake"],
    doc_md=DOC,
    dagrun_timeout=timedelta(minutes=30),
)
def police_extract_intake() -> None:
    loaded = load_police_extracts()
    prepare_warehouse() >> loaded
    loaded >> [announce_new_extracts(loaded), send_emails()]


police_extract_intake()
