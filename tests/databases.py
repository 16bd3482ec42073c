"""Fresh PostgreSQL databases for tests: one per test (conftest's `pg_url`), per module, or a
second clean warehouse inside a test. Created empty, dropped afterwards whatever happened."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

PG_ADMIN_URL = os.environ.get("CHUYENCAN_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Set by conftest before each test: whether it carries the `postgres` marker.
postgres_allowed = True


@contextmanager
def fresh_pg_database(prefix: str = "chuyencan_test") -> Iterator[str]:
    """The URL of a new, empty database on the test server."""
    if not postgres_allowed:
        raise RuntimeError(
            "this test opens a PostgreSQL database but is not marked `postgres`, so the fast lane "
            "(-m 'not postgres') would need a server: add @pytest.mark.postgres or "
            "pytest.param(..., marks=pytest.mark.postgres)"
        )
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise RuntimeError(f"PostgreSQL at {PG_ADMIN_URL} is needed for this test: {exc}") from exc
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
