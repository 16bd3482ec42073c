"""Keep the police's household data only as long as needed (BRIEF: personal data).

`Settings.police_retention_days` (90) after an extract was loaded, everything it brought about
people other than the verdicts is deleted:
- its household rows (`restricted.police_resident`) and the matcher's working rows that point
  into it (`restricted.case_match`);
- the copy of the file in `<work dir>/police/archive` or `quarantine` (the inbox is the police's
  and is never touched);
- review lists and returned review files older than the window.
What stays: `restricted.case_verdict` (the verdict about each student, with destination and
workplace for those who left), `restricted.review_decision` (keys and decisions, no household
data), `restricted.match_audit`, and `ops.police_extract` (file hash, commune, round, counts;
the hash keeps the same file from being loaded again).

A commune whose extract in effect is purged has no police data until its next extract; its
students keep the verdicts they had.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from chuyencan.core.schema import case_match, police_extract, police_resident
from chuyencan.core.settings import Settings
from chuyencan.police.intake import refresh_current
from chuyencan.police.review import review_dir

log = logging.getLogger(__name__)


def apply_retention(engine: Engine, settings: Settings, now: datetime) -> dict[str, Any]:
    cutoff = now - timedelta(days=settings.police_retention_days)
    pe = police_extract
    with engine.begin() as conn:
        expired = conn.execute(
            select(pe.c.extract_id, pe.c.commune, pe.c.stored_path).where(
                pe.c.purged_at.is_(None), pe.c.processed_at < cutoff
            )
        ).all()
        ids = [r.extract_id for r in expired]
        residents = matches = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            residents += conn.execute(
                police_resident.delete().where(police_resident.c.extract_id.in_(chunk))
            ).rowcount
            matches += conn.execute(case_match.delete().where(case_match.c.extract_id.in_(chunk))).rowcount
            conn.execute(pe.update().where(pe.c.extract_id.in_(chunk)).values(purged_at=now))
        for commune in sorted({r.commune for r in expired if r.commune}):
            refresh_current(conn, commune)
    files = sum(_unlink(Path(r.stored_path)) for r in expired)
    folder = review_dir(settings)
    old_lists = [
        p
        for p in (*folder.glob("*.xlsx"), *(folder / "returned").glob("*.xlsx"))
        if datetime.fromtimestamp(p.stat().st_mtime, now.tzinfo) < cutoff
    ]
    reviews = sum(_unlink(p) for p in old_lists)
    summary = {
        "extracts_purged": len(expired),
        "household_rows_deleted": residents,
        "match_rows_deleted": matches,
        "files_deleted": files,
        "review_files_deleted": reviews,
        "retention_days": settings.police_retention_days,
    }
    log.info("police retention: %s", summary)
    return summary


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1
