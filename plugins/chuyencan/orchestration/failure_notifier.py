"""Failures reach someone: every chuyencan DAG's `on_failure_callback`.

A DAG-level callback, so one email per failed run however many tasks went red (Airflow calls
it once, when the run's state becomes failed, with the task that failed last). It goes to the
data engineers (`AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL`) straight through the SMTP connection,
not the warehouse's outbox: the warehouse may be what failed, and the outbox is emptied by a
task of a run. The email names the DAG, the run, the task and links to the task's log in the
UI (`[api] base_url`); it carries no data, only identifiers.

The scheduler hands DAG callbacks to the dag-processor, which therefore needs the SMTP
connection and the engineers' variable too (they are environment settings in every deployment
here). `dag.test()` runs the callback in-process.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def notify_engineers_of_failure(context: dict[str, Any]) -> None:
    from airflow.configuration import conf

    from chuyencan.core.mail.outbox import OutgoingEmail
    from chuyencan.core.mail.render import render_email
    from chuyencan.orchestration.adapter import SMTP_CONN_ID, engineer_addresses, smtp_configured
    from chuyencan.orchestration.smtp import airflow_smtp_sender

    dag = context.get("dag")
    dag_run = context.get("dag_run")
    ti = context.get("ti")
    dag_id = getattr(dag, "dag_id", None) or getattr(dag_run, "dag_id", "?")
    run_id = context.get("run_id") or getattr(dag_run, "run_id", "?")
    task_id = getattr(ti, "task_id", None)
    base_url = conf.get("api", "base_url", fallback="http://localhost:8080/").rstrip("/")
    log_url = getattr(ti, "log_url", None) if ti is not None else None
    log_url = log_url or f"{base_url}/dags/{dag_id}/runs/{run_id}"
    recipients = list(engineer_addresses())
    if not recipients:
        log.warning(
            "run %s of %s failed; no engineers' address (chuyencan_engineer_email) to tell", run_id, dag_id
        )
        return
    if not smtp_configured(SMTP_CONN_ID):
        log.warning("run %s of %s failed; no SMTP connection to tell the engineers", run_id, dag_id)
        return
    logical_date = getattr(dag_run, "logical_date", None) or context.get("logical_date")
    rendered = render_email(
        "run_failed",
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        log_url=log_url,
        reason=context.get("reason"),
        logical_date=logical_date.isoformat() if logical_date else None,
    )
    airflow_smtp_sender(SMTP_CONN_ID)(
        OutgoingEmail(
            email_id=0,
            recipients=recipients,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=[],
            dedup_key=f"run_failed:{dag_id}:{run_id}",
        )
    )
    log.warning(
        "run %s of %s failed at %s: engineers told (%d recipients)", run_id, dag_id, task_id, len(recipients)
    )
