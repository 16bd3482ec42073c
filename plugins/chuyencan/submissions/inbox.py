"""Find new files in the schools' shared folder, remembered by content hash.

The inbox belongs to the schools: the pipeline never modifies, moves or deletes a file there.
A file is new when its bytes have not been seen before; the same bytes under two names are one
submission.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from chuyencan.core import schema

log = logging.getLogger(__name__)

# Office suites and file shares leave these beside real files; they are never submissions.
_IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class InboxFile:
    path: Path
    relative_path: str
    sha256: str
    size: int
    received_at: datetime  # the file's modification time, UTC

    @property
    def name(self) -> str:
        return self.path.name


def _ignored(path: Path) -> bool:
    name = path.name.lower()
    return name in _IGNORED_NAMES or name.startswith(("~$", ".", "._")) or name.endswith((".tmp", ".part"))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scan(inbox: Path, *, settle_seconds: int = 60, now: datetime | None = None) -> list[InboxFile]:
    """Every settled file under the inbox, oldest first (so a correction loads after its original)."""
    now = now or datetime.now(UTC)
    found: list[InboxFile] = []
    if not inbox.is_dir():
        log.warning("inbox %s does not exist or is not a folder", inbox)
        return found
    for root, dirs, names in os.walk(inbox):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(root) / name
            if _ignored(path) or not path.is_file():
                continue
            stat = path.stat()
            mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
            if (now - mtime).total_seconds() < settle_seconds:
                # Possibly still being copied into the share; the next run will take it.
                log.info("skipping %s for now: modified %ss ago", path.relative_to(inbox), settle_seconds)
                continue
            found.append(
                InboxFile(
                    path=path,
                    relative_path=str(path.relative_to(inbox)),
                    sha256=sha256_of(path),
                    size=stat.st_size,
                    received_at=mtime,
                )
            )
    found.sort(key=lambda f: (f.received_at, f.relative_path))
    return found


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
