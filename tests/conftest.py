"""Shared fixtures: a migrated Airflow home, fresh PostgreSQL databases, a real SMTP sink.

Airflow reads its configuration when first imported, so the environment is set here, before
any test module imports it.

Markers keep the fast lane (`make test-fast`: `-m "not postgres and not airflow"`) honest: a
test that asks for `pg_url`, or for the PostgreSQL side of `warehouse_url`, is marked `postgres`
here, and one that asks for Airflow's metadata DB (`airflow_db`) is marked `airflow`; any other
test that opens a PostgreSQL database (databases.py) or loads a DAG (helpers.load_dag) without
the marker fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="chuyencan-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__EMAIL__FROM_EMAIL": "chuyencan@example.org",
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata DB (SQLite), migrated once per test session."""
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _AIRFLOW_HOME


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from tests.databases import fresh_pg_database

    with fresh_pg_database() as url:
        try:
            yield url
        finally:
            from chuyencan.submissions.pipeline import engine_for

            engine_for.cache_clear()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse' / 'warehouse.db'}"


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "pg_url" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if "airflow_db" in fixtures:
            item.add_marker(pytest.mark.airflow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture of the test, module-scoped ones included, is set up.
    from tests import databases, helpers

    databases.postgres_allowed = item.get_closest_marker("postgres") is not None
    helpers.airflow_allowed = item.get_closest_marker("airflow") is not None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs on both warehouse kinds."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse' / 'warehouse.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[object]:
    """A real SMTP server on a free loopback port that keeps every message it receives."""
    from chuyencan_dev.mail_sink import SmtpSink

    with SmtpSink(tmp_path / "mail") as sink:
        yield sink
