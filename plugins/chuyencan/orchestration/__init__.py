"""Everything that talks to Airflow besides the DAG files: task logging, run notes, the
failure notifier and the chuyencan page of the Airflow UI (more moves here with issue 14)."""
