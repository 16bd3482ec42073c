"""docker-compose.yaml, the Dockerfile and .env.example describe the deployment that
`make integration` runs natively (scripts/integration/topology.py): same Airflow components and
executor, same Airflow version as requirements.txt, same connection ids and variables
(docs/contracts.md#1-configuration), the three shared folders, healthchecks, and every setting in
.env.example.

Docker cannot run here; the file is parsed with PyYAML (merge keys resolved) and compose's
variable interpolation is checked against .env.example. `docker compose config` runs too where
the compose client is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from scripts.integration import environment as native
from scripts.integration import topology

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_TEXT = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
INTERPOLATION = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution, enough for this file: what `docker compose config`
    would see with .env.example as the .env file."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        value = env.get(name)
        if kind.endswith("?") and not (value if kind == ":?" else value is not None):
            raise AssertionError(f"{name} is required by docker-compose.yaml: {rest}")
        if kind.endswith("-") and not (value if kind == ":-" else value is not None):
            return rest
        return value or ""

    return INTERPOLATION.sub(substitute, text)


COMPOSE = yaml.safe_load(interpolate(COMPOSE_TEXT, env_example()))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = {name: s for name, s in SERVICES.items() if name.startswith("airflow-")}
LONG_RUNNING = {name: s for name, s in SERVICES.items() if s.get("restart") != "no"}
# Compose reads these itself; they are not interpolated into the file.
COMPOSE_OWN = {"COMPOSE_PROFILES"}
# Set by the native run only: loopback ports and a short heartbeat timeout for the kill test.
NATIVE_ONLY = {
    "AIRFLOW__API__HOST",
    "AIRFLOW__API__PORT",
    "AIRFLOW__API__WORKERS",
    "AIRFLOW__CORE__DAGS_FOLDER",  # the image sets these in the Dockerfile
    "AIRFLOW__CORE__PLUGINS_FOLDER",
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT",
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
}


def command(service: dict) -> tuple[str, ...]:
    value = service["command"]
    return tuple(value.split() if isinstance(value, str) else value)


def env_of(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES[service]["environment"].items()}


def test_airflow_components_and_executor_are_the_integration_topology() -> None:
    long_running = {n for n in AIRFLOW_SERVICES if n in LONG_RUNNING}
    assert long_running == set(topology.AIRFLOW_COMPONENTS)
    for name, argv in topology.AIRFLOW_COMPONENTS.items():
        assert command(SERVICES[name]) == argv, name
        assert env_of(name)["AIRFLOW__CORE__EXECUTOR"] == topology.EXECUTOR == "CeleryExecutor"
    assert set(topology.SUPPORT_SERVICES) <= set(SERVICES)
    assert SERVICES["mailpit"]["image"].split(":")[0].endswith("axllent/mailpit")


def test_native_run_sets_what_the_containers_set() -> None:
    """The integration run's Airflow settings are the compose file's, except loopback details."""
    ws, ports = native.Workspace(ROOT / "var" / "never-created"), native.Ports()
    native_keys = {k for k in native.airflow_env(ws, ports) if k.startswith("AIRFLOW__")} - NATIVE_ONLY
    assert native_keys <= set(env_of("airflow-scheduler"))
    assert set(native.pipeline_env(ws, ports, "db")) <= set(env_of("airflow-worker"))


def test_airflow_version_is_the_pinned_one() -> None:
    pinned = topology.airflow_version_pinned()
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM apache/airflow:(\S+)-python(\d+\.\d+)\s*$", dockerfile, flags=re.MULTILINE)
    assert base is not None, "the Dockerfile builds on the official apache/airflow image"
    assert base.group(1) == pinned
    assert base.group(2) == "3.11"  # pyproject: requires-python >=3.11,<3.12
    assert "-r /opt/airflow/requirements.txt" in dockerfile
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in dockerfile  # pip may not replace the base's Airflow
    for folder in ("dags/", "plugins/", "include/"):
        assert f"COPY --chown=airflow:0 {folder} /opt/airflow/{folder}" in dockerfile
    allowed = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    for path in ("requirements.txt", "dags/", "plugins/", "include/", "deploy/"):
        assert f"!{path}" in allowed


def test_connections_point_at_the_services() -> None:
    env = env_of("airflow-worker")
    assert [k for k in env if k.startswith("AIRFLOW_CONN_")] == topology.connection_variables()
    warehouse = urlsplit(env["AIRFLOW_CONN_CHUYENCAN_WAREHOUSE"])
    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert warehouse.hostname == metadata.hostname == "postgres"
    assert warehouse.path.strip("/") != metadata.path.strip("/") == "airflow"  # separate databases
    assert warehouse.username == "chuyencan_writer"  # the role chuyencan.core.roles creates
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    assert "mailpit:1025" in env["AIRFLOW_CONN_SMTP_DEFAULT"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert "AIRFLOW__EMAIL__FROM_EMAIL" in env


def test_every_pipeline_variable_is_configured() -> None:
    env = env_of("airflow-worker")
    example = env_example()
    for name in topology.pipeline_variables():
        assert name in env, f"{name} is read by the pipeline but not set in docker-compose.yaml"
        if name not in topology.DATA_MOUNTS:
            assert name in example, f"{name} missing from .env.example"
    # Every name of docs/contracts.md#1-configuration is among them.
    for name in ("INBOX", "POLICE_INBOX", "WORK_DIR", "DISTRICT_EMAIL"):
        assert f"AIRFLOW_VAR_CHUYENCAN_{name}" in topology.pipeline_variables()


def test_shared_folders_are_mounted_where_the_variables_point() -> None:
    for name in topology.AIRFLOW_COMPONENTS:
        service = SERVICES[name]
        mounts = {
            v.split(":")[-2] if v.endswith((":ro", ":rw")) else v.split(":")[-1]: v
            for v in service["volumes"]
        }
        for variable, target in topology.DATA_MOUNTS.items():
            assert env_of(name)[variable] == target
            assert target in mounts, f"{name} does not mount {target}"
        assert mounts["/data/inbox"].endswith(":ro")
        assert mounts["/data/police_inbox"].endswith(":ro")
        assert not mounts["/data/work"].endswith(":ro")


def test_healthchecks_init_and_scaling() -> None:
    for name, service in LONG_RUNNING.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    init = SERVICES["airflow-init"]
    script = (ROOT / "deploy" / "airflow-init.sh").read_text(encoding="utf-8")
    assert "/opt/airflow/deploy/airflow-init.sh" in init["command"]
    assert "airflow db migrate" in script
    assert "python -m chuyencan.core.roles" in script
    for name in topology.AIRFLOW_COMPONENTS:
        assert SERVICES[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    worker = SERVICES["airflow-worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    # As many workers as the integration run starts (it checks mapped tasks spread over them).
    assert worker["deploy"]["replicas"] == topology.WORKERS >= 2


def test_env_example_covers_every_interpolated_setting() -> None:
    """Each ${NAME} in the compose file has a value in .env.example or a default; every
    required one (${NAME:?...}) is in .env.example; .env.example has nothing unused."""
    example = env_example()
    uses = [m.groups()[:2] for m in INTERPOLATION.finditer(COMPOSE_TEXT) if m.group(0) != "$$"]
    for name, kind in uses:
        if not kind or kind.endswith("?"):
            assert name in example, f"{name} is required by docker-compose.yaml but not in .env.example"
    used = {name for name, _ in uses}
    assert set(example) - used - COMPOSE_OWN == set()
    secrets = [k for k in example if k.endswith(("PASSWORD", "_KEY", "JWT_SECRET"))]
    assert secrets
    assert all(example[k] == "change-me" for k in secrets)


def compose_client() -> list[str] | None:
    """`docker compose` (v2 plugin) or `docker-compose` (v1), whichever parses files here: both
    check a file without a Docker engine."""
    plugin = ["docker", "compose", "version"]
    if shutil.which("docker") and subprocess.run(plugin, capture_output=True, check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    client = compose_client()
    if client is None:
        pytest.skip("no docker compose client installed")
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run(
        [*client, "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
