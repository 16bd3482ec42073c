"""Helpers the test modules share, written once: local times, a DAG as the scheduler parses it,
pointing Airflow at a test's folders, warehouse and mail server, and reading back what a run
left (warehouse rows, emails, folders)."""

from __future__ import annotations

import email
import email.message
import email.policy
import hashlib
import html
import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chuyencan.core.runs import engine_for
from chuyencan.core.settings import TIMEZONE, Settings

DAGS = Path(__file__).resolve().parents[1] / "dags"
# Set by conftest before each test: whether it carries the `airflow` marker.
airflow_allowed = True
# `make test-fast` sets this: property-based tests try fewer examples there.
FAST = os.environ.get("CHUYENCAN_FAST_TESTS") == "1"

# The fortnight_summary figure columns in the report's order: about schools, then about children.
SCHOOL_COLUMNS = (
    "schools_expected",
    "submissions_on_time",
    "submissions_late",
    "submissions_missing",
    "submissions_rejected",
    "enrolled",
)
CHILD_COLUMNS = (
    "dropouts_open",
    "dropouts_new",
    "dropouts_summer",
    "dropouts_hk1",
    "dropouts_hk2",
    "dropouts_after_tet",
    "left_locality",
    "in_locality",
    "unverified",
    "eligible_to_continue",
    "not_eligible",
    "returned",
    "at_risk",
)
SUMMARY_COLUMNS = (*SCHOOL_COLUMNS, "attendance_rate", *CHILD_COLUMNS)


def examples(n: int) -> int:
    """How many examples a property-based test tries: `n` in the full suite, a fifth of it (at
    least 5) in the fast lane, so that every property is still exercised there."""
    return max(5, n // 5) if FAST else n


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """`hour:minute` on `day` in the pipeline's time zone."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TIMEZONE)


# --- Airflow -----------------------------------------------------------------------------------


def load_dag(dag_id: str) -> Any:
    """The DAG from its own file, dags/<dag_id>.py, parsed as the dag-processor would."""
    if not airflow_allowed:
        raise RuntimeError("this test loads a DAG but is not marked `airflow`: add @pytest.mark.airflow")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / f"{dag_id}.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag(dag_id)
    assert dag is not None
    return dag


def sample_settings(sample: Any, base: Path, **extra: Any) -> Settings:
    """Settings reading a generated sample's inboxes and reference, a SQLite warehouse under
    `base`/work and the district's address; `extra` adds or overrides fields."""
    fields: dict[str, Any] = {
        "inbox": sample.inbox,
        "police_inbox": sample.police_inbox,
        "work_dir": base / "work",
        "warehouse_url": f"sqlite:///{base / 'work' / 'warehouse.db'}",
        "reference_dir": sample.reference_dir,
        "district_emails": ("pgd.batxat@example.org",),
        "settle_seconds": 0,
    }
    return Settings(**(fields | extra))


def warehouse_conn(url: str) -> str:
    """The `chuyencan_warehouse` connection for a SQLAlchemy URL, in the forms the contract gives."""
    if url.startswith("sqlite:///"):
        return json.dumps({"conn_type": "sqlite", "host": url.removeprefix("sqlite:///")})
    return url.replace("postgresql+psycopg://", "postgresql://")


def smtp_conn(port: int, **extra: object) -> str:
    """The `smtp_default` connection to a server on loopback, without TLS."""
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True, **extra},
        }
    )


def configure_airflow(
    monkeypatch: pytest.MonkeyPatch, *, warehouse_url: str, smtp_port: int, **variables: str
) -> None:
    """Point the DAGs at a warehouse, a mail server and `chuyencan_<name>` variables
    (`inbox=...` sets AIRFLOW_VAR_CHUYENCAN_INBOX), as a deployment's environment would."""
    for name, value in variables.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_CHUYENCAN_{name.upper()}", value)
    monkeypatch.setenv("AIRFLOW_CONN_CHUYENCAN_WAREHOUSE", warehouse_conn(warehouse_url))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_conn(smtp_port))
    engine_for.cache_clear()


# --- what a run left ---------------------------------------------------------------------------


def query(url: str, sql: str, **params: Any) -> list[Any]:
    with engine_for(url).connect() as conn:
        return list(conn.execute(text(sql), params))


def snapshot(url: str, tables: Mapping[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table (name -> ORDER BY columns), to compare two runs."""
    with engine_for(url).connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY {o}"))]
            for t, o in tables.items()
        }


def received(sink: Any) -> list[email.message.EmailMessage]:
    """The emails an SMTP sink received, in arrival order."""
    # The sink's own order (1.eml, 2.eml, … 10.eml): sorting names would put 10 before 2.
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sink.paths()]


def body(message: email.message.EmailMessage, prefer: Sequence[str] = ("html", "plain")) -> str:
    """The email as a reader sees it: tags dropped, entities decoded."""
    part = message.get_body(preferencelist=tuple(prefer))
    assert part is not None
    content = part.get_content()
    return (
        html.unescape(re.sub(r"<[^>]+>", " ", content)) if part.get_content_subtype() == "html" else content
    )


def digest_tree(folder: Path) -> dict[str, tuple[str, int]]:
    """Content hash and modification time of every entry below `folder`, links not followed
    (a link's target instead), sparse giants by size: equal means untouched."""
    out: dict[str, tuple[str, int]] = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        if p.is_symlink():
            out[str(p.relative_to(folder))] = (f"link:{os.readlink(p)}", st.st_mtime_ns)
        elif p.is_file():
            if st.st_size > 64 * 1024 * 1024:
                out[str(p.relative_to(folder))] = (f"size:{st.st_size}", st.st_mtime_ns)
                continue
            digest = hashlib.sha256()
            with p.open("rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(chunk)
            out[str(p.relative_to(folder))] = (digest.hexdigest(), st.st_mtime_ns)
    return out
