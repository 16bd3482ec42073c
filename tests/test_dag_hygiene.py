"""DAG hygiene, in the spirit of Airflow's tests of its own example DAGs: every DAG imports
without errors, parses cheaply (no pandas, GX or workbook libraries at module level), touches
no database, network or Airflow variable while being parsed, and tells its operators what it
does (doc, owner, tags) and how it behaves (retries with backoff, no overlapping runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Airflow parses the DAG files here (in this process and in fresh interpreters): not fast-lane work.
pytestmark = pytest.mark.airflow

DAGS_DIR = Path(__file__).resolve().parents[1] / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
CONTRACT_DAG_IDS = {"school_submissions_weekly", "police_reconciliation", "fortnightly_report"}
HEAVY_MODULES = ("pandas", "great_expectations", "openpyxl", "python_calamine", "numpy", "sqlalchemy")

# Runs in a fresh interpreter: import Airflow's SDK first (its own start-up is not ours to
# judge), then watch what parsing one DAG file does.
_PROBE = r"""
import json, sys, importlib.util
import airflow.sdk
from airflow.sdk import Connection, CronTriggerTimetable, EventsTimetable, Variable, task  # croniter runs `file` on import
events = []
def hook(event, args):
    if event in ("socket.connect", "sqlite3.connect", "subprocess.Popen"):
        events.append(event)
sys.addaudithook(hook)
def forbidden(*a, **k):
    raise RuntimeError("Variable or Connection read while parsing a DAG file")
Variable.get = forbidden
Connection.get = forbidden
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
loaded = sorted(m.split(".")[0] for m in set(sys.modules) - before)
print(json.dumps({"events": events, "loaded": sorted(set(loaded))}))
"""


def _dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="module")
def dagbag(airflow_db: Path):
    return _dagbag()


def test_all_dags_import_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) >= CONTRACT_DAG_IDS
    assert len(dagbag.dag_ids) == len(DAG_FILES)


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.stem)
def test_parsing_is_cheap_and_touches_nothing(dag_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(dag_file)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(DAGS_DIR.parent / "plugins")},
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["events"] == []
    assert not set(probe["loaded"]) & set(HEAVY_MODULES)


def test_dags_tell_operators_what_they_do(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md, dag_id
        assert len(dag.doc_md) > 200, dag_id
        assert "chuyencan" in dag.tags, dag_id
        assert dag.max_active_runs == 1, dag_id
        assert dag.catchup is False or dag_id == "fortnightly_report", dag_id
        for task in dag.tasks:
            assert task.owner == "chuyencan-data-engineering", (dag_id, task.task_id)
            # Every task here reads or writes the warehouse or the mail server.
            assert task.retries >= 1, (dag_id, task.task_id)
            assert task.retry_exponential_backoff, (dag_id, task.task_id)


def test_schedules_are_in_vietnam_time(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        if hasattr(dag.timetable, "timezone"):
            assert str(dag.timetable.timezone) == "Asia/Ho_Chi_Minh", dag_id
    weekly = dagbag.get_dag("school_submissions_weekly").timetable
    assert str(weekly.timezone) == "Asia/Ho_Chi_Minh"
    assert weekly.expression == "0 11 * * 5"  # Friday, an hour after the 10:00 deadline


def test_airflow_does_not_import_our_package_as_plugins() -> None:
    """Airflow imports each .py under the plugins folder as a top-level module named after the
    file (`text`, `settings`, `__main__` …); plugins/.airflowignore keeps our package out."""
    probe = (
        "import json, sys\n"
        "from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory\n"
        f"plugins, errors = _load_plugins_from_plugin_directory({str(DAGS_DIR.parent / 'plugins')!r})\n"
        "print(json.dumps({'errors': errors, 'bare': [m for m in ('text', 'settings', 'reference', 'contract') if m in sys.modules]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"errors": {}, "bare": []}
