"""SQL kept as files under include/sql, and the one rule for timestamps read back from the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from chuyencan.core.reference import INCLUDE_DIR

SQL_DIR = INCLUDE_DIR / "sql"


@cache
def sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
