"""Task logs that carry signal: other libraries speak only when something is wrong.

Great Expectations logs ~200 INFO lines per validation ("Skipping registering function …
because it is a closure", "Multiple declarations of metric …") and even sets one of its own
loggers to INFO on import, so a level on the parent logger is not enough: a filter on the
root handlers drops their records below WARNING whatever the child logger's level.
"""

from __future__ import annotations

import logging

THIRD_PARTY = (
    "great_expectations",
    "splink",
    "duckdb",
    "openpyxl",
    "python_calamine",
    "urllib3",
    "fsspec",
    "numexpr",
    "alembic",
)
# Airflow warns once per process that a connection field shorter than 5 characters is not
# masked; it names no value and asks nothing of the reader of a task log.
_QUIET_AIRFLOW = ("airflow.sdk._shared.secrets_masker", "airflow._shared.secrets_masker")


class _ThirdPartyBelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return not record.name.startswith(_QUIET_AIRFLOW) or record.levelno >= logging.ERROR
        return not record.name.startswith(THIRD_PARTY)


_FILTER = _ThirdPartyBelowWarning()


def quiet_third_party_loggers() -> None:
    """Third-party loggers at WARNING for the rest of this process (idempotent)."""
    for name in THIRD_PARTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _QUIET_AIRFLOW:
        logging.getLogger(name).setLevel(logging.ERROR)
    root = logging.getLogger()
    for handler in root.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    if _FILTER not in root.filters:
        root.addFilter(_FILTER)
