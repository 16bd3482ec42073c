"""What every flow shares: settings, the contract vocabulary, reference data, text helpers, the warehouse
and its schema, SQL, spreadsheet cells and styles, the GX suite runner, mail rendering and the outbox.

Imports no flow and no Airflow (pyproject.toml [tool.importlinter]).
"""
