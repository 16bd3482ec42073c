"""The deployment's topology, written once: the integration run starts it natively and
tests/test_deploy_compose.py checks that docker-compose.yaml describes the same thing.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# docker-compose service -> the airflow command it runs (what `make integration` starts natively).
AIRFLOW_COMPONENTS: dict[str, tuple[str, ...]] = {
    "airflow-apiserver": ("api-server",),
    "airflow-scheduler": ("scheduler",),
    "airflow-dag-processor": ("dag-processor",),
    "airflow-triggerer": ("triggerer",),
    "airflow-worker": ("celery", "worker"),
}
EXECUTOR = "CeleryExecutor"
# Celery workers the integration run starts (docker-compose.yaml: the worker's deploy.replicas),
# so that mapped tasks are seen spreading over more than one.
WORKERS = 2
# Supporting services: compose runs them as containers; natively they are the machine's own
# PostgreSQL (metadata and warehouse in separate databases), Redis, and a local SMTP sink.
SUPPORT_SERVICES = ("postgres", "redis", "mailpit")

# The pipeline's DAGs in the order the integration run triggers them. A DAG whose file is not in
# dags/ yet is skipped; once it lands, it is triggered and checked without further changes here.
DAG_IDS = (
    "school_submissions_intake",
    "school_submissions_weekly",
    "police_extract_intake",
    "police_reconciliation",
    "fortnightly_report",
    "fortnightly_report_deadline",
)

# Where the containers see the shared folders (docs/contracts.md#1-configuration variables point here).
DATA_MOUNTS = {
    "AIRFLOW_VAR_CHUYENCAN_INBOX": "/data/inbox",
    "AIRFLOW_VAR_CHUYENCAN_POLICE_INBOX": "/data/police_inbox",
    "AIRFLOW_VAR_CHUYENCAN_WORK_DIR": "/data/work",
    # The recipients' folders (docs/delivery.md): the share's admin owns their groups.
    "AIRFLOW_VAR_CHUYENCAN_DELIVERY_DIR": "/data/share",
}


def airflow_version_pinned() -> str:
    """apache-airflow's version in requirements.txt (the image and the venv install it)."""
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    found = re.search(r"^apache-airflow==([\w.]+)\s*$", text, flags=re.MULTILINE)
    if not found:
        raise ValueError("requirements.txt does not pin apache-airflow")
    return found.group(1)


def pipeline_variables() -> list[str]:
    """Every Airflow variable the pipeline reads (docs/contracts.md#1-configuration), as
    environment names: the settings module lists them all."""
    from chuyencan.core.settings import VARIABLES

    return sorted(f"AIRFLOW_VAR_{name.upper()}" for name in VARIABLES)


def connection_variables() -> list[str]:
    from chuyencan.orchestration.adapter import SMTP_CONN_ID, WAREHOUSE_CONN_ID

    return [f"AIRFLOW_CONN_{c.upper()}" for c in (WAREHOUSE_CONN_ID, SMTP_CONN_ID)]


def landed_dags() -> list[str]:
    """The DAG ids of DAG_IDS that have a file in dags/ (declared as dag_id="...")."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "dags").glob("*.py")))
    return [d for d in DAG_IDS if re.search(rf"""dag_id\s*=\s*["']{d}["']""", sources)]
