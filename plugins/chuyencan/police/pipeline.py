"""Police reconciliation as plain functions of the settings (one per DAG task).

`reconcile(settings)` does the whole refresh (extracts in, reviewers' decisions in, match,
verdicts); the fortnightly report calls it before counting `left_locality` / `in_locality`.
Every step is idempotent: a rerun with nothing new leaves the warehouse as it was.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chuyencan.core.runs import engine_for, reference_for
from chuyencan.core.settings import Settings

log = logging.getLogger(__name__)


def load_police_extracts(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """New extracts in the police inbox: loaded, or quarantined with the district told why."""
    from chuyencan.police.intake import load_extracts
    from chuyencan.police.notify import rejection_hook

    result = load_extracts(
        engine_for(settings.warehouse_url),
        reference_for(settings),
        settings,
        on_rejected=rejection_hook(settings),
        now=now,
    )
    summary = result.summary()
    summary["communes_with_extract"] = len(result.current)
    return summary


def take_review_decisions(settings: Settings) -> dict[str, Any]:
    """Decisions from the review lists the district filled in and dropped back."""
    from chuyencan.police.review import take_returned_reviews

    return take_returned_reviews(engine_for(settings.warehouse_url), settings).summary()


def match_open_cases(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    from chuyencan.police.match_step import match_open_cases as run

    return run(engine_for(settings.warehouse_url), reference_for(settings), now or datetime.now(UTC))


def plan_matching(settings: Settings) -> dict[str, Any]:
    """Snapshot the open cases and household records; the communes whose cases need matching
    (police_reconciliation matches them one commune per task: `police.match_fanout`)."""
    from chuyencan.police.match_fanout import plan_matching as run

    return run(engine_for(settings.warehouse_url), reference_for(settings), settings)


def match_commune(settings: Settings, commune: str) -> dict[str, Any]:
    from chuyencan.police.match_fanout import match_commune as run

    return run(settings, commune)


def decide_matches(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    from chuyencan.police.match_fanout import decide_matches as run

    return run(
        settings, engine_for(settings.warehouse_url), reference_for(settings), now or datetime.now(UTC)
    )


def record_verdicts(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    from chuyencan.police.verdicts import record_verdicts as run

    return run(engine_for(settings.warehouse_url), now or datetime.now(UTC))


def check_police_rounds(
    settings: Settings, now: datetime | None = None, report_date: date | None = None
) -> dict[str, Any]:
    """Per police round and commune, whether its extract arrived by the due date; a missing one
    is named once to the commune police (include/reference/police_rounds.csv, contacts.csv).

    Called by the run of a report date, it names missing extracts only when that report is the
    current one (its fortnight holds today): a backfill or a rerun of an old report records
    the state but writes to nobody about a round long past."""
    from chuyencan.core.contacts import load_contacts
    from chuyencan.core.police_rounds import load_police_rounds
    from chuyencan.police.rounds import check_police_rounds as check

    ref = reference_for(settings)
    rounds = load_police_rounds(settings.reference_dir, ref)
    if not rounds:
        return {"police_rounds": 0}
    moment = now or datetime.now(UTC)
    today = moment.astimezone(settings.timezone).date()
    current = report_date is None or report_date <= today < report_date + timedelta(days=14)
    result = check(
        engine_for(settings.warehouse_url),
        settings,
        ref,
        rounds,
        now=moment,
        contacts=load_contacts(settings.reference_dir, ref),
        name_missing=current,
    )
    return result.as_dict()


def reconcile(settings: Settings) -> dict[str, Any]:
    """Load new extracts and review decisions, match every open case, record the verdicts."""
    now = datetime.now(UTC)
    summary = {
        "extracts": load_police_extracts(settings, now),
        "reviews": take_review_decisions(settings),
        "matching": match_open_cases(settings, now),
        "verdicts": record_verdicts(settings, now),
    }
    log.info("police reconciliation refreshed: %s", summary["verdicts"])
    return summary


def write_review_list(settings: Settings, day: date) -> dict[str, Any]:
    from chuyencan.police.review import write_review_list as run

    summary = run(engine_for(settings.warehouse_url), reference_for(settings), settings, day)
    summary["file_name"] = summary.pop("file").rsplit("/", 1)[-1]
    return summary


def email_district_counts(
    settings: Settings, week: date, review: dict[str, Any] | None = None
) -> dict[str, Any]:
    from chuyencan.police.notify import queue_district_counts

    queued = queue_district_counts(engine_for(settings.warehouse_url), settings, week, review)
    return {"week": week.isoformat(), "district_email_queued": queued}


def apply_retention(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """The police's household data past its window, and every delivered copy past its own
    (`chuyencan.core.delivery`: lists in the recipients' folders, which hold police verdicts too)."""
    from chuyencan.core.delivery import purge_expired_deliveries
    from chuyencan.police.retention import apply_retention as run

    moment = now or datetime.now(UTC)
    engine = engine_for(settings.warehouse_url)
    summary = run(engine, settings, moment)
    summary.update(purge_expired_deliveries(engine, settings, moment))
    return summary
