#!/usr/bin/env bash
# Runs once, when the postgres container starts on an empty data volume
# (/docker-entrypoint-initdb.d): Airflow's metadata database with a role of its own, and the
# warehouse database. The warehouse roles and grants are not made here but by the airflow-init
# service on every start (python -m chuyencan.core.roles), so that a changed policy or a rotated
# password reaches an existing warehouse too.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD must be set}"
: "${CHUYENCAN_WAREHOUSE_DB:=chuyencan}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  --set=airflow_password="$AIRFLOW_DB_PASSWORD" --set=warehouse_db="$CHUYENCAN_WAREHOUSE_DB" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
CREATE DATABASE :"warehouse_db";
SQL
