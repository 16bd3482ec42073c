"""What the integration run sets up around Airflow: a workspace, loopback ports, PostgreSQL
databases and roles, the Redis broker, and the environment every component gets.

Airflow is configured through the environment only, as the docker-compose containers are:
`AIRFLOW__*` for Airflow itself, `AIRFLOW_CONN_*` / `AIRFLOW_VAR_*` for the pipeline
(docs/contracts.md#1-configuration).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from scripts.integration import topology
from scripts.integration.api import wait_for

ROOT = topology.ROOT
BIN = Path(sys.executable).parent
PG_HOST, PG_PORT, PG_ADMIN = "127.0.0.1", 5432, "postgres"
REDIS_PORT = 6379
REDIS_DB = 11  # a database of the shared Redis that nothing else here uses
PREFIX = "chuyencan_it"
DISTRICT = "pgd.batxat@example.org"
ENGINEERS = "data.engineers@example.org"


def pg_url(database: str, user: str = PG_ADMIN, driver: str = "postgresql+psycopg") -> str:
    return f"{driver}://{user}@{PG_HOST}:{PG_PORT}/{database}"


def free_port(preferred: int | None = None) -> int:
    for candidate in [*([preferred] if preferred else []), 0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")


@dataclass
class Ports:
    api: int = field(default_factory=lambda: free_port(18080))
    smtp: int = field(default_factory=free_port)
    scheduler_health: int = field(default_factory=free_port)
    worker_logs: int = field(default_factory=free_port)
    trigger_logs: int = field(default_factory=free_port)


@dataclass
class Workspace:
    root: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(6))
    db_airflow: str = f"{PREFIX}_airflow"
    db_a: str = f"{PREFIX}_warehouse"  # the undisturbed run
    db_b: str = f"{PREFIX}_warehouse_disturbed"  # the run whose worker is killed
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    # One set of secrets for every component, as one .env gives every container the same.
    secrets: dict[str, str] = field(
        default_factory=lambda: {
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        }
    )

    def __post_init__(self) -> None:
        from cryptography.fernet import Fernet

        self.secrets["AIRFLOW__CORE__FERNET_KEY"] = Fernet.generate_key().decode()

    airflow_home = property(lambda self: self.root / "airflow")
    logs = property(lambda self: self.root / "logs")
    sample = property(lambda self: self.root / "sample")
    inbox = property(lambda self: self.root / "sample" / "inbox")
    police_inbox = property(lambda self: self.root / "sample" / "police_inbox")
    work = property(lambda self: self.root / "work")
    mail = property(lambda self: self.root / "mail")

    def databases(self) -> tuple[str, str, str]:
        return (self.db_airflow, self.db_a, self.db_b)


def roles_for_run() -> Any:
    from chuyencan.core.roles import WarehouseRoles

    return WarehouseRoles(f"{PREFIX}_writer", f"{PREFIX}_district_reader", f"{PREFIX}_restricted_reader")


# --- PostgreSQL --------------------------------------------------------------------------------
def ensure_postgres() -> bool:
    """True if PostgreSQL had to be started (scripts/ensure_postgres.sh, as `make test` does)."""
    if not subprocess.run(["pg_isready", "-q", "-h", PG_HOST, "-p", str(PG_PORT)], check=False).returncode:
        return False
    subprocess.run([str(ROOT / "scripts" / "ensure_postgres.sh")], check=True, timeout=60)
    return True


def create_databases(ws: Workspace) -> None:
    """Fresh databases; the warehouses get the project's roles, the pipeline writes as the writer."""
    from chuyencan.core.roles import ensure_roles

    drop_databases(ws)
    admin = create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in ws.databases():
            conn.execute(text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    for db in (ws.db_a, ws.db_b):
        engine = create_engine(pg_url(db), hide_parameters=True)
        ensure_roles(engine, roles_for_run(), {"writer": secrets.token_hex(16)})
        engine.dispose()


def drop_databases(ws: Workspace) -> None:
    admin = create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in ws.databases():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        # Roles are cluster-wide; with their databases gone they hold nothing and can go.
        for _, role in roles_for_run().items():
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


# --- Redis -------------------------------------------------------------------------------------
def _redis() -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=REDIS_PORT, db=REDIS_DB, socket_timeout=5)


def _ping(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # not up yet
        return False


def ensure_redis(timeout: float) -> bool:
    """Redis on 127.0.0.1:6379 with this run's database empty. True if it had to be started
    (the run then shuts it down at the end)."""
    client = _redis()
    started = False
    if not _ping(client):
        for folder in ("/var/lib/redis", "/var/log/redis"):
            Path(folder).mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1"]
        command += ["--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"]
        command += ["--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]
        subprocess.run(command, check=True, timeout=30)
        wait_for("Redis", lambda: _ping(client), timeout=timeout, interval=0.5)
        started = True
    client.flushdb()
    return started


def release_redis(stop: bool) -> None:
    client = _redis()
    with contextlib.suppress(Exception):
        client.flushdb()
        if stop:
            client.shutdown(nosave=True)


# --- the components' environment ---------------------------------------------------------------
def airflow_env(ws: Workspace, ports: Ports) -> dict[str, str]:
    """Airflow's own configuration (docker-compose.yaml's x-airflow-common, on loopback)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
    meta = f"{PG_ADMIN}@{PG_HOST}:{PG_PORT}/{ws.db_airflow}"
    return {
        **base,
        **ws.secrets,
        "PYTHONPATH": str(ROOT / "plugins"),
        "AIRFLOW_HOME": str(ws.airflow_home),
        "AIRFLOW__CORE__EXECUTOR": topology.EXECUTOR,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{ports.api}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(ws.airflow_home / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{meta}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{meta}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(ports.api),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_ISSUER": "chuyencan-integration",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports.scheduler_health),
        # Only the runs this script triggers: no cron run of the real clock's day interleaves.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        # A dead worker's task is noticed after ~20 s instead of the default 5 minutes.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports.worker_logs),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports.trigger_logs),
        "AIRFLOW__EMAIL__FROM_EMAIL": "Phòng GD&ĐT Bát Xát <chuyencan@example.org>",
    }


def worker_env(hostname: str) -> dict[str, str]:
    """What differs between two Celery workers on one machine (in docker-compose, between two
    replicas of the worker container): the hostname task instances record, and the port of the
    worker's log server."""
    return {
        "PYTHONPATH": f"{ROOT / 'plugins'}:{ROOT / 'scripts' / 'integration' / 'worker_host'}",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "it_worker_hostname.hostname",
        "CHUYENCAN_IT_WORKER_HOSTNAME": hostname,
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
    }


def pipeline_env(ws: Workspace, ports: Ports, warehouse_db: str) -> dict[str, str]:
    """The pipeline's settings (docs/contracts.md#1-configuration), as the containers get them."""
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": ports.smtp,
        "extra": {"disable_ssl": True, "disable_tls": True},
    }
    return {
        "AIRFLOW_CONN_CHUYENCAN_WAREHOUSE": pg_url(
            warehouse_db, user=roles_for_run().writer, driver="postgresql"
        ),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
        "AIRFLOW_VAR_CHUYENCAN_INBOX": str(ws.inbox),
        "AIRFLOW_VAR_CHUYENCAN_POLICE_INBOX": str(ws.police_inbox),
        "AIRFLOW_VAR_CHUYENCAN_WORK_DIR": str(ws.work),
        "AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL": DISTRICT,
        "AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL": ENGINEERS,
    }


def write_admin_password(ws: Workspace) -> None:
    """The simple auth manager's password file, as the compose init service writes it."""
    path = ws.airflow_home / "passwords.json"
    path.write_text(json.dumps({"admin": ws.admin_password}) + "\n", encoding="utf-8")
    path.chmod(0o600)


def airflow(*args: str) -> list[str]:
    return [str(BIN / "airflow"), *args]
