"""DAG hygiene, in the spirit of Airflow's tests of its own example DAGs: every DAG imports
without errors, parses cheaply (no pandas, GX or workbook libraries at module level), touches
no database, network or Airflow variable while being parsed, and tells its operators what it
does (doc, owner, tags) and how it behaves (retries with backoff, no overlapping runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chuyencan.core.settings import DEADLINE, REPORT_DEADLINE, REPORT_TIME, weekly_run_time
from chuyencan.orchestration.dag_defaults import weekly_cron
from chuyencan.orchestration.fortnight import FORTNIGHT_STEPS, UNITS_STEP, upstream

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
            # Task → Details in the UI says what the step does; no task can hang a run.
            assert len(task.doc_md or "") > 40, (dag_id, task.task_id)
            assert task.execution_timeout is not None, (dag_id, task.task_id)
            if dag.dagrun_timeout:
                assert task.execution_timeout <= dag.dagrun_timeout, (dag_id, task.task_id)
        assert len(dag.description or "") > 30, dag_id
        assert dag.on_failure_callback is not None, dag_id


def test_manual_and_backfill_run_ids_name_the_week(dagbag) -> None:
    from airflow._shared.timezones.timezone import coerce_datetime
    from airflow.timetables.base import DataInterval
    from airflow.utils.types import DagRunType

    # Triggered on Saturday 5 Dec 2026 09:00 Vietnam time for the logical date Friday 3 April 2025.
    logical = coerce_datetime(datetime(2025, 4, 3, 20, 0, tzinfo=UTC))  # Fri 4 Apr 03:00 local
    now = coerce_datetime(datetime(2026, 12, 5, 2, 0, tzinfo=UTC))

    def timetable(dag_id: str):  # as the scheduler and the api-server see it: rebuilt from the serialised DAG
        from airflow.serialization.serialized_objects import DagSerialization

        dag = dagbag.get_dag(dag_id)
        return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).timetable

    ids = {
        dag_id: timetable(dag_id).generate_run_id(
            run_type=run_type, run_after=now, data_interval=DataInterval.exact(logical)
        )
        for dag_id, run_type in (
            ("school_submissions_weekly", DagRunType.MANUAL),
            ("police_reconciliation", DagRunType.BACKFILL_JOB),
            ("fortnightly_report", DagRunType.MANUAL),
        )
    }
    assert ids["school_submissions_weekly"].startswith("manual__week-2025-04-04__")
    assert ids["police_reconciliation"].startswith("backfill__week-2025-04-04__")
    assert ids["fortnightly_report"].startswith("manual__report-2025-04-04__")
    scheduled = timetable("school_submissions_weekly").generate_run_id(
        run_type=DagRunType.SCHEDULED, run_after=logical, data_interval=DataInterval.exact(logical)
    )
    assert scheduled.startswith("scheduled__2025-04-03T20:00:00")  # Airflow's own form, unchanged
    weekly = dagbag.get_dag("school_submissions_weekly")
    assert "week" in weekly.params


def test_schedules_are_in_vietnam_time(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        if hasattr(dag.timetable, "timezone"):
            assert str(dag.timetable.timezone) == "Asia/Ho_Chi_Minh", dag_id
    weekly = dagbag.get_dag("school_submissions_weekly").timetable
    assert str(weekly.timezone) == "Asia/Ho_Chi_Minh"
    assert weekly.expression == "0 11 * * 5"  # Friday, an hour after the 10:00 deadline
    assert weekly.expression == weekly_cron()
    assert weekly_run_time() > DEADLINE  # docs/contracts.md#2-dags: after the deadline


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


def test_report_dags_run_at_the_report_times_in_settings(dagbag) -> None:
    assert dagbag.get_dag("fortnightly_report").timetable.at == REPORT_TIME
    assert dagbag.get_dag("fortnightly_report_deadline").timetable.at == REPORT_DEADLINE
    assert REPORT_DEADLINE > REPORT_TIME


def test_the_report_dag_is_the_fortnightly_sequence(dagbag) -> None:
    """One task per step, each waiting for exactly the steps the sequence says, and the
    sequence's order is one the DAG allows: running the list in order is running the DAG.
    A per-unit step is a task mapped over the units `list_reporting_units` returns (it waits
    for that step too); the others are not mapped."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    dag = dagbag.get_dag("fortnightly_report")
    names = [step.name for step in FORTNIGHT_STEPS]
    assert sorted(dag.task_ids) == sorted(names)
    assert {step.name for step in FORTNIGHT_STEPS if step.per_unit} == {
        "publish_fortnight_summary",
        "write_excel_report",
        "email_district_report",
    }
    for position, step in enumerate(FORTNIGHT_STEPS):
        task = dag.get_task(step.name)
        mapped_over = {UNITS_STEP} if step.per_unit else set()
        assert task.upstream_task_ids == set(upstream(step)) | set(step.needs) | mapped_over, step.name
        assert all(names.index(name) < position for name in upstream(step) + step.needs), step.name
        assert isinstance(task, MappedOperator) == step.per_unit, step.name
