"""Faults (issue 6): the warehouse going away mid-load, the mail server down, a task killed
mid-load, two runs overlapping. Each fault is real (a dropped TCP connection, SIGKILL, a
refused SMTP connection, two concurrent runs) and is made to happen at a known moment by
holding a real database lock (tests/faults.py); the pipeline's own code runs unchanged.

What "recovered" means everywhere: the warehouse ends exactly as a clean, undisturbed run of
the same inbox leaves it (`warehouse_facts`: every file, class row, student key, status row and
queued email, compared by content), and the inbox is untouched.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from chuyencan.core import warehouse as wh
from chuyencan.core.mail.outbox import count_unsent
from chuyencan.core.reference import load_reference
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.orchestration.smtp import airflow_smtp_sender
from chuyencan.submissions.pipeline import (
    close_week,
    collect_new_files,
    engine_for,
    prepare_warehouse,
    send_emails,
)
from chuyencan_dev.mail_sink import SmtpSink
from tests.databases import fresh_pg_database
from tests.faults import (
    SqliteReadGate,
    TableGate,
    TcpProxy,
    lock_waiters,
    other_sessions,
    spawn_collection,
    via_port,
    wait_until,
    warehouse_facts,
)
from tests.helpers import digest_tree, load_dag, local, smtp_conn
from tests.school_files import ClassRow, SchoolWeek, write_school_file

WEEK = date(2025, 3, 14)
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=TIMEZONE)  # Friday noon: after the 10:00 deadline
REF = load_reference()
STUDENT = {  # invented; compared only by pseudonymous key
    "personal_id": "010309001234",
    "full_name": "Giàng Thị Mỷ",
    "birth_date": date(2009, 4, 2),
    "sex": "Nữ",
    "grade": 9,
    "class_name": "9A",
    "commune": "A Mú Sung",
    "village": "Lũng Pô",
    "status": "Bỏ học",
    "first_day_missed": date(2025, 2, 10),
    "sessions_missed": 40,
    "reason": "Đi làm ăn xa",
}


# The week's inbox, in file-time order (the order a run stores them): an accepted file, two
# rejected ones (absences above sĩ số × số ngày học), then the first file with a student list
# (where the faults below strike), more accepted files, and that school's correction.
BATCH = [
    (
        "BX-ALU/bao cao.xlsx",
        "BX-ALU",
        [ClassRow(1, "1A", 25, 5, 0, 0), ClassRow(1, "1B", 24, 5, 2, 1)],
        False,
    ),
    ("BX-YTY/chuyen can.xlsx", "BX-YTY", [ClassRow(6, "6A", 35, 5, 100, 90)], False),
    ("BX-SMS/bao cao.xlsx", "BX-SMS", [ClassRow(7, "7A", 28, 5, 90, 90)], False),
    (
        "BX-AMS/tuan 14-3.xlsx",
        "BX-AMS",
        [ClassRow(6, "6A", 32, 5, 3, 2), ClassRow(9, "9A", 30, 5, 1, 4)],
        True,
    ),
    ("BX-NTH/tuan.xlsx", "BX-NTH", [ClassRow(2, "2A", 20, 5, 1, 0)], False),
    ("BX-NPU/tuan.xlsx", "BX-NPU", [ClassRow(3, "3A", 22, 5, 2, 2)], False),
    ("BX-DTH/tuan.xlsx", "BX-DTH", [ClassRow(8, "8A", 31, 5, 3, 1)], False),
    ("BX-THCS-QK/tuan.xlsx", "BX-THCS-QK", [ClassRow(7, "7B", 33, 5, 0, 2)], False),
    (
        "BX-AMS/tuan 14-3 (sua).xlsx",
        "BX-AMS",
        [ClassRow(6, "6A", 32, 5, 2, 2), ClassRow(9, "9A", 30, 5, 1, 3)],
        True,
    ),
]
# Files before the first student list: the faults strike the load after them.
BEFORE_FAULT = 3
REJECTED = 2
ACCEPTED = len(BATCH) - REJECTED


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch")
    for n, (path, school, classes, with_student) in enumerate(BATCH):
        students = [STUDENT] if with_student else []
        write_school_file(
            REF, SchoolWeek(school, WEEK, classes, students), folder / path, local(date(2025, 3, 13), 7 + n)
        )
    return folder


@pytest.fixture
def inbox(tmp_path: Path, batch: Path) -> Path:
    target = tmp_path / "inbox"
    shutil.copytree(batch, target)  # copy2: file times kept
    return target


def settings_for(inbox: Path, work: Path, url: str) -> Settings:
    return Settings(inbox=inbox, work_dir=work, warehouse_url=url, district_emails=("pgd@example.org",))


def weekly(settings: Settings) -> None:
    """The data part of a `school_submissions_weekly` run, as its tasks call it."""
    prepare_warehouse(settings)
    collect_new_files(settings, now=NOW)
    close_week(settings, WEEK, now=NOW)


def collection(settings: Settings) -> None:
    prepare_warehouse(settings)
    collect_new_files(settings, now=NOW)


_CLEAN: dict[tuple[str, str], dict[str, list[tuple[Any, ...]]]] = {}


def clean_facts(dialect: str, procedure: Callable[[Settings], None], batch: Path, tmp: Path) -> dict:
    """What an undisturbed run of `procedure` over the batch leaves in a fresh warehouse."""
    key = (dialect, procedure.__name__)
    if key not in _CLEAN:
        inbox = tmp / "clean-inbox"
        shutil.copytree(batch, inbox)
        if dialect == "sqlite":
            url = f"sqlite:///{tmp / 'clean' / 'warehouse.db'}"
            procedure(settings_for(inbox, tmp / "clean-work", url))
            _CLEAN[key] = warehouse_facts(engine_for(url))
            engine_for(url).dispose()
        else:
            with fresh_pg_database("chuyencan_fault") as url:
                procedure(settings_for(inbox, tmp / "clean-work", url))
                _CLEAN[key] = warehouse_facts(engine_for(url))
                engine_for(url).dispose()
        shutil.rmtree(inbox)
    return _CLEAN[key]


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM ops.submission")).scalar_one())


def in_thread(target: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # examined by the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def collide(url: str, tables: tuple[str, ...], runs: list[Callable[[], object]]) -> list[list[str]]:
    """Run `runs` at once, each held at every table of `tables` in turn until all are waiting
    there (or behind one another's advisory lock), then released together: they collide exactly
    where each rewrites that table. Returns each run's errors."""
    engine = wh.make_engine(url)
    gates = [TableGate(url, t) for t in tables]
    threads = [in_thread(run) for run in runs]
    try:
        for gate, table in zip(gates, tables, strict=True):
            wait_until(
                lambda t=table: (
                    lock_waiters(engine, on=t) == len(runs) or not all(th.is_alive() for th, _ in threads)
                ),
                f"every run held at {table}",
            )
            gate.release()
        for thread, _ in threads:
            thread.join(timeout=60)
    finally:
        for gate in gates:
            gate.release()
        engine.dispose()
    return [[repr(e) for e in errors] for _, errors in threads]


# --- 1. the warehouse goes away mid-load ------------------------------------------------------------


def test_warehouse_gone_mid_load_leaves_no_partial_file_and_the_retry_loads_everything_once(
    tmp_path: Path, inbox: Path, batch: Path, pg_url: str
) -> None:
    """PostgreSQL reached through a proxy. After three files are stored, the next one is
    caught half loaded (its submission and class rows written, the insert of its student list
    waiting on a lock) and every connection is reset; new ones are refused. The step raises
    (Airflow retries it: every task has retries with exponential backoff,
    tests/test_dag_hygiene.py); the files stored before stay, the half-loaded one leaves
    nothing. With the warehouse back, the retry ends where a clean run ends."""
    direct = wh.make_engine(pg_url)
    with TcpProxy() as proxy:
        url = via_port(pg_url, proxy.port)
        settings = settings_for(inbox, tmp_path / "work", url)
        prepare_warehouse(settings)
        before = digest_tree(inbox)

        gate = gate_next_load("postgresql", pg_url)  # the first file with a student list
        thread, errors = in_thread(lambda: collect_new_files(settings, now=NOW))
        try:
            wait_for_the_held_load(gate, direct)
            assert stored(direct) == BEFORE_FAULT
            proxy.cut()
            thread.join(timeout=60)
        finally:
            gate.release()
        assert not thread.is_alive()
        [error] = errors
        assert isinstance(error, DBAPIError), repr(error)  # the task fails, so Airflow retries it

        # The load that lost its connection is rolled back by the server once it notices.
        wait_until(lambda: other_sessions(direct) == 0, "the cut session to end")
        after_fault = warehouse_facts(direct)
        assert len(after_fault["submission"]) == BEFORE_FAULT
        loaded = {r[0] for r in after_fault["submission"]}
        for table in ("class", "student", "current", "issue"):
            assert {r[0] for r in after_fault[table]} <= loaded, table  # nothing of the lost file
        # report.attendance_weekly: only the schools whose file is in effect (school_code is column 2).
        assert {r[1] for r in after_fault["attendance_weekly"]} == {r[1] for r in after_fault["current"]}
        assert after_fault["submission_status"] == []  # the step stopped before the statuses
        assert digest_tree(inbox) == before

        proxy.restore()  # the warehouse is back; Airflow's retry runs the step again
        summary = collect_new_files(settings, now=NOW)
        engine_for(url).dispose()

    assert (summary["accepted"], summary["rejected"]) == (len(BATCH) - BEFORE_FAULT, 0)
    assert warehouse_facts(direct) == clean_facts("postgresql", collection, batch, tmp_path)
    assert digest_tree(inbox) == before
    archived = list((tmp_path / "work" / "archive").rglob("*.xlsx"))
    assert len(archived) == ACCEPTED  # a copy made before the cut is reused, not doubled
    direct.dispose()


# --- 3. the task is killed mid-load, then rerun ---------------------------------------------------


def gate_next_load(dialect: str, url: str) -> TableGate | SqliteReadGate:
    """Set before the run: its first load stops half-way and stays there.

    PostgreSQL: a table lock stops it at the insert of its student list (its submission and
    class rows written, uncommitted). SQLite: an open read transaction on the `ops` file lets it
    write its rows but not commit."""
    if dialect == "postgresql":
        return TableGate(url, "restricted.student_entry")
    main = wh.sqlite_path_from_url(url)
    assert main is not None
    gate = SqliteReadGate(wh.schema_file(main, "ops"))
    gate.hold_once("SELECT COUNT(*) FROM submission")
    return gate


def wait_for_the_held_load(gate: TableGate | SqliteReadGate, engine: Engine) -> None:
    if isinstance(gate, SqliteReadGate):
        wait_until(gate.journal.exists, "a load writing its rows", timeout=120)
    else:
        wait_until(
            lambda: lock_waiters(engine, on="restricted.student_entry") == 1,
            "a load waiting at its student list",
            timeout=120,
        )


def copy_files(batch: Path, inbox: Path, files: list[tuple[str, str, list[ClassRow], bool]]) -> None:
    for path, _, _, _ in files:
        (inbox / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(batch / path, inbox / path)


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_collection_killed_mid_load_and_rerun_ends_as_a_clean_run(
    dialect: str, tmp_path: Path, batch: Path, request: pytest.FixtureRequest
) -> None:
    """An earlier run stored the first three files; the other six arrive. The next collection
    runs in its own process, as on an Airflow worker, and gets SIGKILL (an OOM kill, a lost
    worker) while its first load is held half-way by a lock. Airflow then reruns the task:
    every file ends loaded or quarantined exactly once, nothing is lost or doubled, the inbox is
    untouched; the warehouse is the one a single clean run leaves."""
    url = (
        f"sqlite:///{tmp_path / 'warehouse' / 'warehouse.db'}"
        if dialect == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    inbox = tmp_path / "inbox"
    settings = settings_for(inbox, tmp_path / "work", url)
    prepare_warehouse(settings)
    copy_files(batch, inbox, BATCH[:BEFORE_FAULT])
    collect_new_files(settings, now=NOW)
    copy_files(batch, inbox, BATCH[BEFORE_FAULT:])
    engine = engine_for(url)
    before = digest_tree(inbox)

    gate = gate_next_load(dialect, url)
    child = spawn_collection(inbox, settings.work_dir, url, NOW.isoformat(), tmp_path / "child.log")
    try:
        wait_for_the_held_load(gate, engine)
        assert child.poll() is None, (tmp_path / "child.log").read_text()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if isinstance(gate, SqliteReadGate):
            # A journal left behind (hot): the process died inside a write transaction.
            assert gate.journal.exists(), "the kill did not land inside a transaction"
    finally:
        if child.poll() is None:
            child.kill()
        gate.release()
    if dialect == "postgresql":
        # The server notices the dead client once the lock is released, and rolls back.
        wait_until(lambda: other_sessions(engine) == 0, "the killed session to end")

    after_kill = warehouse_facts(engine)  # on SQLite, reading rolls the hot journals back
    assert len(after_kill["submission"]) == BEFORE_FAULT
    loaded = {r[0] for r in after_kill["submission"]}
    for table in ("class", "student", "current", "issue"):
        assert {r[0] for r in after_kill[table]} <= loaded, table

    summary = collect_new_files(settings, now=NOW)  # the rerun
    assert (summary["accepted"], summary["rejected"]) == (len(BATCH) - BEFORE_FAULT, 0)
    assert warehouse_facts(engine) == clean_facts(dialect, collection, batch, tmp_path)
    assert digest_tree(inbox) == before
    engine.dispose()


# --- 4. two runs overlap ------------------------------------------------------------------------


def test_two_overlapping_weekly_runs_on_postgresql_agree_with_one_run(
    tmp_path: Path, inbox: Path, batch: Path, pg_url: str
) -> None:
    """Two runs of the weekly procedure over the same inbox and warehouse at the same time (a
    manual `airflow dags test` while the scheduled run works; the intake DAG's 11:00 run beside
    the Friday 11:00 run, which share every task). Each has its own engine and connections.

    Made to collide where a race is possible: both are held at the reference reload, released
    together, then held at the status refresh of the week and released together. Both finish;
    each file is stored once; reports, statuses and the district's email are those of one run.
    (Scheduled runs of one DAG never overlap: every DAG has max_active_runs=1,
    tests/test_dag_hygiene.py.)"""
    runs = [settings_for(inbox, tmp_path / "work", f"{pg_url}?application_name=run_{n}") for n in "ab"]
    prepare_warehouse(runs[0])  # last week's warehouse: tables exist
    engine = wh.make_engine(pg_url)
    errors = collide(
        pg_url, ("ref.school", "report.submission_status"), [lambda s=s: weekly(s) for s in runs]
    )
    assert errors == [[], []]

    facts = warehouse_facts(engine)
    assert warehouse_facts(engine) == clean_facts("postgresql", weekly, batch, tmp_path)
    assert len({r[0] for r in facts["submission"]}) == len(BATCH)
    assert digest_tree(inbox) == digest_tree(batch)
    for s in runs:
        engine_for(s.warehouse_url).dispose()
    engine.dispose()


def test_two_overlapping_weekly_runs_on_sqlite_agree_with_one_run(
    tmp_path: Path, inbox: Path, batch: Path
) -> None:
    """The same on the embedded warehouse, each run with its own engine, started together.
    SQLite admits one writer at a time (BEGIN IMMEDIATE), so there is no moment to hold them
    at; the runs interleave as they will."""
    main = tmp_path / "warehouse" / "warehouse.db"
    # Two spellings of one file: two engines (engine_for caches by URL), one warehouse.
    runs = [
        settings_for(inbox, tmp_path / "work", f"sqlite:///{main}"),
        settings_for(inbox, tmp_path / "work", f"sqlite:///{main.parent}/./{main.name}"),
    ]
    start = threading.Barrier(2)
    threads = [in_thread(lambda s=s: (start.wait(), weekly(s))) for s in runs]
    for thread, _ in threads:
        thread.join(timeout=60)
    assert [[repr(e) for e in errors] for _, errors in threads] == [[], []]

    engine = engine_for(runs[0].warehouse_url)
    assert engine is not engine_for(runs[1].warehouse_url)
    assert warehouse_facts(engine) == clean_facts("sqlite", weekly, batch, tmp_path)
    assert digest_tree(inbox) == digest_tree(batch)
    for s in runs:
        engine_for(s.warehouse_url).dispose()


def test_two_overlapping_police_reconciliations_on_postgresql_agree_with_one(
    tmp_path: Path, pg_url: str
) -> None:
    """`police_reconciliation` (woken by new cases at any time) and the fortnightly report's
    refresh of the reconciliation can run together. Both are held where each rewrites its
    table (the matches, then the verdicts) and released together: both finish, every case
    has the verdict one run gives, and no cross-agency match is audited twice."""
    from chuyencan.core.schema import case_verdict, match_audit
    from chuyencan.police import pipeline as police
    from tests.test_police_intake import make_settings
    from tests.test_police_verdicts import AMS_STUDENTS, EXPECTED, key_of, write_scenario

    first = make_settings(tmp_path, pg_url)
    prepare_warehouse(first)
    write_scenario(first)
    assert collect_new_files(first, now=datetime(2025, 3, 14, 4, 0, tzinfo=UTC))["accepted"] == 2
    runs = [make_settings(tmp_path, f"{pg_url}?application_name=reconcile_{n}") for n in "ab"]
    engine = wh.make_engine(pg_url)
    tables = ("restricted.case_match", "restricted.case_verdict")
    assert collide(pg_url, tables, [lambda s=s: police.reconcile(s) for s in runs]) == [[], []]

    with engine.connect() as conn:
        verdicts = {r.student_key: r.verdict for r in conn.execute(case_verdict.select())}
        audited = [r.student_key for r in conn.execute(match_audit.select())]
    assert {label: verdicts[key_of(label)] for label in EXPECTED} == EXPECTED
    assert sorted(audited) == sorted(key_of(label) for label in AMS_STUDENTS)
    for s in (first, *runs):
        engine_for(s.warehouse_url).dispose()
    engine.dispose()


# --- 2. the mail server is down ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:  # bound, then released: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def intake_dag() -> Any:
    dag = load_dag("school_submissions_intake")
    # The DAG's retry policy as written (3 retries, exponential backoff), but without the
    # minutes between tries: dag.test() would sit them out in real time.
    dag.task_dict["send_emails"].retry_delay = timedelta(0)
    return dag


@pytest.mark.airflow
@pytest.mark.usefixtures("airflow_db")
def test_mail_server_down_emails_wait_in_the_outbox_and_each_arrives_once_when_it_is_back(
    tmp_path: Path,
    batch: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Decision: while the mail server cannot be reached, `send_emails` FAILS (after its
    retries with backoff), rather than succeeding with a warning. A rejected school must hear
    within minutes, so an outage has to be visible where operators look (a failed task and
    DAG run, failure alerts) and retried soon; the data work of the run is unaffected (the
    collection succeeded and is not redone). Bad input never fails a run; this is not input.

    Nothing is lost meanwhile: the emails stay in `ops.email_outbox`, a server that cannot be
    reached does not use up a message's attempts (an outage longer than the attempts limit
    gives up on nothing), and the task's log says how many emails wait and why. When the
    server is back, the next run sends each email exactly once."""
    inbox = tmp_path / "inbox"
    for path, _, _, _ in BATCH[1 : 1 + REJECTED]:  # the two rejected files: two schools to tell
        (inbox / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(batch / path, inbox / path)
    port = free_port()
    for key, value in {
        "AIRFLOW_VAR_CHUYENCAN_INBOX": str(inbox),
        "AIRFLOW_VAR_CHUYENCAN_WORK_DIR": str(tmp_path / "work"),
        "AIRFLOW_CONN_CHUYENCAN_WAREHOUSE": json.dumps(
            {"conn_type": "sqlite", "host": sqlite_url.removeprefix("sqlite:///")}
        ),
        "AIRFLOW_CONN_SMTP_DEFAULT": smtp_conn(port, timeout=5),
    }.items():
        monkeypatch.setenv(key, value)
    engine_for.cache_clear()
    dag = intake_dag()
    logical = datetime.now(UTC).replace(microsecond=0)

    down = dag.test(logical_date=logical)

    assert str(down.state) == "failed"
    states = {ti.task_id: (str(ti.state), ti.try_number) for ti in down.get_task_instances()}
    assert states["collect_new_files"] == ("success", 1)  # the files are in; only mail waits
    assert states["send_emails"] == ("failed", 1 + dag.task_dict["send_emails"].retries)
    log = capfd.readouterr().out  # the task's log, as `airflow dags test` prints it
    assert "2 emails could not be sent: the mail server cannot be reached (ConnectionRefusedError" in log
    assert "they stay queued in ops.email_outbox and are sent on the next try or run" in log
    engine = engine_for(sqlite_url)
    settings = Settings(inbox=inbox, work_dir=tmp_path / "work", warehouse_url=sqlite_url)

    # The outage lasts: more runs than any message has attempts (intake runs every 10 minutes).
    for _ in range(25):
        with pytest.raises(RuntimeError, match="2 emails could not be sent"):
            send_emails(settings, airflow_smtp_sender())
    assert count_unsent(engine) == (2, 0)  # waiting, none given up
    with engine.connect() as conn:
        outbox = conn.execute(text("SELECT attempts, last_error FROM ops.email_outbox")).all()
    assert [a for a, _ in outbox] == [0, 0]
    assert outbox[0].last_error.startswith("ConnectionRefusedError")

    with SmtpSink(tmp_path / "mail", port=port) as sink:  # the server is back
        up = dag.test(logical_date=logical + timedelta(minutes=10))
        again = send_emails(settings, airflow_smtp_sender())  # the next run finds nothing to send
        received = sink.messages()

    assert str(up.state) == "success"
    assert again == {"sent": 0, "failed": 0, "pending": 0}
    schools = [REF.schools[code].email for _, code, _, _ in BATCH[1 : 1 + REJECTED]]
    assert sorted(m["To"] for m in received) == sorted(schools)  # each exactly once
    assert count_unsent(engine) == (0, 0)
    engine.dispose()
