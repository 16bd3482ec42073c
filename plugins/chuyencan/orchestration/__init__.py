"""The Airflow glue: the adapter from Airflow variables and connections to `Settings`, the task
wrappers, the fortnightly timetable, the assets, the DAG defaults and SMTP sending.

The only part of the package that imports Airflow (pyproject.toml [tool.importlinter]).
"""
