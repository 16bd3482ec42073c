"""A canonical dump of a PostgreSQL warehouse, to compare two runs of the same input.

What differs between two correct runs is left out or translated:
- processing times (timestamp columns other than file times such as `received_at`);
- surrogate keys (serial or identity `*_id` columns): rows that refer to one (`submission_id` in
  `ops.class_attendance` …) carry the referenced row's natural key instead (the table's single-
  column unique key, e.g. the file's content hash), found from the catalogue, not listed here.
Rows are sorted; each table gets a digest. Personal data never leaves this module: callers get
counts and digests, and differing rows only for tables outside `restricted`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import Engine, inspect, text
from sqlalchemy.types import DateTime

SCHEMAS = ("ref", "ops", "report", "restricted")
FILE_TIME_COLUMNS = frozenset({"received_at"})  # when a school or the police made the file


@dataclass
class TableDump:
    name: str
    columns: list[str]
    rows: list[tuple] = field(repr=False)
    excluded: list[str]

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.rows, default=str).encode()).hexdigest()[:16]

    @property
    def personal(self) -> bool:
        return self.name.startswith("restricted.")


def _surrogate_columns(engine: Engine, schema: str, table: str) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    """
                    SELECT column_name FROM information_schema.columns
                    WHERE table_schema = :s AND table_name = :t
                      AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')
                    """
                ),
                {"s": schema, "t": table},
            ).scalars()
        )


def _canonical(value: object) -> object:
    if isinstance(value, float):
        return round(value, 12)
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


def dump(engine: Engine) -> dict[str, TableDump]:
    insp = inspect(engine)
    tables = [(s, t) for s in SCHEMAS if insp.has_schema(s) for t in insp.get_table_names(schema=s)]
    surrogates = {(s, t): _surrogate_columns(engine, s, t) for s, t in tables}
    # surrogate column name -> {id: natural key} from the table that owns the sequence
    natural: dict[str, dict[object, object]] = {}
    for (s, t), cols in surrogates.items():
        for col in cols:
            uniques = [u["column_names"] for u in insp.get_unique_constraints(t, schema=s)]
            single = [u[0] for u in uniques if len(u) == 1 and u[0] != col]
            if not single:
                continue
            with engine.connect() as conn:
                natural[col] = dict(
                    conn.execute(text(f'SELECT "{col}", "{single[0]}" FROM "{s}"."{t}"')).all()
                )

    # A generated id with no natural key to translate it to is left out everywhere; a serial
    # column that holds data (an integer primary key filled explicitly, like a grade) stays.
    unmapped = {c for cols in surrogates.values() for c in cols if c.endswith("_id")} - natural.keys()
    surrogates = {k: {c for c in cols if c in natural or c in unmapped} for k, cols in surrogates.items()}
    out: dict[str, TableDump] = {}
    for s, t in tables:
        keep, excluded = [], []
        for c in insp.get_columns(t, schema=s):
            name = c["name"]
            if isinstance(c["type"], DateTime) and name not in FILE_TIME_COLUMNS:
                excluded.append(name)  # a processing time
            elif name in surrogates[(s, t)] or name in unmapped:
                excluded.append(name)  # a surrogate key, or a reference to one with no natural key
            else:
                keep.append(name)
        column_list = ", ".join('"' + k + '"' for k in keep)
        with engine.connect() as conn:
            raw = conn.execute(text(f'SELECT {column_list} FROM "{s}"."{t}"')).all()
        rows = []
        for r in raw:
            row = []
            for name, value in zip(keep, r, strict=True):
                if name in natural:
                    row.append(_canonical(("ref", natural[name].get(value, f"<dangling {name}>"))))
                else:
                    row.append(_canonical(value))
            rows.append(tuple(row))
        rows.sort(key=lambda r: json.dumps(r, default=str))
        out[f"{s}.{t}"] = TableDump(f"{s}.{t}", keep, rows, excluded)
    return out


def compare(a: dict[str, TableDump], b: dict[str, TableDump], show: int = 5) -> list[str]:
    """Differences between two dumps, as lines for the report (no personal values)."""
    problems = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            problems.append(f"{name}: only in {'the first' if name in a else 'the second'} warehouse")
            continue
        ta, tb = a[name], b[name]
        if ta.digest == tb.digest:
            continue
        problems.append(f"{name}: {len(ta.rows)} rows vs {len(tb.rows)} rows, contents differ")
        if not ta.personal:
            only_a = [r for r in ta.rows if r not in set(tb.rows)][:show]
            only_b = [r for r in tb.rows if r not in set(ta.rows)][:show]
            problems.extend(f"    only undisturbed: {dict(zip(ta.columns, r, strict=True))}" for r in only_a)
            problems.extend(f"    only disturbed:   {dict(zip(tb.columns, r, strict=True))}" for r in only_b)
    return problems
