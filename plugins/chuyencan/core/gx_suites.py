"""Running a GX suite (JSON in include/expectations) over the stacked rows of many files.

GX has a fixed cost per validation, so every intake stacks all files of a run into one table
with `file_idx` and `source_row` columns and validates once; `suite_failures` yields each
failing row with its expectation's `meta` (rule id, column, severity), for the caller to turn
into the issue its audience reads. Schools' workbooks and police extracts both use it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from chuyencan.core.reference import INCLUDE_DIR

EXPECTATIONS_DIR = INCLUDE_DIR / "expectations"
INDEX_COLUMNS = ["file_idx", "source_row"]
_gx_lock = threading.Lock()


@dataclass(frozen=True)
class Failure:
    file_idx: int
    row: int  # the file's own row number
    meta: dict[str, Any]  # the expectation's meta: rule, column, value_column, severity …
    record: pd.Series  # the failing row, with derived columns

    def value(self, column: str | None) -> str | None:
        return display(self.record.get(column)) if column else None

    def params(self) -> tuple[tuple[str, str | None], ...]:
        return tuple((c, display(self.record.get(c))) for c in self.meta.get("param_columns", ()))


@cache
def _gx() -> tuple[Any, Any]:
    """One ephemeral GX context and batch definition per process (GX import costs seconds)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX narrates its internals at INFO; keep the task logs about our files.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("submissions")
        .add_dataframe_asset("rows")
        .add_batch_definition_whole_dataframe("all_files")
    )
    return gx, batch_definition


def suite_failures(
    spec: dict[str, Any], frame: pd.DataFrame, params: dict[str, Any] | None = None
) -> Iterator[Failure]:
    """Validate `frame` against the suite `spec` once; yield every failing row."""
    with _gx_lock:
        gx, batch_definition = _gx()
        suite = gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
        result = batch_definition.get_batch(batch_parameters={"dataframe": for_gx(frame)}).validate(
            suite,
            expectation_parameters=params or {},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": INDEX_COLUMNS},
        )
    lookup = frame.set_index(INDEX_COLUMNS)
    for res in result.results:
        if res.success:
            continue
        cfg = res.expectation_config
        meta = cfg.meta or {}
        if res.exception_info and res.exception_info.get("raised_exception"):
            # A broken suite is our bug, not the sender's: fail loudly for the operator.
            raise RuntimeError(
                f"expectation {cfg.type} ({meta.get('rule')}) raised: "
                f"{res.exception_info.get('exception_message')}"
            )
        for hit in res.result.get("unexpected_index_list") or []:
            file_idx, row = int(hit["file_idx"]), int(hit["source_row"])
            record = lookup.loc[(file_idx, row)]
            if isinstance(record, pd.DataFrame):
                record = record.iloc[0]
            yield Failure(file_idx, row, meta, record)


def for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """GX compares with pandas operators: give it numbers for numeric columns, None for gaps."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in out[col].dropna())
            if numeric and out[col].notna().any():
                out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def date_ordinals(series: pd.Series) -> pd.Series:
    """Dates as day numbers (NaN for gaps): GX compares numbers, not date objects."""
    return series.map(lambda d: float(d.toordinal()) if isinstance(d, date) else np.nan)


def display(value: Any) -> str | None:
    """A cell value as a person wrote it: dates dd/mm/yyyy, whole numbers without '.0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
