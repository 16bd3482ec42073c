"""Police reconciliation (docs/contracts.md#2-dags, dag_id `police_reconciliation`): which out-of-school
students left the commune, which are still there, and which need a person to check."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag

from chuyencan.orchestration.assets import POLICE_EXTRACTS, SCHOOL_CASES
from chuyencan.orchestration.dag_defaults import DEFAULT_ARGS, START, TIMEZONE_NAME
from chuyencan.orchestration.police_tasks import (
    apply_retention,
    email_district_counts,
    load_police_extracts,
    match_open_cases,
    record_verdicts,
    take_review_decisions,
    write_review_list,
)
from chuyencan.orchestration.school_tasks import prepare_warehouse, send_emails

DOC = """
### Police reconciliation: who has left the commune, who is still there, who needs checking

Every Friday at 12:00 (after the schools' weekly run), and whenever a school's accepted file
changes the lists of out-of-school students or a commune's police extract is accepted (Airflow
assets `chuyencan_school_cases`, `chuyencan_police_extracts`):

1. **prepare_warehouse**: schema and reference data (communes with their merges).
2. **load_police_extracts**: new household extracts from the police inbox (.csv UTF-8 or .xlsx,
   by content hash; the inbox is never modified), checked against
   `include/expectations/police_extract.json`; rejected ones quarantined and the district told
   why (row numbers and rules, no personal data). The newest extract of a commune replaces the
   older one.
3. **take_review_decisions**: the decisions district officers wrote into returned review lists.
4. **match_open_cases**: every student a school lists as dropped out, long absent or at risk,
   matched to the household records of their home commune.
5. **record_verdicts**: one verdict per student in `restricted.case_verdict`: left the locality,
   in the locality (visit them), deceased, ambiguous (a person decides), not found, or no police
   data; only a confident match or an officer's confirmation may say a child left. An audit row
   per cross-agency match.
6. **write_review_list**: the restricted Excel list of doubtful matches for the district.
7. **email_district_counts**: counts only, never names (weekly and manual runs).
8. **send_emails**.

**apply_retention** runs right after loading, so nothing is matched against household records
older than the retention window (90 days after loading); verdicts stay.

Reruns leave the warehouse as it was. Details: docs/police-reconciliation.md.
"""


@dag(
    dag_id="police_reconciliation",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 12 * * 5", timezone=TIMEZONE_NAME),
        assets=SCHOOL_CASES | POLICE_EXTRACTS,
    ),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["chuyencan", "police", "reconciliation"],
    doc_md=DOC,
    dagrun_timeout=timedelta(hours=2),
)
def police_reconciliation() -> None:
    verdicts = record_verdicts()
    (
        prepare_warehouse()
        >> load_police_extracts()
        >> apply_retention()
        >> take_review_decisions()
        >> match_open_cases()
        >> verdicts
    )
    review = write_review_list()
    verdicts >> review
    email_district_counts(review) >> send_emails()


police_reconciliation()
