"""Alembic migrations: a warehouse the previous release created, with data in it, upgrades to the
newest revision on SQLite (attached schema files) and on PostgreSQL and loses nothing.

The previous release's warehouse is its own DDL (tests/fixtures/warehouse_6ff0b66_<dialect>.sql,
generated from that commit's `metadata.create_all`, with its `ops.meta` schema_version row). The
data is real: a sample fortnight run through this release's pipeline (submissions, police
extracts, the report) on a fresh warehouse, then copied row by row into the old one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table

from chuyencan.core import warehouse as wh
from chuyencan.core.schema import SCHEMAS, metadata
from chuyencan.core.settings import Settings
from chuyencan.orchestration.fortnight import publish_fortnight
from chuyencan.police import pipeline as police
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.databases import fresh_pg_database

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")
REPORT_DATE = date(2025, 4, 4)


def previous_release(engine: Engine) -> None:
    """Build the warehouse exactly as release 6ff0b66 did (its DDL, its bookkeeping row)."""
    ddl = (FIXTURES / f"warehouse_6ff0b66_{engine.dialect.name}.sql").read_text(encoding="utf-8")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for schema in SCHEMAS:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        for statement in ddl.split(";\n"):
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
            if body:
                conn.exec_driver_sql(body)


def normalised(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, float):
        return round(value, 9)
    return value


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            out[table.fullname] = sorted((tuple(normalised(v) for v in r) for r in rows), key=repr)
    return out


def shape(engine: Engine) -> dict[str, Any]:
    """Tables, columns (type, nullability), primary keys, indexes and unique constraints."""
    out: dict[str, Any] = {}
    insp = inspect(engine)
    for schema in SCHEMAS:
        for name in insp.get_table_names(schema=schema):
            out[f"{schema}.{name}"] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(name, schema)
                ],
                "pk": insp.get_pk_constraint(name, schema)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(name, schema)
                ),
                "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(name, schema)),
            }
    return out


# Tables later revisions add: the previous release has none of them (0002: issue 11; 0004:
# issue 12's organisation, reloaded from the reference files by the next run's prepare step;
# 0005: issue 13's contacts and deliveries; 0006: issue 13's commune verification lists and returns;
# 0007: issue 13's police rounds).
ADDED_SINCE_RELEASE = (
    "report.fortnight_breakdown",
    "ref.admin_unit",
    "ref.reporting_unit",
    "ref.school_unit",
    "ref.contact",
    "ops.contact_gap",
    "restricted.delivery",
    "ops.verification_list",
    "restricted.verification_list_entry",
    "ops.verification_return",
    "ops.verification_return_issue",
    "restricted.verification_finding",
    "report.commune_verification",
    "report.police_round_arrival",
)
# Added tables this sample fortnight may leave empty: every contact exists; no commune has
# returned a list yet, nor had one for two fortnights.
EMPTY_IN_SAMPLE = (
    "ops.contact_gap",
    "ops.verification_return",
    "ops.verification_return_issue",
    "restricted.verification_finding",
    "report.commune_verification",
)
# Columns later revisions add to the release's tables, with what the upgrade fills them with
# (0004: every report row so far is Bát Xát's education office's).
COLUMNS_ADDED_SINCE_RELEASE = {
    "report.submission_status": {"reporting_unit": "BAT_XAT"},
    "report.attendance_weekly": {"reporting_unit": "BAT_XAT"},
    "report.fortnight_summary": {"reporting_unit": "BAT_XAT"},
}


def copy_rows(source: Engine, target: Engine) -> None:
    """Every row of the tables the previous release has."""
    with source.connect() as src, target.begin() as dst:
        for table in metadata.sorted_tables:
            if table.fullname in ADDED_SINCE_RELEASE:
                continue
            added = COLUMNS_ADDED_SINCE_RELEASE.get(table.fullname, {})
            columns = [c for c in table.columns if c.name not in added]
            rows = [dict(r._mapping) for r in src.execute(select(*columns))]
            if rows:
                released = sa_table(
                    table.name, *(sa_column(c.name, c.type) for c in columns), schema=table.schema
                )
                dst.execute(released.insert(), rows)
        if target.dialect.name == "postgresql":
            # The old release's SERIAL sequences must continue after the copied ids.
            for table in metadata.sorted_tables:
                if table.fullname in ADDED_SINCE_RELEASE:
                    continue
                for column in table.primary_key.columns:
                    if column.autoincrement is True:
                        dst.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.fullname}', '{column.name}'), "
                                f"COALESCE((SELECT MAX({column.name}) FROM {table.fullname}), 0) + 1, false)"
                            )
                        )


@pytest.fixture(scope="module")
def pipeline_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A fresh warehouse (upgrade head) filled by this release's pipeline on a sample fortnight."""
    from chuyencan_dev.synth import generate

    base = tmp_path_factory.mktemp("migrations")
    sample = generate(
        base / "sample", seed=11, scale="district", first_week=date(2025, 3, 28), last_week=REPORT_DATE
    )
    settings = Settings(
        inbox=sample.inbox,
        police_inbox=sample.police_inbox,
        work_dir=base / "work",
        warehouse_url=f"sqlite:///{base / 'work' / 'warehouse.db'}",
        district_emails=("pgd.batxat@example.org",),
        settle_seconds=0,
    )
    engine_for.cache_clear()
    prepare_warehouse(settings)
    now = datetime(2025, 4, 4, 9, tzinfo=UTC)
    assert collect_new_files(settings, now=now)["accepted"] > 0
    police.load_police_extracts(settings, now=now)
    publish_fortnight(settings, REPORT_DATE, now=now)
    engine = engine_for(settings.warehouse_url)
    yield engine
    engine_for.cache_clear()


def test_there_is_one_line_of_revisions_and_the_schema_module_matches_it(pipeline_data: Engine) -> None:
    script = ScriptDirectory.from_config(wh.alembic_config())
    assert len(script.get_heads()) == 1
    assert wh.schema_revision(pipeline_data) == wh.head_revision()
    with pipeline_data.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, _p: name in SCHEMAS if type_ == "schema" else True,
                "compare_type": True,
                "version_table": wh.VERSION_TABLE,
                "version_table_schema": wh.VERSION_TABLE_SCHEMA,
            },
        )
        assert compare_metadata(ctx, metadata) == []
    # compare_metadata leaves primary keys out.
    insp = inspect(pipeline_data)
    for table in metadata.sorted_tables:
        key = insp.get_pk_constraint(table.name, table.schema)["constrained_columns"]
        assert key == [c.name for c in table.primary_key.columns], table.fullname


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_warehouse_of_the_previous_release_upgrades_without_losing_a_row(
    dialect: str, pipeline_data: Engine, tmp_path: Path
) -> None:
    source = contents(pipeline_data)
    assert sum(len(rows) for rows in source.values()) > 1000
    assert sum(1 for rows in source.values() if rows) >= 15  # most tables hold something

    with _warehouses(dialect, tmp_path) as (old, fresh):
        previous_release(old)
        copy_rows(pipeline_data, old)
        assert wh.schema_revision(old) is None

        wh.ensure_schema(old)  # what the prepare step runs
        wh.ensure_schema(old)  # and again on the next run: nothing to do

        assert wh.schema_revision(old) == wh.head_revision()
        # Every row survives, the previous release's own bookkeeping row included; the tables
        # added since are there, empty until the next report fills them.
        expected = {
            **source,
            "ops.meta": sorted([*source["ops.meta"], ("schema_version", "1")], key=repr),
            **{name: [] for name in ADDED_SINCE_RELEASE},
        }
        # the pipeline does fill them
        assert all(source[name] for name in ADDED_SINCE_RELEASE if name not in EMPTY_IN_SAMPLE)
        assert contents(old) == expected
        wh.ensure_schema(fresh)
        assert shape(old) == shape(fresh)
        # The adopted warehouse keeps working: a new row's id continues after the copied ones.
        outbox = metadata.tables["ops.email_outbox"]
        with old.begin() as conn:
            before = conn.execute(select(outbox.c.email_id)).scalars().all()
            new_id = conn.execute(
                outbox.insert().returning(outbox.c.email_id),
                {
                    "dedup_key": "migrations-test",
                    "kind": "test",
                    "recipients": "[]",
                    "subject": "-",
                    "body_text": "-",
                    "body_html": "-",
                    "created_at": datetime.now(UTC),
                    "attempts": 0,
                },
            ).scalar_one()
        assert new_id > max(before, default=0)


class _warehouses:
    """An empty warehouse to play the previous release's, and a fresh one, on one dialect."""

    def __init__(self, dialect: str, tmp_path: Path) -> None:
        self.dialect, self.tmp_path = dialect, tmp_path
        self._dbs: list[Any] = []

    def __enter__(self) -> tuple[Engine, Engine]:
        if self.dialect == "sqlite":
            urls = [f"sqlite:///{self.tmp_path / n / 'warehouse.db'}" for n in ("old", "fresh")]
        else:
            urls = []
            for _ in range(2):
                cm = fresh_pg_database("chuyencan_test_i14a_mig")
                urls.append(cm.__enter__())
                self._dbs.append(cm)
        self.engines = [wh.make_engine(u) for u in urls]
        return self.engines[0], self.engines[1]

    def __exit__(self, *exc: object) -> None:
        for engine in self.engines:
            engine.dispose()
        for cm in reversed(self._dbs):
            cm.__exit__(None, None, None)


def test_operators_alembic_command_shows_the_history() -> None:
    ini = ROOT / "plugins" / "chuyencan" / "core" / "migrations" / "alembic.ini"
    out = subprocess.run(
        [str(Path(sys.executable).with_name("alembic")), "-c", str(ini), "history"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert f"<base> -> {wh.head_revision()} (head)" in out or f"-> {wh.head_revision()} (head)" in out
