"""Scheduler-side half of the run notes (see `run_notes`): when a chuyencan run ends, the lines
its tasks pushed become the run's note.

Runs inside the scheduler (and inside `dag.test()`), in the session that is changing the run's
state, so the note is committed with the state: no second connection, which on SQLite would
wait for the scheduler's own write lock.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.listeners import hookimpl

from chuyencan.orchestration.run_notes import NOTE_KEYS, TIERS, compose_note

log = logging.getLogger(__name__)


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    _write_note(dag_run, failed=False)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    _write_note(dag_run, failed=True)


def _write_note(dag_run: Any, *, failed: bool) -> None:
    try:
        from airflow import settings
        from airflow.models.dagrun import DagRunNote
        from airflow.models.xcom import XComModel
        from sqlalchemy import select
        from sqlalchemy.orm import object_session

        # The session changing the run's state: the scheduler's (and dag.test()'s) come from
        # Airflow's thread-local `settings.Session`, which is also where a detached run's is.
        session = object_session(dag_run)
        if session is None and settings.Session is not None:
            session = settings.Session()
        if session is None:
            return
        rows = session.execute(
            select(XComModel.key, XComModel.value)
            .where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.key.in_(list(NOTE_KEYS.values())),
            )
            .order_by(XComModel.timestamp)
        ).all()
        if not rows and not failed:
            return
        rank = {NOTE_KEYS[tier]: n for n, tier in enumerate(TIERS)}
        ordered = sorted(rows, key=lambda row: rank[row.key])  # stable: time order within a tier
        lines = [str(XComModel.deserialize_value(row)) for row in ordered]
        note = session.get(DagRunNote, dag_run.id)
        if note is not None and note.user_id is not None:
            return  # a person wrote this note
        content = compose_note(lines, failed=failed)
        if note is None:
            note = DagRunNote(content=content)
            note.dag_run_id = dag_run.id
            session.add(note)
        else:
            note.content = content
        session.flush()
    except Exception:  # a note must never break the scheduler loop
        log.exception("could not write the run note of %s", getattr(dag_run, "run_id", "?"))
