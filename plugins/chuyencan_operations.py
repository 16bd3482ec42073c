"""Airflow plugin: what operators see of chuyencan beyond the DAGs themselves.

- the chuyencan page (`/chuyencan`, a FastAPI app under the api-server) with its navigation
  entry "Chuyên cần" in the UI;
- the run-note listener: each run's outcome line ("12/14 on time · missing BX-THPT2 …") becomes
  the run's note when it ends.

Sits directly in the plugins folder because `plugins/.airflowignore` keeps the `chuyencan`
package out of Airflow's plugin scan.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from chuyencan.orchestration import run_note_listener
from chuyencan.orchestration.ui_app import URL_PREFIX, app


class ChuyencanOperations(AirflowPlugin):
    name = "chuyencan_operations"
    listeners = [run_note_listener]  # noqa: RUF012 - Airflow reads plain class attributes
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "chuyencan"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {
            "name": "Chuyên cần",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "chuyencan",
        }
    ]
