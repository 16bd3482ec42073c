"""Fault injection for tests/test_faults.py: real faults, made to happen at a known moment.

- `TcpProxy`: a loopback TCP forwarder in front of PostgreSQL that can drop every connection
  at once and refuse new ones (the warehouse "going away" as the pipeline sees it), then come
  back on the same port.
- `TableGate`: another session holding a table lock, so that a load stops at a known statement
  of its transaction; the fault is injected while it waits there.
- `SqliteReadGate`: an open read transaction on one SQLite file; a writer can do all its work
  but cannot commit until the gate opens (SQLite's own locking: a SHARED lock blocks EXCLUSIVE).
- `spawn_collection`: the collection step in a separate interpreter, to be SIGKILLed.
- `warehouse_facts`: what a run leaves in the warehouse, without surrogate ids, machine paths or
  wall-clock times, so a disturbed run can be compared with a clean one.
"""

from __future__ import annotations

import os
import selectors
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll until `condition()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- PostgreSQL ----------------------------------------------------------------------------------


def via_port(url: str, port: int) -> str:
    """The same PostgreSQL database reached through another port (the proxy)."""
    return make_url(url).set(port=port).render_as_string(hide_password=False)


class TcpProxy:
    """Forward 127.0.0.1:<port> to the PostgreSQL server, until `cut()`.

    `cut()` resets every open connection (both directions) and stops listening, so the
    pipeline's next read fails and new connections are refused; `restore()` listens again on
    the same port.
    """

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.port = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            # shutdown() first: closing a socket another thread is reading from would not end
            # the connection on Linux. Then linger 0: a reset, as from a dropped network link.
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(listener, selectors.EVENT_READ)
            while not stop.is_set():
                if not sel.select(timeout=0.05):
                    continue
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target)
                with self._lock:
                    self._sockets += [client, upstream]
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            return
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class TableGate:
    """Hold `LOCK TABLE <table> IN EXCLUSIVE MODE` from another session until `release()`.

    EXCLUSIVE lets readers through and stops writers: a load that writes the table waits at
    that statement, with everything it wrote before still uncommitted.
    """

    def __init__(self, url: str, *tables: str) -> None:
        self._engine = create_engine(url, poolclass=NullPool)
        self._conn: Connection | None = self._engine.connect()
        for table in tables:
            self._conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))

    def release(self) -> None:
        if self._conn is not None:
            self._conn.commit()
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def lock_waiters(engine: Engine, *, on: str | None = None) -> int:
    """Sessions of this database waiting for a lock (on relation `on`, or on an advisory lock
    when `on` is given; on anything otherwise)."""
    query = (
        "SELECT COUNT(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()"
    )
    params: dict[str, Any] = {}
    if on is not None:
        query += " AND (l.relation = CAST(:rel AS regclass) OR l.locktype = 'advisory')"
        params["rel"] = on
    with engine.connect() as conn:
        return int(conn.execute(text(query), params).scalar_one())


def other_sessions(engine: Engine) -> int:
    """Sessions on this database other than the asking one (client backends only)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            ).scalar_one()
        )


# --- SQLite -------------------------------------------------------------------------------------


class SqliteReadGate:
    """An open read transaction on one SQLite file (the warehouse's `ops` schema file).

    A writer still gets its RESERVED lock and writes its rows into its journal, but COMMIT needs
    an EXCLUSIVE lock, which waits while this SHARED lock is held: the writer is stuck mid-load.
    """

    def __init__(self, db_file: Path) -> None:
        self.db_file = db_file
        self._conn = sqlite3.connect(db_file, isolation_level=None, timeout=30)
        self.holding = False

    def hold_once(self, count_sql: str) -> int:
        """Open the read transaction and count what is committed now."""
        self._conn.execute("BEGIN")
        self.holding = True
        return int(self._conn.execute(count_sql).fetchone()[0])

    def end_read(self) -> None:
        if self.holding:
            self._conn.execute("COMMIT")
            self.holding = False

    def release(self) -> None:
        self.end_read()
        self._conn.close()

    @property
    def journal(self) -> Path:
        return self.db_file.with_name(self.db_file.name + "-journal")


# --- processes ----------------------------------------------------------------------------------

_COLLECT = """
import sys
from datetime import datetime
from pathlib import Path
from chuyencan.submissions.pipeline import collect_new_files
from chuyencan.core.settings import Settings
inbox, work, url, now = sys.argv[1:5]
collect_new_files(Settings(inbox=Path(inbox), work_dir=Path(work), warehouse_url=url),
                  now=datetime.fromisoformat(now))
"""


def spawn_collection(inbox: Path, work_dir: Path, url: str, now: str, log: Path) -> subprocess.Popen[bytes]:
    """`collect_new_files` in its own interpreter, as an Airflow worker would run it; its output
    goes to `log` (a file, not a pipe nobody reads, which could fill and stall it)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", _COLLECT, str(inbox), str(work_dir), url, now],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT / "plugins")},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


# --- what a run leaves behind -------------------------------------------------------------------

# Content, not surrogate keys: a submission is known by its file's hash. Student rows are
# compared by pseudonymous key, so a failing comparison prints no child's name.
FACT_QUERIES = {
    "submission": "SELECT sha256, inbox_path, file_size, received_at, processed_at, school_code, "
    "week_ending, outcome, version, error_count, warning_count, summary FROM ops.submission",
    "issue": "SELECT s.sha256, i.severity, i.sheet, i.row, i.column_key, i.rule, i.class_name "
    "FROM ops.submission_issue i JOIN ops.submission s ON s.submission_id = i.submission_id",
    "current": "SELECT s.sha256, c.school_code, c.week_ending FROM ops.current_submission c "
    "JOIN ops.submission s ON s.submission_id = c.submission_id",
    "class": "SELECT s.sha256, a.school_code, a.week_ending, a.grade, a.class_name, a.enrolled, "
    "a.school_days, a.absent_excused, a.absent_unexcused, a.source_row FROM ops.class_attendance a "
    "JOIN ops.submission s ON s.submission_id = a.submission_id",
    "student": "SELECT s.sha256, e.student_key, e.status, e.grade, e.source_row "
    "FROM restricted.student_entry e JOIN ops.submission s ON s.submission_id = e.submission_id",
    "attendance_weekly": "SELECT * FROM report.attendance_weekly",
    "submission_status": "SELECT * FROM report.submission_status",
    "outbox": "SELECT dedup_key, kind, recipients, subject, sent_at IS NOT NULL, attempts "
    "FROM ops.email_outbox",
}


def warehouse_facts(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            name: sorted((tuple(r) for r in conn.execute(text(sql))), key=repr)
            for name, sql in FACT_QUERIES.items()
        }
