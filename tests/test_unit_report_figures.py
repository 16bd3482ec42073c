"""After the 2025 reform one report date has one report per reporting unit in force (issue 12,
docs/organisation.md#the-report-of-a-unit): the department's and each commune's. A sample
fortnight of 2025-26 (the sample generator's Bát Xát schools, their children's home communes
written under the old names) goes through the fortnightly sequence with a post-reform reference
(a copy of include/reference: the provincial department and the commune units that absorbed Bát
Xát's communes); every unit gets its report, the communes' reports add up to the department's,
and the figures are the generator's truth."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chuyencan.core.organisation import load_organisation
from chuyencan.core.runs import engine_for
from chuyencan.core.schema import fortnight_breakdown, fortnight_summary
from chuyencan.core.settings import REFERENCE_DIR, Settings
from chuyencan.orchestration.fortnight import publish_fortnight
from chuyencan.police import pipeline as police
from chuyencan.report.dimensions import UNKNOWN_COMMUNE
from chuyencan.submissions.pipeline import collect_new_files, prepare_warehouse
from tests.helpers import CHILD_COLUMNS, SCHOOL_COLUMNS
from tests.report_truth import fortnight_truth, police_round_of

REPORT_DATE = date(2025, 10, 3)  # a report Friday of 2025-26 (weeks ending 26 Sep and 3 Oct)
DEPARTMENT = "SO_GDDT_LAO_CAI"
# Exactly the truth; left_locality is what the police matching found, at most the truth (the
# matcher's own tests measure what it misses).
TRUTH_COLUMNS = ("dropouts_open", "eligible_to_continue", "not_eligible", "returned")

Rows = dict[tuple[str, str, str], dict[str, Any]]  # (unit, scope, scope key) -> summary row
Counts = dict[tuple[str, str, str], Counter[tuple[str, str]]]  # same key -> breakdown


def read(url: str) -> tuple[Rows, Counts]:
    with engine_for(url).connect() as conn:
        t, b = fortnight_summary, fortnight_breakdown
        rows = {
            (r.reporting_unit, r.scope, r.scope_key): dict(r._mapping)
            for r in conn.execute(select(t).where(t.c.report_date == REPORT_DATE))
        }
        counts: Counts = {}
        for r in conn.execute(select(b).where(b.c.report_date == REPORT_DATE)):
            counts.setdefault((r.reporting_unit, r.scope, r.scope_key), Counter())[
                (r.dimension, r.category)
            ] = r.students
    return rows, counts


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from chuyencan_dev.synth import generate

    base = tmp_path_factory.mktemp("units")
    generated = generate(
        base / "sample", seed=12, scale="district", first_week=date(2025, 9, 19), last_week=REPORT_DATE
    )
    reference = base / "reference"
    shutil.copytree(REFERENCE_DIR, reference)
    return {"base": base, "generated": generated, "reference": reference}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def published(
    request: pytest.FixtureRequest, sample: dict[str, Any], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'work' / 'warehouse.db'}"
        yield from _publish(sample, tmp_path, url)
    else:
        from tests.databases import fresh_pg_database

        with fresh_pg_database("chuyencan_test_i12_units") as url:
            yield from _publish(sample, tmp_path, url)


def _publish(sample: dict[str, Any], tmp_path: Path, url: str) -> Iterator[dict[str, Any]]:
    generated = sample["generated"]
    settings = Settings(
        inbox=generated.inbox,
        police_inbox=generated.police_inbox,
        work_dir=tmp_path / "work",
        warehouse_url=url,
        reference_dir=sample["reference"],
        settle_seconds=0,
    )
    engine_for.cache_clear()
    prepare_warehouse(settings)
    now = datetime(2025, 10, 3, 6, tzinfo=UTC)
    assert collect_new_files(settings, now=now)["accepted"] > 0
    police.load_police_extracts(settings, now=now)
    out = publish_fortnight(settings, REPORT_DATE, now=now)
    rows, counts = read(url)
    engine_for.cache_clear()
    yield {"out": out, "rows": rows, "counts": counts, "settings": settings, "sample": sample}


def test_every_unit_in_force_gets_its_report_and_the_communes_add_up_to_the_department(
    published: dict[str, Any],
) -> None:
    org = load_organisation(published["settings"].reference_dir)
    rows, counts = published["rows"], published["counts"]
    units = org.reporting_units_in_force(REPORT_DATE)
    communes = [u.code for u in units if u.parent == DEPARTMENT]
    assert [u.code for u in units] == [*communes, DEPARTMENT]  # communes first
    assert len(communes) >= 2
    assert list(published["out"]["publish_fortnight_summary"]) == [*communes, DEPARTMENT]

    # Every unit's report: its own row (scope 'unit'), the three levels, its communes in force,
    # its schools, and nothing of another unit's (the district's scope is gone).
    for unit in [*communes, DEPARTMENT]:
        scopes = {(scope, key) for (u, scope, key) in rows if u == unit}
        expected = {("unit", unit)} | {("level", level) for level in ("TH", "THCS", "THPT")}
        expected |= {("commune", c.commune_name) for c in org.communes_of(unit, REPORT_DATE)}
        expected |= {("school", code) for code in org.unit_schools(unit, REPORT_DATE)}
        assert expected <= scopes, unit
        assert scopes - expected <= {("commune", UNKNOWN_COMMUNE)}, unit
        assert all(scope != "district" for scope, _ in scopes)
    assert {(u, s, k) for (u, s, k) in rows if s == "commune" and k == UNKNOWN_COMMUNE} <= {
        (DEPARTMENT, "commune", UNKNOWN_COMMUNE)
    }  # only the unit without parent counts the children nobody else does

    top = {unit: rows[(unit, "unit", unit)] for unit in [*communes, DEPARTMENT]}
    unknown = rows.get((DEPARTMENT, "commune", UNKNOWN_COMMUNE), dict.fromkeys(CHILD_COLUMNS, 0))
    own = [rows[(DEPARTMENT, "school", code)] for code in org.schools_of(DEPARTMENT, REPORT_DATE)]
    assert own  # the upper-secondary schools and the GDTX centre report to the department
    for column in CHILD_COLUMNS:
        assert sum(top[c][column] for c in communes) + unknown[column] == top[DEPARTMENT][column], column
    for column in SCHOOL_COLUMNS:
        assert (
            sum(top[c][column] or 0 for c in communes) + sum(r[column] or 0 for r in own)
            == top[DEPARTMENT][column]
        ), column
    assert top[DEPARTMENT]["dropouts_open"] > 0
    assert top[DEPARTMENT]["schools_expected"] == 14

    unknown_counts = counts.get((DEPARTMENT, "commune", UNKNOWN_COMMUNE), Counter())
    department = counts[(DEPARTMENT, "unit", DEPARTMENT)]
    assert sum((counts[(c, "unit", c)] for c in communes), Counter()) + unknown_counts == department

    # Inside each report, the levels and the communes add up to the unit.
    for unit, figures in top.items():
        for scope in ("level", "commune"):
            parts = [r for (u, s, _), r in rows.items() if u == unit and s == scope]
            for column in CHILD_COLUMNS:
                assert sum(r[column] for r in parts) == figures[column], (unit, scope, column)


def test_the_reports_are_the_generators_truth(published: dict[str, Any]) -> None:
    """The department's figures are the truth's for every child; a commune unit's, the truth's
    for the children whose (old) home commune it absorbed."""
    org = load_organisation(published["settings"].reference_dir)
    rows = published["rows"]
    generated = published["sample"]["generated"]
    truth = fortnight_truth(generated.truth_dir, REPORT_DATE, police_round=police_round_of(generated.out_dir))
    expected: dict[str, Counter[str]] = {DEPARTMENT: Counter(truth.district.summary)}
    for (scope, written), figures in truth.by_scope.items():
        if scope != "commune":
            continue
        name = org.commune_name(written, REPORT_DATE)
        units = [u.code for u in org.reporting_units_in_force(REPORT_DATE) if u.parent == DEPARTMENT]
        unit = next(
            (u for u in units if name in {c.commune_name for c in org.communes_of(u, REPORT_DATE)}), None
        )
        if unit is not None:
            expected.setdefault(unit, Counter()).update(figures.summary)
    assert len(expected) > 2
    for unit, figures in expected.items():
        got = rows[(unit, "unit", unit)]
        assert {c: got[c] for c in TRUTH_COLUMNS} == {c: figures[c] for c in TRUTH_COLUMNS}, unit
        assert got["left_locality"] <= figures["left_locality"], unit
        assert got["dropouts_open"] == got["left_locality"] + got["in_locality"] + got["unverified"], unit
