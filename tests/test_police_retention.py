"""Retention of the police's household data, with the period set (`police_retention_days`).

What tests/test_police_verdicts.py already shows (default 90 days, both warehouses): household
rows and archived extracts deleted after the window, verdicts and audit rows kept, the inbox file
not loaded again. Added here: a configured period (7 days) is the one applied, from the Airflow
variable too; before it nothing at all is deleted (rows, archive, review list); after it the
review list goes as well, the matcher's working rows of the extract go, every verdict and every
audit row of a cross-agency match stays, and only a student who left keeps a destination;
and the step runs in the `police_reconciliation` DAG right after loading, before matching.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from chuyencan.core.schema import case_match, case_verdict, match_audit, police_extract, police_resident
from chuyencan.core.settings import Settings
from chuyencan.police import pipeline as police
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.helpers import load_dag
from tests.test_police_intake import AMS_BOOK, make_settings
from tests.test_police_verdicts import EXPECTED, WEEK, key_of, write_scenario

DAYS = 7


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    s = replace(make_settings(tmp_path, sqlite_url), police_retention_days=DAYS)
    engine_for.cache_clear()
    prepare_warehouse(s)
    write_scenario(s)
    assert collect_new_files(s, now=datetime(2025, 3, 14, 4, 0, tzinfo=UTC))["accepted"] == 2
    return s


def state(settings: Settings) -> dict[str, Any]:
    with engine_for(settings.warehouse_url).connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar_one()  # noqa: E731
        return {
            "residents": count(police_resident),
            "matches_into_extracts": conn.execute(
                select(func.count()).select_from(case_match).where(case_match.c.extract_id.is_not(None))
            ).scalar_one(),
            "verdicts": sorted(tuple(r) for r in conn.execute(select(case_verdict))),
            "audit": sorted(tuple(r) for r in conn.execute(select(match_audit))),
            "purged": [r.purged_at is not None for r in conn.execute(select(police_extract))],
        }


def files(settings: Settings) -> list[str]:
    police_dir = settings.work_dir / "police"
    return sorted(str(p.relative_to(police_dir).parts[0:2]) for p in police_dir.rglob("*") if p.is_file())


def test_a_configured_period_deletes_household_data_and_keeps_verdicts_and_audit(settings: Settings) -> None:
    police.reconcile(settings)
    police.write_review_list(settings, WEEK)
    loaded = datetime.now(UTC)
    before = state(settings)
    assert before["residents"] == len(AMS_BOOK)
    assert before["matches_into_extracts"] > 0
    # One audit row per cross-agency match (every case of a commune with an extract).
    assert len(before["audit"]) == sum(v != "no_police_data" for v in EXPECTED.values())
    on_disk = files(settings)
    assert any("archive" in f for f in on_disk)
    assert any("review" in f for f in on_disk)

    # A day before the configured period ends: nothing deleted, not even the review list.
    early = police.apply_retention(settings, loaded + timedelta(days=DAYS - 1))
    assert (early["extracts_purged"], early["review_files_deleted"], early["retention_days"]) == (0, 0, DAYS)
    assert state(settings) == before
    assert files(settings) == on_disk

    # A day after (still far inside the 90-day default): household data gone, verdicts stay.
    late = police.apply_retention(settings, loaded + timedelta(days=DAYS + 1))
    assert (late["extracts_purged"], late["household_rows_deleted"]) == (1, len(AMS_BOOK))
    after = state(settings)
    assert after["residents"] == 0
    assert after["matches_into_extracts"] == 0
    assert after["purged"] == [True]
    assert files(settings) == []  # archived extract and review list
    assert after["verdicts"] == before["verdicts"]
    assert after["audit"] == before["audit"]
    # What stays about a matched student is the verdict; only one who left keeps where to.
    with engine_for(settings.warehouse_url).connect() as conn:
        kept = {r.student_key: r for r in conn.execute(select(case_verdict))}
    for label, verdict in EXPECTED.items():
        assert kept[key_of(label)].verdict == verdict
        assert (kept[key_of(label)].destination is not None) == (verdict == "left_locality"), label


def test_the_period_comes_from_the_airflow_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from chuyencan.orchestration.adapter import settings_from_airflow

    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_WORK_DIR", str(tmp_path))
    assert settings_from_airflow().police_retention_days == 90
    monkeypatch.setenv("AIRFLOW_VAR_CHUYENCAN_POLICE_RETENTION_DAYS", str(DAYS))
    assert settings_from_airflow().police_retention_days == DAYS


def test_retention_runs_in_the_reconciliation_dag_before_matching(airflow_db: Path) -> None:
    dag = load_dag("police_reconciliation")
    retention = dag.get_task("apply_retention")
    assert retention.upstream_task_ids == {"load_police_extracts"}
    assert "apply_retention" in dag.get_task("plan_matching_by_commune").get_flat_relative_ids(upstream=True)
