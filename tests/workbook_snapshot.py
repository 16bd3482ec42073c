"""What a reader sees in a workbook, as plain JSON: every sheet's cells, merged ranges, input
checks with their prompts and errors, conditional formats, and the document properties.

Used to show that moving wording out of the code into `include/wording/` changed no byte a
school or an official reads: the golden files under `tests/golden/` were written by the
starting commit's code (`python -m tests.workbook_snapshot` documents how).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

GOLDEN_DIR = Path(__file__).parent / "golden"


def _value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def sheet_snapshot(ws: Any, rows: range | None = None, columns: set[int] | None = None) -> dict[str, Any]:
    """Cells (all, or only the given rows/columns) plus the sheet's checks and formats."""
    cells = {
        c.coordinate: _value(c.value)
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
        and (rows is None or c.row in rows or (columns is not None and c.column in columns))
    }
    return {
        "state": ws.sheet_state,
        "cells": cells,
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "validations": sorted(
            (
                {
                    "range": str(dv.sqref),
                    "type": dv.type,
                    "operator": dv.operator,
                    "formula1": dv.formula1,
                    "formula2": dv.formula2,
                    "prompt_title": dv.promptTitle,
                    "prompt": dv.prompt,
                    "error_title": dv.errorTitle,
                    "error": dv.error,
                    "error_style": dv.errorStyle,
                }
                for dv in ws.data_validations.dataValidation
            ),
            key=json.dumps,
        ),
        "conditional": sorted(
            f"{rng.sqref}: {rule.type} {rule.formula}"
            for rng in ws.conditional_formatting
            for rule in rng.rules
        ),
    }


def workbook_snapshot(path: Path, data_columns: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """The whole workbook; for sheets named in `data_columns`, only the header row and the
    columns with those headers (the rest are personal data from the scenario)."""
    wb = load_workbook(path)
    sheets = {}
    for ws in wb.worksheets:
        if data_columns and ws.title in data_columns:
            wanted = {c.column for c in ws[1] if c.value in data_columns[ws.title]}
            sheets[ws.title] = sheet_snapshot(ws, rows=range(1, 2), columns=wanted)
        else:
            sheets[ws.title] = sheet_snapshot(ws)
    props = wb.properties
    return {
        "sheets": sheets,
        "order": wb.sheetnames,
        "properties": {"title": props.title, "subject": props.subject, "creator": props.creator},
    }


def golden(name: str) -> Any:
    return json.loads((GOLDEN_DIR / name).read_text(encoding="utf-8"))


def write_golden(name: str, snapshot: Any) -> None:
    GOLDEN_DIR.mkdir(exist_ok=True)
    text = json.dumps(snapshot, ensure_ascii=False, indent=1, sort_keys=True)
    (GOLDEN_DIR / name).write_text(text + "\n", encoding="utf-8")
