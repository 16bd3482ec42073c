#!/usr/bin/env bash
# The airflow-init service (docker-compose.yaml): runs to completion before any other Airflow
# service starts, on every `docker compose up`. Everything here is idempotent.
#   1. Airflow's metadata database: created or upgraded (airflow db migrate);
#   2. the admin user of the simple auth manager: its password file, from the environment;
#   3. the warehouse roles and grants (python -m chuyencan.core.roles), passwords from the
#      environment, and the warehouse tables, owned by the writer role (Alembic `upgrade head`,
#      plugins/chuyencan/core/migrations; a warehouse from before Alembic is adopted at 0001);
#   4. ownership of the folders the containers write (work dir, logs, secrets).
# Runs as root for step 4 only; no password is printed.
set -euo pipefail

: "${AIRFLOW_UID:=50000}"
: "${AIRFLOW_ADMIN_USERNAME:=admin}"
: "${AIRFLOW_ADMIN_PASSWORD:?AIRFLOW_ADMIN_PASSWORD must be set (see .env.example)}"
: "${CHUYENCAN_WAREHOUSE_ADMIN_URL:?CHUYENCAN_WAREHOUSE_ADMIN_URL must be set}"

echo "Airflow $(airflow version)"

echo "1/4 migrating Airflow's metadata database"
airflow db migrate

echo "2/4 admin user '${AIRFLOW_ADMIN_USERNAME}' (simple auth manager password file)"
passwords_file="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?}"
mkdir -p "$(dirname "$passwords_file")"
python - "$passwords_file" <<'PY'
import json, os, sys
path = sys.argv[1]
users = {os.environ["AIRFLOW_ADMIN_USERNAME"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}
with open(path, "w", encoding="utf-8") as f:
    json.dump(users, f)
os.chmod(path, 0o600)
PY

echo "3/4 warehouse roles, grants and tables"
python -m chuyencan.core.roles --create-schema

echo "4/4 ownership of the work dir, logs and secrets"
for dir in /data/work /opt/airflow/logs "$(dirname "$passwords_file")"; do
  mkdir -p "$dir"
  chown -R "${AIRFLOW_UID}:0" "$dir"
done
echo "init done"
