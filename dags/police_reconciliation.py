"""Police reconciliation (docs/contracts.md#2-dags, dag_id `police_reconciliation`): which out-of-school
students left the commune, which are still there, and which need a person to check."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, dag

from chuyencan.core.settings import TIMEZONE_NAME
from chuyencan.orchestration.assets import POLICE_EXTRACTS, SCHOOL_CASES
from chuyencan.orchestration.dag_defaults import DAG_ARGS, START, WEEK_PARAMS
from chuyencan.orchestration.police_tasks import (
    apply_retention,
    decide_matches,
    email_district_counts,
    load_police_extracts,
    match_commune_cases,
    plan_matching_by_commune,
    record_verdicts,
    take_review_decisions,
    write_review_list,
)
from chuyencan.orchestration.school_tasks import check_school_calendar, prepare_warehouse, send_emails
from chuyencan.orchestration.timetables import WeeklyCron

DOC = """
### Police reconciliation: who has left the commune, who is still there, who needs checking

Every Friday at 12:00 (after the schools' weekly run), and whenever a school's accepted file
changes the lists of out-of-school students or a commune's police extract is accepted (Airflow
assets `chuyencan_school_cases`, `chuyencan_police_extracts`):

1. **prepare_warehouse**: schema and reference data (communes with their merges);
   **check_school_calendar** stops the run when the school calendar does not cover the week
   (counts computed on a calendar that is not there would be emailed as if current).
2. **load_police_extracts**: new household extracts from the police inbox (.csv UTF-8 or .xlsx,
   by content hash; the inbox is never modified), checked against
   `include/expectations/police_extract.json`; rejected ones quarantined and the district told
   why (row numbers and rules, no personal data). The newest extract of a commune replaces the
   older one.
3. **take_review_decisions**: the decisions district officers wrote into returned review lists.
4. **plan_matching_by_commune**, **match_commune_cases**, **decide_matches**: every student a
   school lists as dropped out, long absent or at risk, matched to the household records of
   their home commune. One `match_commune_cases` task per commune (its name is the task's map
   index), so a province's communes run in parallel across the Celery workers; `decide_matches`
   decides all communes together (same answers as matching them in one step). A commune that
   fails keeps its previous answers; the others are decided and the run shows the failure.
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
        timetable=WeeklyCron("0 12 * * 5", timezone=TIMEZONE_NAME),
        assets=SCHOOL_CASES | POLICE_EXTRACTS,
    ),
    description="Fridays 12:00 Vietnam time, and when new police extracts or school cases arrive: "
    "who left the commune, who is still there",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    **DAG_ARGS,
    params=WEEK_PARAMS,
    tags=["chuyencan", "police", "reconciliation"],
    doc_md=DOC,
    dagrun_timeout=timedelta(hours=2),
)
def police_reconciliation() -> None:
    communes = plan_matching_by_commune()
    verdicts = record_verdicts()
    (
        prepare_warehouse()
        >> check_school_calendar()
        >> load_police_extracts()
        >> apply_retention()
        >> take_review_decisions()
        >> communes
    )
    # One mapped task per commune with cases to match: a province fans out across the workers.
    decided = decide_matches()
    match_commune_cases.expand(commune=communes) >> decided >> verdicts
    communes >> decided  # decided once the plan succeeded, whatever a commune's outcome
    review = write_review_list()
    verdicts >> review
    email_district_counts(review) >> send_emails()


police_reconciliation()
