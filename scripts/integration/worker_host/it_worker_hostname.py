"""`[core] hostname_callable` of the integration run's Celery workers.

The workers run on one machine, so Airflow's default (the machine's FQDN) would give every task
instance the same `hostname`; in docker-compose each worker container has a hostname of its own.
Each native worker gets its own name in CHUYENCAN_IT_WORKER_HOSTNAME, and this module on its
PYTHONPATH (not a package of the project: only the workers import it).
"""

import os


def hostname() -> str:
    return os.environ["CHUYENCAN_IT_WORKER_HOSTNAME"]
