"""The one place the package reads Airflow: variables and connections into plain Settings.

docs/contracts.md#1-configuration: every setting is optional; without any, the pipeline runs on the embedded
default (SQLite under var/work, inbox under var/inbox).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL

from chuyencan.core.settings import Settings

WAREHOUSE_CONN_ID = "chuyencan_warehouse"
SMTP_CONN_ID = "smtp_default"


def _variable(name: str) -> str | None:
    from airflow.sdk import Variable

    value = Variable.get(name, default=None)
    return None if value is None else str(value)


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


def engineer_addresses() -> tuple[str, ...]:
    """The data engineers (`AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL`), told when a run fails."""
    return settings_from_airflow().engineer_emails


def _server_variable(name: str) -> str | None:
    from airflow.models.variable import Variable

    value = Variable.get(name, default_var=None)
    return None if value is None else str(value)


def _server_warehouse_connection() -> object | None:
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        return Connection.get_connection_from_secrets(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return None


def settings_for_api_server() -> Settings:
    """The same settings read from inside the api-server (the chuyencan UI page), where the
    Task SDK's Variable and Connection have no supervisor to ask: Airflow's own models read
    the environment, the secrets backends and the metadata database."""
    return settings_from_airflow(variable=_server_variable, connection=_server_warehouse_connection)


def settings_from_airflow(
    variable: Callable[[str], str | None] = _variable,
    connection: Callable[[], object | None] = _warehouse_connection,
) -> Settings:
    return Settings.from_variables(variable, lambda work_dir: warehouse_url(connection(), work_dir))
