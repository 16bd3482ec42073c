"""The one place the package reads Airflow: variables and connections into plain Settings.

docs/contracts.md#1-configuration: every setting is optional; without any, the pipeline runs on the embedded
default (SQLite under var/work, inbox under var/inbox).
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

from sqlalchemy.engine import URL

from chuyencan.core.reference import REFERENCE_DIR
from chuyencan.core.settings import DEFAULT_DATA_DIR, Settings

WAREHOUSE_CONN_ID = "chuyencan_warehouse"
SMTP_CONN_ID = "smtp_default"


def _variable(name: str, default: str) -> str:
    from airflow.sdk import Variable

    value = Variable.get(name, default=default)
    return str(value).strip() if value is not None else default


def _addresses(value: str) -> tuple[str, ...]:
    return tuple(e.strip() for e in value.split(",") if e.strip())


def warehouse_url(conn: object | None, work_dir: Path) -> str:
    """A SQLAlchemy URL from the `chuyencan_warehouse` connection (URI or JSON form)."""
    if conn is None:
        return f"sqlite:///{work_dir / 'warehouse.db'}"
    conn_type = (getattr(conn, "conn_type", None) or "").lower()
    if conn_type == "sqlite":
        host = getattr(conn, "host", None) or str(work_dir / "warehouse.db")
        return f"sqlite:///{host}"
    if conn_type in ("postgres", "postgresql"):
        extra = getattr(conn, "extra_dejson", {}) or {}
        query = {k: str(v) for k, v in extra.items() if k in ("sslmode", "options", "application_name")}
        return URL.create(
            "postgresql+psycopg",
            username=getattr(conn, "login", None) or None,
            password=getattr(conn, "password", None) or None,
            host=getattr(conn, "host", None) or "127.0.0.1",
            port=getattr(conn, "port", None) or 5432,
            database=getattr(conn, "schema", None) or "chuyencan",
            query=query,
        ).render_as_string(hide_password=False)
    raise ValueError(
        f"connection {WAREHOUSE_CONN_ID!r} has type {conn_type!r}; use 'postgres' or 'sqlite' "
        "(docs/contracts.md#1-configuration)"
    )


def smtp_configured(conn_id: str = SMTP_CONN_ID) -> bool:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        Connection.get(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def _warehouse_connection() -> object | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return None


def settings_from_airflow() -> Settings:
    work_dir = Path(_variable("chuyencan_work_dir", str(DEFAULT_DATA_DIR / "work")))
    deadline = _variable("chuyencan_deadline", "10:00")
    emails = _variable("chuyencan_district_email", "")
    return Settings(
        inbox=Path(_variable("chuyencan_inbox", str(DEFAULT_DATA_DIR / "inbox"))),
        police_inbox=Path(_variable("chuyencan_police_inbox", str(DEFAULT_DATA_DIR / "police_inbox"))),
        work_dir=work_dir,
        warehouse_url=warehouse_url(_warehouse_connection(), work_dir),
        district_emails=_addresses(emails),
        engineer_emails=_addresses(_variable("chuyencan_engineer_email", "")),
        reference_dir=Path(_variable("chuyencan_reference_dir", str(REFERENCE_DIR))),
        deadline=time.fromisoformat(deadline),
        settle_seconds=int(_variable("chuyencan_settle_seconds", "60")),
        eligibility_max_sessions=int(_variable("chuyencan_eligibility_max_sessions", "45")),
        risk_chronic_absence_share=float(_variable("chuyencan_risk_chronic_absence_share", "0.10")),
        risk_rising_unexcused_weeks=int(_variable("chuyencan_risk_rising_unexcused_weeks", "3")),
        risk_approaching_sessions=int(_variable("chuyencan_risk_approaching_sessions", "35")),
        police_retention_days=int(_variable("chuyencan_police_retention_days", "90")),
    )


def describe(settings: Settings) -> str:
    """Settings for the task log, with any password in the warehouse URL hidden."""
    from sqlalchemy.engine import make_url

    public = {
        "inbox": str(settings.inbox),
        "work_dir": str(settings.work_dir),
        "warehouse": make_url(settings.warehouse_url).render_as_string(hide_password=True),
        "district_recipients": len(settings.district_emails),
        "deadline": settings.deadline.isoformat("minutes"),
    }
    return json.dumps(public)
