"""The Airflow glue: the adapter from Airflow variables and connections to `Settings`, the task
wrappers, the timetables, the assets, the DAG defaults, SMTP sending, and what operators see:
task logging, run notes, the failure notifier and the chuyencan page of the Airflow UI.

The only part of the package that imports Airflow (pyproject.toml [tool.importlinter]).
"""
