# chuyencan's Airflow image: the official Airflow image, the project's pinned dependencies, and
# the DAGs, the package and the reference data baked in (a deploy is an image, not a mount).
#   docker compose build          (docker-compose.yaml builds and tags it)
# The base image's Airflow version must equal requirements.txt's apache-airflow pin
# (tests/test_deploy_compose.py checks it); the build fails if pip would change Airflow.
FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/airflow

# Dependencies first: they change less often than the code, so this layer is cached.
# requirements.txt is the full pinned set (pip freeze), installed without Airflow's constraints
# file; pinning apache-airflow to the base image's own version keeps pip from replacing it.
COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.txt \
 && pip check \
 && python -c "import airflow, os, sys; sys.exit(airflow.__version__ != os.environ['AIRFLOW_VERSION'])"

COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 include/ /opt/airflow/include/
COPY --chown=airflow:0 deploy/ /opt/airflow/deploy/
# devtools/ (sample generator, mail sink) stays out: it is for demos and tests, not production.

# `python -m chuyencan...` (init service, CLI) finds the package like Airflow's processes do.
ENV PYTHONPATH=/opt/airflow/plugins \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/airflow/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False

# Fail the build, not the first run, if a DAG does not import.
RUN python -c "from airflow.dag_processing.dagbag import DagBag; b = DagBag('/opt/airflow/dags'); assert not b.import_errors, b.import_errors; print(sorted(b.dag_ids))"
