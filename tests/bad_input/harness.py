"""Put corpus cases into an inbox, run the real intake, and read back what happened to each file.

The observed outcome of a file comes from the warehouse and the file system only:
- a submission/extract row for its path: `loaded` (accepted, no warnings), `loaded with
  warnings`, or `quarantined`;
- no row: `ignored` when its bytes were taken under another name or its name is one the inbox
  skips (lock files, Thumbs.db), `waiting` when it was modified within the settle window.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from chuyencan.core.inbox import display_path
from tests.bad_input.school_cases import CLOSED_ON, CLOSED_SCHOOL, Case
from tests.workbooks import reference_with_school_closed


@dataclass
class Observed:
    case: Case
    paths: list[Path]
    outcomes: list[str] = field(default_factory=list)
    rules: tuple[str, ...] = ()
    stored: list[Path] = field(default_factory=list)  # archive/quarantine copies
    ids: list[int] = field(default_factory=list)  # submission_id / extract_id of each stored file

    @property
    def outcome(self) -> str:
        return " + ".join(self.outcomes)


def corpus_reference(target: Path) -> Path:
    """The project's reference data, with one school closed (validity dates,
    docs/contracts.md#6-reference-data)."""
    return reference_with_school_closed(target, CLOSED_SCHOOL, CLOSED_ON)


def place(cases: list[Case], inbox: Path, now: datetime, *, police: bool = False) -> dict[str, list[Path]]:
    """Build every case under the inbox; settled files get distinct times two days back, a file
    still being copied a time seconds before `now`."""
    out: dict[str, list[Path]] = {}
    base = now - timedelta(days=2)
    for i, case in enumerate(cases):
        folder = inbox / case.id if police else inbox / case.school / case.id
        folder.mkdir(parents=True, exist_ok=True)
        paths = case.build(folder)
        for j, path in enumerate(paths):
            moment = now - timedelta(seconds=5) if case.fresh else base + timedelta(minutes=i, seconds=j)
            if "future" in case.tags:
                moment = now + timedelta(days=3)  # a school PC whose clock is wrong
            # A link's own time: never the time of what it points to (outside the inbox, or nothing).
            os.utime(path, (moment.timestamp(), moment.timestamp()), follow_symlinks=False)
        out[case.id] = paths
    return out


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def observe(
    engine: Engine,
    cases: list[Case],
    placed: dict[str, list[Path]],
    inbox: Path,
    *,
    now: datetime,
    settle_seconds: int,
    police: bool = False,
) -> dict[str, Observed]:
    table, key = ("ops.police_extract", "extract_id") if police else ("ops.submission", "submission_id")
    issues = "ops.police_extract_issue" if police else "ops.submission_issue"
    with engine.connect() as conn:
        by_path = {
            r.inbox_path: r
            for r in conn.execute(
                text(
                    f"SELECT {key} AS id, inbox_path, sha256, outcome, warning_count, stored_path FROM {table}"
                )
            )
        }
        shas = {r.sha256 for r in by_path.values()}
        rules: dict[int, list[tuple[str, str]]] = {}
        for r in conn.execute(text(f"SELECT {key} AS id, severity, rule FROM {issues}")):
            rules.setdefault(r.id, []).append((r.severity, r.rule))
    out: dict[str, Observed] = {}
    for case in cases:
        obs = Observed(case, placed[case.id])
        found: set[str] = set()
        for path in obs.paths:
            row = by_path.get(display_path(str(path.relative_to(inbox))))
            if row is None:
                age = now.timestamp() - path.lstat().st_mtime
                obs.outcomes.append(
                    "waiting" if age < settle_seconds and _sha(path) not in shas else "ignored"
                )
                continue
            if row.outcome == "rejected":
                obs.outcomes.append("quarantined")
                found |= {rule for sev, rule in rules.get(row.id, []) if sev == "error"}
            elif row.warning_count:
                obs.outcomes.append("loaded with warnings")
                found |= {rule for sev, rule in rules.get(row.id, []) if sev == "warning"}
            else:
                obs.outcomes.append("loaded")
            obs.stored.append(Path(row.stored_path))
            obs.ids.append(int(row.id))
        obs.rules = tuple(sorted(found))
        out[case.id] = obs
    return out


def error_report(stored: Path) -> tuple[str, list[dict[str, Any]]]:
    """The Vietnamese error report beside a quarantined copy, and its machine twin's issues."""
    txt = stored.with_name(stored.name + ".errors.txt").read_text(encoding="utf-8")
    issues = json.loads(stored.with_name(stored.name + ".errors.json").read_text(encoding="utf-8"))["issues"]
    return txt, issues


def copy_kept(stored: Path) -> bool:
    """Whether the quarantine holds a copy of the file (not over a limit, readable)."""
    report = json.loads(stored.with_name(stored.name + ".errors.json").read_text(encoding="utf-8"))
    return bool(report.get("copy_kept", True))
