"""No Excel file the project writes runs a formula someone typed into its inputs.

Text that a spreadsheet would evaluate (`=HYPERLINK(…)`, `+1`, `-1+2`, `@SUM(A1)`, and the same
behind a tab or carriage return) is put where schools and commune police really type text:
a school's class names, students' reasons and destinations, the police's destinations,
workplaces and household relations. The real pipeline then loads the files, reconciles with
the police extract and publishes the fortnight, and every workbook it writes is opened:
- the district's report (`report/excel.py`), the principals' lists (`report/lists.py`), the
  police review list (`police/review.py`) and next week's templates (`submissions/school_template.py`);
- in each, the sheet XML holds no `<f>` formula element (the project writes none on purpose:
  the templates' checks are data-validation and conditional-format rules, which are not cell
  formulas), and every injected text arrived as text with Excel's quote prefix.
`chuyencan_dev.synth` is exempt: it writes the schools' own files, broken ones included, as test
data, not what the pipeline publishes.
"""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from chuyencan.core.reference import load_reference
from chuyencan.core.safe_cells import set_value
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.police import pipeline as police
from chuyencan.report.pipeline import publish_fortnight
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse, write_templates
from tests.school_files import ClassRow, SchoolWeek, write_school_file
from tests.test_police_intake import AMS_BOOK, make_settings, write_extract
from tests.test_police_verdicts import AMS_STUDENTS, WEEK, YTY_STUDENTS

HYPERLINK = '=HYPERLINK("http://evil.example/x","Bấm vào đây")'
PAYLOADS = (HYPERLINK, "+1", "-1+2", "@SUM(A1)", "\t=1+1", "\r=2+2")
REPORT_DATE = date(2025, 4, 4)
# The student whose police record says she left: her record's destination and workplace are
# shown on the review list.
LEFT = "left_tam_vang"


def injected_scenario(settings: Settings) -> None:
    """test_police_verdicts' scenario, with formulas typed into every free-text field."""
    ref = load_reference()
    students = []
    for i, (label, s) in enumerate(AMS_STUDENTS.items()):
        students.append(
            {
                **s,
                "reason": PAYLOADS[i % len(PAYLOADS)],
                "destination": PAYLOADS[(i + 1) % len(PAYLOADS)] if label != "in_thuong_tru" else None,
            }
        )
    classes = [
        ClassRow(7, "7A", 30, 5, 2, 1),
        ClassRow(8, "8A", 30, 5, 1, 3),
        ClassRow(9, "9A", 28, 5, 2, 6),
        ClassRow(9, "@SUM(A1)", 20, 5, 0, 0),
        ClassRow(9, "-1+2", 20, 5, 0, 0),
    ]
    write_school_file(
        ref,
        SchoolWeek("BX-AMS", WEEK, classes, students),
        settings.inbox / "BX-AMS" / "tuan.xlsx",
        datetime(2025, 3, 13, 15, tzinfo=TIMEZONE),
    )
    write_school_file(
        ref,
        SchoolWeek("BX-YTY", WEEK, [ClassRow(8, "+1", 32, 5, 0, 4)], list(YTY_STUDENTS.values())),
        settings.inbox / "BX-YTY" / "tuan.xlsx",
        datetime(2025, 3, 13, 16, tzinfo=TIMEZONE),
    )
    left_id = AMS_STUDENTS[LEFT]["personal_id"]
    book = [
        {**r, "noi_den": HYPERLINK, "noi_lam_viec": "@SUM(A1)"} if r["so_dinh_danh"] == left_id else r
        for r in AMS_BOOK
    ]
    assert book != AMS_BOOK
    assert settings.police_inbox is not None
    write_extract(
        settings.police_inbox / "A-Mu-Sung_2025-03-11.csv",
        book,
        received_at=datetime(2025, 3, 11, 16, tzinfo=TIMEZONE),
        bom=True,
    )


@pytest.fixture
def written(tmp_path: Path, sqlite_url: str) -> dict[str, list[Path]]:
    settings = make_settings(tmp_path, sqlite_url)
    engine_for.cache_clear()
    prepare_warehouse(settings)
    injected_scenario(settings)
    collected = collect_new_files(settings, now=datetime(2025, 3, 14, 4, 0, tzinfo=UTC))
    assert collected["accepted"] == 2, collected
    police.reconcile(settings)
    police.write_review_list(settings, WEEK)
    write_templates(settings, date(2025, 3, 21))
    publish_fortnight(settings, REPORT_DATE)
    work = settings.work_dir
    files = {
        "report": sorted((work / "reports").glob("*.xlsx")),
        "principals' lists": sorted((work / "reports" / "restricted").glob("*.xlsx")),
        "police review list": sorted((work / "police" / "review").glob("*.xlsx")),
        "templates": sorted((work / "templates").rglob("*.xlsx")),
    }
    engine_for.cache_clear()
    return files


def formula_elements(path: Path) -> list[str]:
    """`<f>` cell formulas in the sheet XML of a workbook, by sheet part."""
    with zipfile.ZipFile(path) as z:
        return [
            name
            for name in z.namelist()
            if name.startswith("xl/worksheets/") and re.search(rb"<(\w+:)?f[ >/]", z.read(name))
        ]


def injected_cells(path: Path) -> list[tuple[str, Any, bool, str]]:
    """(place, value, quote prefix, data type) of every cell holding an injected text."""
    found = []
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and any(p.strip() in cell.value for p in PAYLOADS):
                    found.append(
                        (
                            f"{path.name}!{ws.title}!{cell.coordinate}",
                            cell.value,
                            cell.quotePrefix,
                            cell.data_type,
                        )
                    )
    return found


def test_every_workbook_the_pipeline_writes_keeps_typed_formulas_as_text(
    written: dict[str, list[Path]],
) -> None:
    assert all(written.values()), {k: len(v) for k, v in written.items()}
    reached = set()
    for kind, paths in written.items():
        for path in paths:
            assert formula_elements(path) == [], f"{kind}: {path.name}"
            for place, value, quoted, data_type in injected_cells(path):
                assert data_type == "s", place
                # Text starting like a formula carries the quote prefix (Excel's leading ').
                assert quoted or not value.startswith(("=", "+", "-", "@")), place
                reached.add(kind)
    # The injected text reached every writer that shows school or police free text: the
    # principals' lists (reasons, destinations), the review list (the police's destination and
    # workplace) and the templates (class names). The report shows aggregates only.
    assert reached >= {"principals' lists", "police review list", "templates"}


def test_the_injected_text_arrives_whole(written: dict[str, list[Path]]) -> None:
    """Neutralised, not mangled: a class named "-1+2" is still "-1+2" next week."""
    template = next(p for p in written["templates"] if p.name.startswith("BX-AMS_"))
    values = {v for _, v, _, _ in injected_cells(template)}
    assert {"@SUM(A1)", "-1+2"} <= values
    review = written["police review list"][0]
    assert {HYPERLINK, "@SUM(A1)"} <= {v for _, v, _, _ in injected_cells(review)}


@pytest.mark.parametrize("payload", PAYLOADS)
def test_set_value_stores_any_formula_like_text_as_quoted_text(payload: str, tmp_path: Path) -> None:
    """Leading tabs and carriage returns never survive the readers (cells are trimmed), so they
    are checked here on the one function every writer uses."""
    wb = openpyxl.Workbook()
    set_value(wb.active.cell(row=1, column=1), payload)
    path = tmp_path / "x.xlsx"
    wb.save(path)
    assert formula_elements(path) == []
    cell = openpyxl.load_workbook(path).active["A1"]
    assert (cell.data_type, cell.quotePrefix) == ("s", True)
    assert cell.value.strip() == payload.strip()
