"""The Airflow assets that start a police reconciliation between its weekly runs.

- `SCHOOL_CASES`: a school's accepted file changed some school's list of students (new cases).
  Emitted by `chuyencan.orchestration.police_tasks.announce_new_cases`, placed after the collection
  step of the school DAGs.
- `POLICE_EXTRACTS`: a new commune extract was accepted. Emitted by `announce_new_extracts`,
  placed after a police-inbox intake step.

Both announce tasks skip (and so emit nothing) when nothing new came, so a collection run every
ten minutes does not start a reconciliation every ten minutes. No AssetWatcher: the standard
file triggers delete the file they detect, and the inboxes belong to the schools and the police.
"""

from __future__ import annotations

from airflow.sdk import Asset

# Named, without a URI scheme: an Asset with a scheme makes Airflow load every provider's URI
# handlers (SQLAlchemy included) while the scheduler parses the DAG file.
SCHOOL_CASES = Asset(name="chuyencan_school_cases")
POLICE_EXTRACTS = Asset(name="chuyencan_police_extracts")
