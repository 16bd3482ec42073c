"""The police reconciliation's Airflow tasks (the DAG files only schedule and wire them).

Each task reads the settings from Airflow, calls one step of `chuyencan.police.pipeline` and
returns a small JSON summary (counts only: no personal data in XCom or logs). Heavy imports
happen inside the tasks, never when a DAG file is parsed.
"""

from __future__ import annotations

from airflow.sdk import TriggerRule, get_current_context, task

from chuyencan.orchestration.assets import POLICE_EXTRACTS, SCHOOL_CASES
from chuyencan.orchestration.dag_defaults import LOAD, QUICK, RETRY_ARGS
from chuyencan.orchestration.school_tasks import _settings, run_week

# A run started by an asset event refreshes verdicts and the review list; the district's counts
# email goes out with the weekly (or a manual) run only, so a busy Friday morning of school
# files does not flood the district's inbox.
_QUIET_RUN_TYPES = frozenset({"asset_triggered"})


@task(execution_timeout=LOAD, **RETRY_ARGS)
def load_police_extracts() -> dict:
    """New household extracts from the police inbox (by content hash; the inbox is never
    modified), checked against `include/expectations/police_extract.json`, loaded or
    quarantined with the district told why. One log line per file: name, commune, round,
    outcome, rules."""
    from chuyencan.orchestration.run_notes import add_to_run_note
    from chuyencan.police.pipeline import load_police_extracts as run

    summary = run(_settings())
    if summary.get("accepted") or summary.get("rejected"):
        communes = ", ".join(summary.get("communes_updated", [])) or "-"
        add_to_run_note(
            f"police extracts: {summary['accepted']} accepted ({communes}), {summary['rejected']} rejected"
        )
    return summary


@task(execution_timeout=LOAD, **RETRY_ARGS)
def take_review_decisions() -> dict:
    """The decisions district officers wrote into returned review lists."""
    from chuyencan.police.pipeline import take_review_decisions as run

    return run(_settings())


@task(execution_timeout=LOAD, **RETRY_ARGS)
def plan_matching_by_commune() -> list[str]:
    """Snapshot the open cases (dropped out, long absent, at risk) and the household records of
    every extract in effect; returns the communes whose cases need matching, one mapped
    `match_commune_cases` task each."""
    from chuyencan.police.pipeline import plan_matching as run

    # With no commune to match, one instance that does nothing: a mapped task expanded over
    # nothing is skipped, and decide_matches must still run (every case gets no_police_data).
    return list(run(_settings())["communes"]) or [NO_COMMUNE]


# The one instance when no commune has cases to match (see plan_matching_by_commune).
NO_COMMUNE = ""


_MATCH_COMMUNE_DOC = """One commune's open cases compared with the household records (the bulk of the
matcher's work): mapped per commune, so a province fans out across the Celery workers."""


# The map index shows the commune's name in the grid, so an operator sees which commune failed.
# (A mapped task does not take its doc from the docstring: it is given explicitly.)
@task(
    execution_timeout=LOAD,
    map_index_template="{{ task.op_kwargs['commune'] or 'no commune to match' }}",
    doc_md=_MATCH_COMMUNE_DOC,
    **RETRY_ARGS,
)
def match_commune_cases(commune: str) -> dict:
    """See _MATCH_COMMUNE_DOC."""
    from chuyencan.police.pipeline import match_commune as run

    if commune == NO_COMMUNE:
        return {"commune": None, "cases": 0}
    return run(_settings(), commune)


# Runs when some communes failed, so the others' answers are not lost (the failed ones keep
# their previous answers and the run still shows the failure): the plan, one of its upstream
# tasks, succeeded. When the plan did not succeed, no upstream did: upstream_failed.
@task(execution_timeout=LOAD, trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS, **RETRY_ARGS)
def decide_matches() -> dict:
    """Every commune's candidates decided together (the model is estimated on all of them):
    match, ambiguous or no match per case, in `restricted.case_match`."""
    from chuyencan.police.pipeline import decide_matches as run

    return run(_settings())


@task(execution_timeout=LOAD, **RETRY_ARGS)
def record_verdicts() -> dict:
    """One verdict per student in `restricted.case_verdict` (left the locality, in the locality,
    ambiguous, not found, no police data) and an audit row per cross-agency match."""
    from chuyencan.police.pipeline import record_verdicts as run

    return run(_settings())


@task(execution_timeout=LOAD, **RETRY_ARGS)
def write_review_list() -> dict:
    """The restricted Excel list of doubtful matches for district officers to decide."""
    from chuyencan.police.pipeline import write_review_list as run

    return run(_settings(), run_week())


@task(execution_timeout=QUICK, **RETRY_ARGS)
def email_district_counts(review: dict) -> dict:
    """Queue the district's counts email (counts only, never names); weekly and manual runs
    only, so asset-triggered runs do not flood the district's inbox."""
    from chuyencan.police.pipeline import email_district_counts as run

    run_type = str(getattr(get_current_context()["dag_run"], "run_type", "") or "")
    if run_type.rsplit(".", 1)[-1].lower() in _QUIET_RUN_TYPES:
        return {"district_email_queued": False, "reason": "asset-triggered run: counts go out weekly"}
    return run(_settings(), run_week(), review)


@task(execution_timeout=LOAD, **RETRY_ARGS)
def apply_retention() -> dict:
    """Delete household records older than the retention window (90 days after loading) except
    verdicts, so nothing is matched against stale records."""
    from chuyencan.police.pipeline import apply_retention as run

    return run(_settings())


@task(outlets=[SCHOOL_CASES], execution_timeout=QUICK, **RETRY_ARGS)
def announce_new_cases(collection: dict) -> dict:
    """After a school collection step: tell police reconciliation that lists changed (skipped,
    so no asset event, when no file was accepted)."""
    from airflow.sdk.exceptions import AirflowSkipException

    if not collection.get("accepted"):
        raise AirflowSkipException("no accepted school file: no new cases")
    return {"accepted": collection["accepted"]}


@task(outlets=[POLICE_EXTRACTS], execution_timeout=QUICK, **RETRY_ARGS)
def announce_new_extracts(intake: dict) -> dict:
    """After a police intake step: start a reconciliation (skipped when nothing was accepted)."""
    from airflow.sdk.exceptions import AirflowSkipException

    if not intake.get("accepted"):
        raise AirflowSkipException("no accepted police extract")
    return {"accepted": intake["accepted"], "communes": intake.get("communes_updated", [])}
