"""Find new files in the schools' shared folder, remembered by content hash.

The inbox belongs to the schools: the pipeline never modifies, moves or deletes a file there.
A file is new when its bytes have not been seen before; the same bytes under two names are one
submission. Scanning, hashing and the limits are shared with the police intake
(`chuyencan.core.inbox`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select

from chuyencan.core import schema
from chuyencan.core.inbox import InboxFile, scan, sha256_of

__all__ = ["InboxFile", "new_files", "scan", "sha256_of"]


def new_files(engine: Engine, files: Iterable[InboxFile]) -> list[InboxFile]:
    """Drop files whose bytes were already processed, and repeats within this batch."""
    with engine.connect() as conn:
        known = set(conn.execute(select(schema.ops_submission.c.sha256)).scalars())
    out: list[InboxFile] = []
    for f in files:
        if f.sha256 in known:
            continue
        known.add(f.sha256)
        out.append(f)
    return out
