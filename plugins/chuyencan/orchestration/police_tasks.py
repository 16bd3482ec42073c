"""The police reconciliation's Airflow tasks (the DAG files only schedule and wire them).

Each task reads the settings from Airflow, calls one step of `chuyencan.police.pipeline` and
returns a small JSON summary (counts only: no personal data in XCom or logs). Heavy imports
happen inside the tasks, never when a DAG file is parsed.
"""

from __future__ import annotations

from airflow.sdk import get_current_context, task

from chuyencan.orchestration.assets import POLICE_EXTRACTS, SCHOOL_CASES
from chuyencan.orchestration.dag_defaults import RETRY_ARGS
from chuyencan.orchestration.school_tasks import _settings, run_week

# A run started by an asset event refreshes verdicts and the review list; the district's counts
# email goes out with the weekly (or a manual) run only, so a busy Friday morning of school
# files does not flood the district's inbox.
_QUIET_RUN_TYPES = frozenset({"asset_triggered"})


@task(**RETRY_ARGS)
def load_police_extracts() -> dict:
    from chuyencan.police.pipeline import load_police_extracts as run

    return run(_settings())


@task(**RETRY_ARGS)
def take_review_decisions() -> dict:
    from chuyencan.police.pipeline import take_review_decisions as run

    return run(_settings())


@task(**RETRY_ARGS)
def match_open_cases() -> dict:
    from chuyencan.police.pipeline import match_open_cases as run

    return run(_settings())


@task(**RETRY_ARGS)
def record_verdicts() -> dict:
    from chuyencan.police.pipeline import record_verdicts as run

    return run(_settings())


@task(**RETRY_ARGS)
def write_review_list() -> dict:
    from chuyencan.police.pipeline import write_review_list as run

    return run(_settings(), run_week())


@task(**RETRY_ARGS)
def email_district_counts(review: dict) -> dict:
    from chuyencan.police.pipeline import email_district_counts as run

    run_type = str(getattr(get_current_context()["dag_run"], "run_type", "") or "")
    if run_type.rsplit(".", 1)[-1].lower() in _QUIET_RUN_TYPES:
        return {"district_email_queued": False, "reason": "asset-triggered run: counts go out weekly"}
    return run(_settings(), run_week(), review)


@task(**RETRY_ARGS)
def apply_retention() -> dict:
    from chuyencan.police.pipeline import apply_retention as run

    return run(_settings())


@task(outlets=[SCHOOL_CASES], **RETRY_ARGS)
def announce_new_cases(collection: dict) -> dict:
    """After a school collection step: tell police reconciliation that lists changed (skipped,
    so no asset event, when no file was accepted)."""
    from airflow.sdk.exceptions import AirflowSkipException

    if not collection.get("accepted"):
        raise AirflowSkipException("no accepted school file: no new cases")
    return {"accepted": collection["accepted"]}


@task(outlets=[POLICE_EXTRACTS], **RETRY_ARGS)
def announce_new_extracts(intake: dict) -> dict:
    """After a police intake step: start a reconciliation (skipped when nothing was accepted)."""
    from airflow.sdk.exceptions import AirflowSkipException

    if not intake.get("accepted"):
        raise AirflowSkipException("no accepted police extract")
    return {"accepted": intake["accepted"], "communes": intake.get("communes_updated", [])}
