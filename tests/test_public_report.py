"""The public version of the fortnightly report, on a sample district's real fortnight.

Sample data from `chuyencan_dev.synth` (the 14 schools, weeks ending 28 March and 4 April 2025)
collected and published by the report pipeline's own steps on SQLite. The public files
(`bao_cao_cong_khai_<date>.xlsx` and `.csv`) are then read back as a reader would: no count of
children from 1 to 4 in any cell, no hidden cell that a total gives away by subtraction (the
groups are rebuilt here from the table's own headers), every shown figure the published one,
and no school named. The district's own report keeps its exact figures.
"""

from __future__ import annotations

import csv
import io
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from chuyencan.core.reference import load_reference
from chuyencan.core.schema import fortnight_summary
from chuyencan.core.settings import Settings
from chuyencan.orchestration.fortnight import publish_fortnight
from chuyencan.report.content import table_metrics
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse

REPORT_DATE = date(2025, 4, 4)
SUPPRESSED = "<5"  # a count of 1 to 4 children
SECONDARY = "x"  # a larger count hidden so that a small one cannot be worked out
HIDDEN = (SUPPRESSED, SECONDARY)
SCOPE = "Phạm vi"
NAME = "Tên"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from chuyencan_dev.synth import generate

    base = tmp_path_factory.mktemp("public-report")
    sample = generate(
        base / "sample", seed=5, scale="district", first_week=date(2025, 3, 28), last_week=REPORT_DATE
    )
    (base / "police").mkdir()
    settings = Settings(
        inbox=sample.inbox,
        police_inbox=base / "police",  # no extracts: every case unverified, which is a count too
        work_dir=base / "work",
        warehouse_url=f"sqlite:///{base / 'work' / 'warehouse.db'}",
        district_emails=("pgd.batxat@example.org",),
        settle_seconds=0,
    )
    engine_for.cache_clear()
    prepare_warehouse(settings)
    assert collect_new_files(settings, now=datetime(2025, 4, 4, 8, tzinfo=UTC))["accepted"] > 0
    out = publish_fortnight(settings, REPORT_DATE)
    with engine_for(settings.warehouse_url).connect() as conn:
        rows = conn.execute(select(fortnight_summary).where(fortnight_summary.c.report_date == REPORT_DATE))
        summary = {(r.scope, r.scope_key): r._mapping for r in rows}
    engine_for.cache_clear()
    return {"files": out["write_excel_report"]["BAT_XAT"], "summary": summary, "settings": settings}


def read_xlsx(path: Path) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == SCOPE)
    headers = rows[top]
    return [
        {h: (None if v == "" else v) for h, v in zip(headers, r, strict=True)}
        for r in rows[top + 1 :]
        if r[0] and r[1]
    ]


def read_csv(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8-sig")
    return [
        {k: (int(v) if v.isdigit() else v or None) for k, v in r.items()}
        for r in csv.DictReader(io.StringIO(text))
    ]


def header(metric_field: str) -> str:
    m = next(m for m in table_metrics(45, with_schools=False) if m.field == metric_field)
    return f"{m.group} - {m.header}" if m.group else m.header


COUNTS = [m.field for m in table_metrics(45, with_schools=False) if m.kind == "count"]
PARTITIONS = (
    ("dropouts_summer", "dropouts_hk1", "dropouts_hk2", "dropouts_after_tet"),
    ("left_locality", "in_locality", "unverified"),
    ("eligible_to_continue", "not_eligible"),
)


def groups(table: list[dict[str, Any]]) -> list[list[Any]]:
    """Shown values that add up to a total, total first: each column over the levels and over
    the communes with the district, and each row's split of the open dropouts."""
    district = next(r for r in table if r[SCOPE] == "Toàn huyện")
    out = []
    for field in COUNTS:
        for scope in ("Cấp học", "Xã, thị trấn"):
            out.append([district[header(field)], *(r[header(field)] for r in table if r[SCOPE] == scope)])
    for r in table:
        for parts in PARTITIONS:
            out.append([r[header("dropouts_open")], *(r[header(f)] for f in parts)])
    return out


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_no_small_count_and_nothing_recoverable_from_a_total(published: dict[str, Any], kind: str) -> None:
    path = Path(published["files"][f"public_{kind}"])
    assert path.name == f"bao_cao_cong_khai_{REPORT_DATE}.{kind}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # public: readable by anyone
    table = read_xlsx(path) if kind == "xlsx" else read_csv(path)
    ref = load_reference()
    assert {r[SCOPE] for r in table} == {"Toàn huyện", "Cấp học", "Xã, thị trấn"}
    assert len([r for r in table if r[SCOPE] == "Xã, thị trấn"]) > 5

    cells = [r[header(f)] for r in table for f in COUNTS]
    assert [v for v in cells if isinstance(v, int) and 0 < v < 5] == []
    # A figure, "<5" or "x"; empty only where nothing was published (enrolment of a commune
    # without a school), checked against the summary below.
    assert all(isinstance(v, int) or v in (*HIDDEN, None) for v in cells)
    # Not vacuous: small counts were there to hide, and some cells were hidden to protect them.
    hidden = sum(v in HIDDEN for v in cells)
    assert hidden > 0
    for group in groups(table):
        assert sum(v in HIDDEN for v in group) != 1, "a hidden cell equals its total minus the others"

    # Every shown figure is the published one; every hidden one really was protected.
    summary = published["summary"]
    secondary = 0
    for r in table:
        scope = {"Toàn huyện": "district", "Cấp học": "level", "Xã, thị trấn": "commune"}[r[SCOPE]]
        key = next(k for (s, k) in summary if s == scope and (scope == "district" or _label(s, k) == r[NAME]))
        for field in COUNTS:
            true = summary[(scope, key)][field]
            if r[header(field)] == SUPPRESSED:
                assert 0 < true < 5, (scope, field)  # "<5" never hides a larger count
            elif r[header(field)] == SECONDARY:
                assert not 0 < true < 5, (scope, field)
                secondary += 1
            else:
                assert r[header(field)] == true, (scope, field)
    assert secondary > 0  # the secondary rule was needed on this fortnight
    # No school is named: per-school rows would point at a handful of children.
    text = path.read_bytes().decode("utf-8", "replace") if kind == "csv" else str(table)
    assert not [s.code for s in ref.schools.values() if s.code in text or s.name in text]


def _label(scope: str, key: str) -> str:
    from chuyencan.report.content import LEVEL_LABELS

    return LEVEL_LABELS.get(key, key) if scope == "level" else key


def test_the_district_report_keeps_its_exact_figures(published: dict[str, Any]) -> None:
    ws = openpyxl.load_workbook(published["files"]["xlsx"])["Theo trường"]
    values = [c for row in ws.iter_rows(values_only=True) for c in row]
    assert SUPPRESSED not in values
    assert any(isinstance(v, int) and 0 < v < 5 for v in values)
