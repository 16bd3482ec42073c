"""Police matching fanned out per commune gives the one-call matcher's answers.

Three levels: the matcher's parts (each commune's candidates, merged, decided) against
`matching.match_cases` on several communes, with and without enough IDs for m, and a case whose
ID points to a record in another commune; the pipeline's plan / per-commune / decide steps against
`match_open_cases` on a real warehouse (SQLite and PostgreSQL), a commune that failed keeping its
previous answers; and `police_reconciliation` through `dag.test()` with one mapped task per
commune, named by the commune.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from chuyencan.core.schema import case_match
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.police import matching, pipeline
from chuyencan.police.match_fanout import matching_dir
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.helpers import load_dag
from tests.test_police_dag import FRIDAY_NOON, scenario_in_airflow
from tests.test_police_intake import AMS_BOOK, make_settings, write_extract
from tests.test_police_matching import BOOK, CASE_COLUMNS, RESIDENT_COLUMNS
from tests.test_police_verdicts import write_scenario

COMMUNES = ("Y Tý", "A Mú Sung", "Trịnh Tường")


def province_book(with_ids: bool) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The matcher tests' book spread over three communes by village (a household stays in one
    commune), plus a case whose home commune is wrong but whose ID is right: its record is in
    another commune. with_ids: 220 more cases carrying their correct IDs (m from ID anchors)."""
    villages = sorted({r["village"] for r in BOOK.residents if r["village"]})
    commune_of = {v: COMMUNES[i % len(COMMUNES)] for i, v in enumerate(villages)}
    residents = pd.DataFrame(
        [dict(r, commune=commune_of.get(r["village"], COMMUNES[0])) for r in BOOK.residents],
        columns=RESIDENT_COLUMNS,
    )
    residents["birth_year"] = residents["birth_year"].astype("Int64")
    cases = [dict(c, commune=commune_of.get(c["village"], COMMUNES[0])) for c in BOOK.cases]
    kids = [r for r in BOOK.residents if r["personal_id"] and r["relation"] == "Con"]
    moved = kids[0]
    elsewhere = next(k for k in COMMUNES if k != commune_of[moved["village"]])
    cases.append(
        {
            "case_id": "MOVED",
            "personal_id": moved["personal_id"],
            "full_name": moved["full_name"],
            "birth_date": moved["birth_date"],
            "sex": moved["sex"],
            "commune": elsewhere,
            "village": None,
            "parent_name": moved["household_head"],
        }
    )
    if with_ids:
        cases += [
            {
                "case_id": f"K{i}",
                "personal_id": r["personal_id"],
                "full_name": r["full_name"],
                "birth_date": r["birth_date"],
                "sex": r["sex"],
                "commune": commune_of[r["village"]],
                "village": r["village"],
                "parent_name": r["household_head"],
            }
            for i, r in enumerate(kids[1 : matching.MIN_ANCHORS + 21])
        ]
    return pd.DataFrame(cases, columns=CASE_COLUMNS), residents, moved["resident_id"]


@pytest.mark.parametrize("with_ids", [False, True], ids=["m-from-confident-matches", "m-from-ids"])
def test_per_commune_candidates_give_the_one_call_answer(with_ids: bool) -> None:
    cases, residents, moved_record = province_book(with_ids)
    one_call = matching.match_cases(cases, residents).set_index("case_id")

    case_side = matching.in_id_order(cases, "case_id")
    enc = matching.encode(case_side, matching.in_id_order(residents, "resident_id"))
    communes = case_side["commune"].to_numpy(dtype=object)
    parts = [matching.candidates_of(enc, np.flatnonzero(communes == commune)) for commune in COMMUNES]
    assert all(len(pairs.case) for pairs, _ in parts)  # every commune had work of its own
    pairs, levels = matching.merge_candidates(parts)
    fanned = matching.answer(enc, pairs, levels).set_index("case_id")

    pd.testing.assert_frame_equal(fanned, one_call.loc[fanned.index])
    # The wrong home commune did not hide the record the ID points to.
    assert (
        one_call.loc["MOVED", "resident_id"] == moved_record
        or moved_record in one_call.loc["MOVED", "candidates"]
    )
    assert (one_call["decision"] == "match").sum() > (matching.MIN_ANCHORS if with_ids else 0)


# -- the pipeline's steps on a real warehouse ---------------------------------------------------------


def matches(url: str) -> dict[str, dict[str, Any]]:
    with engine_for(url).connect() as conn:
        return {r.student_key: dict(r._mapping) for r in conn.execute(select(case_match))}


def without_time(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {c: v for c, v in r.items() if c != "matched_at"} for k, r in rows.items()}


def two_communes(settings: Settings) -> None:
    """The police tests' scenario with a valid Y Tý extract too: two communes to match."""
    assert settings.police_inbox is not None
    write_extract(
        settings.police_inbox / "Y-Ty_2025-03-11.csv",
        [dict(r, xa="Y Tý") for r in AMS_BOOK[:6]],
        received_at=datetime(2025, 3, 12, 8, tzinfo=TIMEZONE),
    )


def test_steps_match_the_one_call_and_a_failed_commune_keeps_its_answers(
    tmp_path: Path, warehouse_url: str
) -> None:
    settings = make_settings(tmp_path, warehouse_url)
    prepare_warehouse(settings)
    write_scenario(settings)
    two_communes(settings)
    assert collect_new_files(settings, now=FRIDAY_NOON)["accepted"] == 2
    assert pipeline.load_police_extracts(settings)["accepted"] == 2
    first = datetime(2025, 3, 14, 5, tzinfo=UTC)
    pipeline.match_open_cases(settings, first)
    one_call = matches(warehouse_url)

    plan = pipeline.plan_matching(settings)
    assert plan["communes"] == ["A Mú Sung", "Y Tý"]
    for commune in plan["communes"]:
        assert pipeline.match_commune(settings, commune)["cases"] > 0
    summary = pipeline.decide_matches(settings, datetime(2025, 3, 15, tzinfo=UTC))
    assert summary["communes_failed"] == []
    assert without_time(matches(warehouse_url)) == without_time(one_call)
    assert not matching_dir(settings).exists()  # no personal data left behind

    # Y Tý's step fails (never writes its candidates): A Mú Sung is decided, Y Tý keeps its answers.
    plan = pipeline.plan_matching(settings)
    pipeline.match_commune(settings, "A Mú Sung")
    later = datetime(2025, 3, 16, tzinfo=UTC)
    summary = pipeline.decide_matches(settings, later)
    assert summary["communes_failed"] == ["Y Tý"]
    after = matches(warehouse_url)
    assert without_time(after) == without_time(one_call)
    assert {r["commune"] for r in after.values() if r["matched_at"].replace(tzinfo=UTC) == later} >= {
        "A Mú Sung"
    }
    assert all(r["matched_at"].replace(tzinfo=UTC) != later for r in after.values() if r["commune"] == "Y Tý")

    # The snapshot is kept: Y Tý's step cleared and run, then decide_matches again, finish the plan.
    assert matching_dir(settings).exists()
    pipeline.match_commune(settings, "Y Tý")
    assert pipeline.decide_matches(settings, later)["communes_failed"] == []
    assert without_time(matches(warehouse_url)) == without_time(one_call)
    assert all(r["matched_at"].replace(tzinfo=UTC) == later for r in matches(warehouse_url).values())
    assert not matching_dir(settings).exists()

    # decide_matches run again on its own (its snapshot is gone): the one-call answer.
    assert pipeline.decide_matches(settings)["communes_failed"] == []
    assert without_time(matches(warehouse_url)) == without_time(one_call)


# -- through Airflow --------------------------------------------------------------------------------


@pytest.mark.airflow
def test_reconciliation_maps_one_task_per_commune(
    tmp_path: Path, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'warehouse.db'}")
    scenario_in_airflow(settings, smtp_sink.port, monkeypatch)
    two_communes(settings)
    assert collect_new_files(settings, now=FRIDAY_NOON)["accepted"] == 2

    run = load_dag("police_reconciliation").test(logical_date=FRIDAY_NOON)
    assert str(run.state) == "success"
    mapped = [ti for ti in run.get_task_instances() if ti.task_id == "match_commune_cases"]
    assert sorted(ti.rendered_map_index for ti in mapped) == ["A Mú Sung", "Y Tý"]
    assert {str(ti.state) for ti in mapped} == {"success"}
    fanned = without_time(matches(settings.warehouse_url))
    assert {r["commune"] for r in fanned.values() if r["decision"] != "no_police_data"} == {
        "A Mú Sung",
        "Y Tý",
    }

    pipeline.match_open_cases(settings)
    assert without_time(matches(settings.warehouse_url)) == fanned


@pytest.mark.airflow
def test_with_no_commune_to_match_every_case_still_gets_its_answer(
    tmp_path: Path, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No extract at all: one mapped instance that does nothing (a task mapped over nothing would
    be skipped, and decide_matches with it), and every case gets no_police_data."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'warehouse.db'}")
    scenario_in_airflow(settings, smtp_sink.port, monkeypatch)
    assert settings.police_inbox is not None
    for extract in settings.police_inbox.glob("*.csv"):
        extract.unlink()
    assert collect_new_files(settings, now=FRIDAY_NOON)["accepted"] == 2

    run = load_dag("police_reconciliation").test(logical_date=FRIDAY_NOON)
    assert str(run.state) == "success"
    states = {(ti.task_id, ti.rendered_map_index): str(ti.state) for ti in run.get_task_instances()}
    assert states[("match_commune_cases", "no commune to match")] == "success"
    assert states[("decide_matches", None)] == "success"
    rows = matches(settings.warehouse_url)
    assert len(rows) == 8  # the scenario's open cases
    assert {r["decision"] for r in rows.values()} == {"no_police_data"}
