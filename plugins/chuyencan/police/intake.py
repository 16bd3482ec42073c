"""Police extract intake: new files in the police inbox -> checked -> loaded or quarantined.

The inbox belongs to the commune police: the pipeline never modifies it. A file is new when its
bytes are new (SHA-256, remembered in `ops.police_extract` even after retention deleted the
rows), so the same extract dropped twice, or under two names, is loaded once. Accepted extracts
are copied to `<work dir>/police/archive/<commune>/<round>/`, rejected ones to
`<work dir>/police/quarantine/` with their reasons beside them (`.errors.json`, `.errors.txt` in
Vietnamese, personal values masked), and the district is told.

One extract per commune is in effect (`ops.police_extract_current`): the newest by round (its
latest `ngay_xac_minh`, else the file's date), then by file time. An older round arriving late
is kept but does not replace the newer one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

from chuyencan.core import warehouse as wh
from chuyencan.core.inbox import (
    FILE_TOO_LARGE,
    POLICE_LIMITS,
    InboxFile,
    ReadMarks,
    Staging,
    safe_name,
    scan,
    staging_for,
    together_else_alone,
)
from chuyencan.core.reference import Reference, commune_key
from chuyencan.core.schema import (
    police_extract,
    police_extract_current,
    police_extract_issue,
    police_resident,
)
from chuyencan.core.settings import Settings
from chuyencan.core.text import fold, rule_codes, safe_display_name, strip_diacritics
from chuyencan.core.wording import Wording, severity_label
from chuyencan.police.issues import ExtractIssue
from chuyencan.police.reader import ParsedExtract, read_extract
from chuyencan.police.validate import CheckedExtract, check_extracts

log = logging.getLogger(__name__)

BATCH_BYTES = 64 * 1024 * 1024  # about 400,000 household rows of CSV

# Called inside the transaction that records a rejected extract: the district's email is queued
# exactly once with it.
ExtractRejectedHook = Callable[[Connection, CheckedExtract, int], None]


def police_dir(settings: Settings) -> Path:
    """The pipeline's police folder in the work dir; household data, so owner-only."""
    folder = settings.work_dir / "police"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


@dataclass(frozen=True)
class StoredExtract:
    extract_id: int
    outcome: str
    commune: str | None
    extract_round: date | None
    records: int


@dataclass
class IntakeResult:
    files_found: int = 0
    stored: list[StoredExtract] = field(default_factory=list)
    current: dict[str, int] = field(default_factory=dict)  # commune -> extract in effect
    already_stored: int = 0  # new to this run, but loaded meanwhile by an overlapping run

    def summary(self) -> dict[str, object]:
        """Counts only: this goes to logs and XCom."""
        accepted = [s for s in self.stored if s.outcome == "accepted"]
        return {
            "files_found": self.files_found,
            "accepted": len(accepted),
            "rejected": len(self.stored) - len(accepted),
            "already_loaded_by_another_run": self.already_stored,
            "records": sum(s.records for s in accepted),
            "communes_updated": sorted({s.commune for s in accepted if s.commune}),
        }


def _basis(name_fold: str, birth_year: int, sex: str, head_fold: str, commune_fold: str) -> str:
    return f"name:{commune_fold}|{name_fold}|{birth_year}|{sex}|{head_fold}"


def _keys(personal_id: str | None, basis: str) -> tuple[str, str]:
    """(resident_key, name_key): stable keys of a person across extracts, no row numbers.

    The name key folds away diacritics and case and uses the birth year only, so the same person
    exported again, or with a full date where the last extract had a year, keeps the key. The
    resident key is the personal ID's when there is a valid one. Both are pseudonymous hashes
    and stay in `restricted`.
    """
    name_key = hashlib.sha256(basis.encode()).hexdigest()[:32]
    if personal_id and len(personal_id) == 12 and personal_id.isdigit():
        return hashlib.sha256(f"id:{personal_id}".encode()).hexdigest()[:32], name_key
    return name_key, name_key


def new_extracts(engine: Engine, files: Iterable[InboxFile]) -> list[InboxFile]:
    """Drop files whose bytes were already processed, and repeats within this batch."""
    with engine.connect() as conn:
        known = set(conn.execute(select(police_extract.c.sha256)).scalars())
    out = []
    for f in files:
        if f.sha256 not in known:
            known.add(f.sha256)
            out.append(f)
    return out


def load_extracts(
    engine: Engine,
    ref: Reference,
    settings: Settings,
    *,
    on_rejected: ExtractRejectedHook | None = None,
    now: datetime | None = None,
) -> IntakeResult:
    now = now or datetime.now(UTC)
    result = IntakeResult()
    if settings.police_inbox is None:
        log.warning("no police inbox configured: no extracts to load")
        return result
    found = scan(settings.police_inbox, settle_seconds=settings.settle_seconds, now=now, limits=POLICE_LIMITS)
    result.files_found = len(found)
    files = new_extracts(engine, found)
    if files:
        log.info("checking %d new police extracts", len(files))
        base = police_dir(settings)
        staging = staging_for(base, POLICE_LIMITS)
        try:
            marks = ReadMarks(base / "reading")
            for c in _checked_in_batches(files, ref, settings, staging, marks):
                stored = _store(engine, c, base, now, staging=staging, on_rejected=on_rejected)
                marks.clear(c.file.sha256)
                if stored is not None:
                    result.stored.append(stored)
                    log.info(
                        "extract %s: %s, commune %s, round %s, extract %d (%s), %d records, "
                        "%d errors [%s], %d warnings [%s]",
                        safe_display_name(c.file.relative_path),
                        stored.outcome,
                        stored.commune or "?",
                        stored.extract_round or "?",
                        stored.extract_id,
                        c.file.sha256[:12],
                        stored.records,
                        len(c.errors),
                        rule_codes([i.rule for i in c.errors]),
                        len(c.warnings),
                        rule_codes([i.rule for i in c.warnings]),
                    )
                else:
                    result.already_stored += 1
                    log.info(
                        "extract %s (%s): already loaded by another run, commune %s",
                        safe_display_name(c.file.relative_path),
                        c.file.sha256[:12],
                        c.commune or "?",
                    )
        finally:
            staging.clean()
    else:
        log.info("no new police extracts among %d files", len(found))
    result.current = current_extracts(engine)
    return result


def _store(
    engine: Engine,
    c: CheckedExtract,
    base: Path,
    now: datetime,
    *,
    staging: Staging,
    on_rejected: ExtractRejectedHook | None,
) -> StoredExtract | None:
    """Load or quarantine one extract; a value the warehouse refuses rejects this extract only."""
    if c.accepted:
        try:
            return store_accepted(engine, c, base / "archive", now, staging=staging)
        except (DataError, StatementError, OverflowError) as exc:
            if isinstance(exc, OperationalError | IntegrityError):
                raise
            log.warning(
                "the warehouse refused a value of %s (%s): quarantined",
                c.file.relative_path,
                type(exc).__name__,
            )
            c.issues.insert(0, ExtractIssue("error", "reader_failed"))
    return store_rejected(engine, c, base / "quarantine", now, staging=staging, on_rejected=on_rejected)


def _read(f: InboxFile, marks: ReadMarks) -> ParsedExtract:
    if f.problem is not None:
        params: tuple[tuple[str, object], ...] = ()
        if f.problem == FILE_TOO_LARGE:
            params = (
                ("size_mb", f.size // (1024 * 1024)),
                ("limit_mb", POLICE_LIMITS.file_bytes // (1024 * 1024)),
            )
        return ParsedExtract(path=f.path, issues=[ExtractIssue("error", f.problem, params=params)])
    if marks.crashed_before(f.sha256):
        log.warning("%s killed the reading process before: refused without reading it again", f.relative_path)
        return ParsedExtract(path=f.judged_path, issues=[ExtractIssue("error", "reader_failed")])
    with marks.reading(f.sha256):
        return read_extract(f.judged_path, POLICE_LIMITS)


def _check(
    parsed: list[ParsedExtract], files: list[InboxFile], ref: Reference, settings: Settings
) -> list[CheckedExtract]:
    """All extracts of a batch in one GX run; if that fails, each alone: one commune's extract
    that breaks the checker never holds another's."""

    def check(pairs: list[tuple[ParsedExtract, InboxFile]]) -> list[CheckedExtract]:
        return check_extracts([p for p, _ in pairs], [f for _, f in pairs], ref, settings.timezone)

    def broken(pair: tuple[ParsedExtract, InboxFile]) -> CheckedExtract:
        unread = ParsedExtract(path=pair[0].path, issues=[ExtractIssue("error", "reader_failed")])
        return check_extracts([unread], [pair[1]], ref, settings.timezone)[0]

    return together_else_alone(
        list(zip(parsed, files, strict=True)), check, broken, lambda pair: pair[1].relative_path
    )


def _checked_in_batches(
    files: list[InboxFile], ref: Reference, settings: Settings, staging: Staging, marks: ReadMarks
) -> Iterator[CheckedExtract]:
    """Validate files a batch at a time: one GX run per batch (its cost is mostly fixed), and
    memory bounded however many communes drop their extract at once."""
    batch: list[InboxFile] = []
    size = 0
    for f in [*files, None]:
        if f is not None and (not batch or size + f.size <= BATCH_BYTES):
            batch.append(f)
            size += f.size
            continue
        taken = [staging.take(b) for b in batch]
        yield from _check([_read(b, marks) for b in taken], taken, ref, settings)
        batch, size = ([f], f.size) if f is not None else ([], 0)


def _extract_row(c: CheckedExtract, outcome: str, stored: Path, now: datetime) -> dict[str, Any]:
    errors = c.errors
    return {
        "sha256": c.file.sha256,
        "inbox_path": c.file.relative_path,
        "file_size": c.file.size,
        "received_at": c.file.received_at,
        "processed_at": now,
        "commune": c.commune,
        "extract_round": c.extract_round,
        "outcome": outcome,
        "record_count": 0 if c.parsed.frame is None else len(c.parsed.frame),
        "error_count": len(errors),
        "warning_count": len(c.warnings),
        "stored_path": str(stored),
        "summary": errors[0].message() if errors else None,
    }


def _insert_extract(conn: Connection, row: dict[str, Any]) -> int | None:
    exists = conn.execute(
        select(police_extract.c.extract_id).where(police_extract.c.sha256 == row["sha256"])
    ).first()
    if exists is not None:
        return None
    key = conn.execute(police_extract.insert().values(**row)).inserted_primary_key
    assert key is not None  # a single-row INSERT always has one
    return int(key[0])


def _insert_issues(conn: Connection, extract_id: int, issues: list[ExtractIssue]) -> None:
    if issues:
        conn.execute(
            police_extract_issue.insert(),
            [
                {
                    "extract_id": extract_id,
                    "severity": i.severity,
                    "row": i.row,
                    "column_key": i.column,
                    "rule": i.rule,
                    "value": i.public_value,
                }
                for i in issues
            ],
        )


def _slug(name: str) -> str:
    return safe_name(strip_diacritics(name).replace(" ", "-"))


def store_accepted(
    engine: Engine, c: CheckedExtract, archive_dir: Path, now: datetime, *, staging: Staging
) -> StoredExtract | None:
    commune, round_ = c.commune, c.extract_round
    if commune is None or round_ is None:  # guaranteed by check_extracts; never load silently
        raise ValueError(f"accepted extract {c.file.relative_path} has no commune or round")
    # The commune is the reference data's name (resolved), never the file's text.
    target = archive_dir / _slug(commune) / round_.isoformat() / _stored_name(c.file)
    staging.keep(c.file, target)
    records = resident_records(c.frame, commune)
    try:
        # The advisory lock (PostgreSQL) serialises two runs loading extracts of one commune.
        with engine.begin() as conn, wh.school_week_lock(conn, "police", commune):
            extract_id = _insert_extract(conn, _extract_row(c, "accepted", target, now))
            if extract_id is None:
                return None
            insert_residents(conn, extract_id, records)
            _insert_issues(conn, extract_id, c.warnings)
            refresh_current(conn, commune)
    except IntegrityError:
        log.info("police extract %s already stored by another run", c.file.sha256[:12])
        return None
    except BaseException:
        staging.put_back(c.file, target)
        raise
    return StoredExtract(extract_id, "accepted", commune, round_, len(records))


def _stored_name(f: InboxFile) -> str:
    return f"{f.sha256[:16]}__{safe_name(f.name)}"


def insert_residents(conn: Connection, extract_id: int, records: list[dict[str, Any]]) -> None:
    """Bulk insert in the caller's transaction: COPY on PostgreSQL (psycopg 3), which loads a
    province's extracts several times faster than batched INSERTs; batched INSERTs elsewhere."""
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if hasattr(cursor, "copy"):
            names = [c.name for c in police_resident.columns]
            statement = f"COPY restricted.police_resident ({', '.join(names)}) FROM STDIN"
            with cursor, cursor.copy(statement) as copy:
                for r in records:
                    copy.write_row([extract_id if n == "extract_id" else r[n] for n in names])
            return
        cursor.close()  # psycopg 2: no COPY of Python rows; batched INSERTs below
    for start in range(0, len(records), 10_000):
        conn.execute(
            police_resident.insert(),
            [{**r, "extract_id": extract_id} for r in records[start : start + 10_000]],
        )


def resident_records(frame: pd.DataFrame, commune: str) -> list[dict[str, Any]]:
    """Rows for restricted.police_resident; a malformed ID is dropped (the person is then
    matched on name, birth and household, as the warning told the district)."""
    cols = {name: frame[name].tolist() for name in frame.columns}
    commune_fold = commune_key(commune)
    folded: dict[str, str] = {}  # household heads repeat on every member's row

    def fold_once(value: str | None) -> str:
        if value is None:
            return ""
        out = folded.get(value)
        if out is None:
            out = folded[value] = fold(value)
        return out

    out = []
    for i in range(len(frame)):
        pid = cols["personal_id"][i]
        pid = pid if isinstance(pid, str) and len(pid) == 12 and pid.isdigit() else None
        birth_year = int(cols["birth_year"][i])
        head = _opt(cols["household_head"][i])
        resident_key, name_key = _keys(
            pid, _basis(fold(cols["full_name"][i]), birth_year, cols["sex"][i], fold_once(head), commune_fold)
        )
        out.append(
            {
                "source_row": int(cols["source_row"][i]),
                "resident_key": resident_key,
                "name_key": name_key,
                "personal_id": pid,
                "full_name": cols["full_name"][i],
                "birth_date": _date_or_none(cols["birth_date"][i]),
                "birth_year": birth_year,
                "sex": cols["sex"][i],
                "commune": commune,
                "village": _opt(cols["village"][i]),
                "household_head": head,
                "relation": _opt(cols["relation"][i]),
                "residence_status": cols["residence_status"][i],
                "status_changed_on": _date_or_none(cols["status_changed_on"][i]),
                "destination": _opt(cols["destination"][i]),
                "workplace": _opt(cols["workplace"][i]),
                "verified_on": _date_or_none(cols["verified_on"][i]),
            }
        )
    _tell_duplicates_apart(out)
    return out


def _date_or_none(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def _tell_duplicates_apart(records: list[dict[str, Any]]) -> None:
    """Two rows of one extract with the same key (a person registered twice, or a shared ID)
    get keys that also carry their status and destination. A reviewer's decision about one of
    them then never lands on the other; if that record's status changes in a later extract, the
    decision no longer applies and the case goes back to review, which is the safe side."""
    for field_name in ("resident_key", "name_key"):
        counts = Counter(r[field_name] for r in records)
        for r in records:
            if counts[r[field_name]] > 1:
                basis = f"{r[field_name]}|{r['residence_status']}|{fold(r['destination'])}"
                r[field_name] = hashlib.sha256(basis.encode()).hexdigest()[:32]


def _opt(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def refresh_current(conn: Connection, commune: str) -> None:
    """Make the commune's newest kept extract the one in effect (by round, then file time)."""
    pe, cur = police_extract, police_extract_current
    newest = conn.execute(
        select(pe.c.extract_id, pe.c.extract_round)
        .where(pe.c.commune == commune, pe.c.outcome == "accepted", pe.c.purged_at.is_(None))
        .order_by(pe.c.extract_round.desc(), pe.c.received_at.desc(), pe.c.extract_id.desc())
        .limit(1)
    ).first()
    conn.execute(cur.delete().where(cur.c.commune == commune))
    if newest is not None:
        conn.execute(
            cur.insert().values(
                commune=commune, extract_id=newest.extract_id, extract_round=newest.extract_round
            )
        )


def current_extracts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(select(police_extract_current.c.commune, police_extract_current.c.extract_id)).all()
        )


def store_rejected(
    engine: Engine,
    c: CheckedExtract,
    quarantine_dir: Path,
    now: datetime,
    *,
    staging: Staging,
    on_rejected: ExtractRejectedHook | None = None,
) -> StoredExtract | None:
    folder = quarantine_dir / (_slug(c.commune) if c.commune else "_unknown")
    target = folder / _stored_name(c.file)
    copied = staging.keep(c.file, target)
    write_error_reports(target, c, copied=copied)
    try:
        with engine.begin() as conn:
            row = _extract_row(c, "rejected", target, now)
            extract_id = _insert_extract(conn, row)
            if extract_id is None:
                return None
            _insert_issues(conn, extract_id, c.issues)
            if on_rejected is not None:
                on_rejected(conn, c, extract_id)
    except IntegrityError:
        log.info("police extract %s already stored by another run", c.file.sha256[:12])
        return None
    return StoredExtract(extract_id, "rejected", c.commune, c.extract_round, row["record_count"])


def write_error_reports(target: Path, c: CheckedExtract, *, copied: bool = True) -> tuple[Path, Path]:
    """Beside the quarantined copy: `.errors.json` for machines, `.errors.txt` in Vietnamese.
    Values of personal columns are masked in both. Without a copy (over the size limit,
    unreadable), the reports say so; the original stays in the police inbox."""
    target.parent.mkdir(parents=True, exist_ok=True)
    json_path = target.with_name(target.name + ".errors.json")
    json_path.write_text(
        json.dumps(
            {
                "file": c.file.relative_path,
                "sha256": c.file.sha256,
                "received_at": c.file.received_at.isoformat(),
                "commune": c.commune,
                "extract_round": c.extract_round.isoformat() if c.extract_round else None,
                "error_count": len(c.errors),
                "warning_count": len(c.warnings),
                "copy_kept": copied,
                "issues": [i.public_dict() for i in c.issues],
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    w = Wording("quarantine_report")
    lines = [
        w("file", path=c.file.relative_path),
        w("commune", commune=c.commune or w("unknown_commune")),
        w("counts", errors=len(c.errors), warnings=len(c.warnings)),
        *([] if copied else [w("not_copied")]),
        "",
    ]
    for i in c.issues:
        label = severity_label(i.severity)
        lines.append(w("issue_anywhere", label=label, message=i.message(), fix=i.fix()))
    txt_path = target.with_name(target.name + ".errors.txt")
    txt_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return json_path, txt_path
