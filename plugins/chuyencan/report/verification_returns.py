"""Verification returns: the workbooks communes fill in and drop back, checked like any intake.

A commune's officers fill the yellow columns of the list they were sent (present / left, where
to, workplace, cause, date visited, note) and save the workbook into the `nop_lai` folder of
the commune's own folder on the share (`<delivery_dir>/commune/<key>/nop_lai/`,
docs/contracts.md#7-commune-verification-return). Each new file (by content hash, so a
rerun or the same file dropped twice is taken once) is:

- taken through the hardened inbox (`chuyencan.core.inbox`): a private copy under the
  limits, refused before any parser if it is not a plain workbook;
- read: the list sheet, its header row, the hidden meta sheet (commune and list date);
- checked, every row, with the rules of include/wording/verification.vi.json (`rules`):
  a key the commune was not sent, a bad or future date, a value outside the dropdowns, a child
  who left without a destination... Any error rejects the whole file;
- recorded in one transaction: `ops.verification_return` (+ `ops.verification_return_issue`),
  and for an accepted file its findings in `restricted.verification_finding`; a rejected
  file's email to the commune (rows, columns and rules, no value, no child) is queued in the
  same transaction. A crash leaves either all of it or nothing, and the file is taken again.
- kept: accepted in `<work dir>/verification/archive/<commune>/`, rejected in
  `.../quarantine/<commune>/` with a Vietnamese `.errors.txt` beside it.

Versions: each accepted return of a (commune, list) gets the next version; a child's finding
in force is that of the latest accepted return with a filled row for the child
(chuyencan.report.verification_findings), so a later return supersedes an earlier one and a
rerun counts nothing twice. Logs carry counts, commune codes and rule names only.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import load_workbook
from sqlalchemy import Connection, Engine, func, select

from chuyencan.core import schema as wh
from chuyencan.core.inbox import (
    READ_FAILURES,
    SCHOOL_LIMITS,
    InboxFile,
    ReadMarks,
    Staging,
    check_file,
    safe_name,
    scan,
    staging_for,
)
from chuyencan.core.messages import MASK, CellError, shorten, to_date
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.core.text import fold, is_missing
from chuyencan.report.verification_sheet import (
    COLUMNS,
    FINDING_KEYS,
    HEADER_ROW,
    MAX_ROWS,
    SHEET_LIST,
    SHEET_META,
    W,
    code_of,
)

log = logging.getLogger(__name__)

RETURN_FOLDER = "nop_lai"
# Columns whose values may be personal (free text about a child): never shown back.
_FREE_TEXT = frozenset({"destination", "note", "case_key"})
_ISSUES_SHOWN = 50  # in the email; the quarantine report has them all

# Queues the commune's email inside the transaction that records the rejection.
ReturnRejectedHook = Callable[[Connection, "CheckedReturn", int], None]


@dataclass(frozen=True)
class ReturnIssue:
    rule: str
    row: int | None = None
    column: str | None = None  # a column key of verification_sheet.COLUMNS
    value: str | None = None  # shown only for a column whose values are not free text

    @property
    def header(self) -> str | None:
        return W(f"columns.{self.column}") if self.column else None

    def message(self, *, masked: bool) -> str:
        rules: dict[str, str] = W.raw("rules")
        template = rules.get(self.rule, rules["unreadable_workbook"])
        value = MASK if masked or self.value is None else self.value
        sheet = SHEET_META if self.rule == "missing_meta" else SHEET_LIST
        return W.fill(template, value=value, sheet=sheet, column=self.header or "")


@dataclass(frozen=True)
class Finding:
    student_key: str
    presence: str
    destination: str | None
    workplace: str | None
    cause: str | None
    visited_on: date
    note: str | None


@dataclass
class CheckedReturn:
    file: InboxFile
    commune_code: str  # the folder's commune
    list_date: date | None = None
    findings: list[Finding] = field(default_factory=list)
    issues: list[ReturnIssue] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.issues


@dataclass(frozen=True)
class ReturnFolder:
    commune_code: str
    commune: str  # its name, for the email
    recipient_key: str
    folder: Path


@dataclass
class ReturnsResult:
    files_found: int = 0
    accepted: int = 0
    rejected: int = 0
    findings: int = 0
    rules: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "files_found": self.files_found,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "findings": self.findings,
            "rules": dict(sorted(self.rules.items())),
        }


def work_folder(settings: Settings) -> Path:
    folder = settings.work_dir / "verification"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def collect_returns(
    engine: Engine,
    settings: Settings,
    folders: Sequence[ReturnFolder],
    *,
    now: datetime | None = None,
    on_rejected: ReturnRejectedHook | None = None,
) -> ReturnsResult:
    """Every new workbook in the communes' `nop_lai` folders, checked and recorded."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = ReturnsResult()
    with engine.connect() as conn:
        known = set(conn.execute(select(wh.verification_return.c.sha256)).scalars())
    staging = staging_for(settings.work_dir, SCHOOL_LIMITS)
    marks = ReadMarks(work_folder(settings) / "reading")
    try:
        for place in folders:
            if not place.folder.is_dir():
                continue
            for found in scan(
                place.folder, settle_seconds=settings.settle_seconds, now=now, limits=SCHOOL_LIMITS
            ):
                if found.sha256 in known:
                    continue
                result.files_found += 1
                f = staging.take(found)
                if f.sha256 in known:
                    continue
                known.add(f.sha256)
                checked = check_return(engine, f, place.commune_code, marks)
                _store(engine, settings, staging, checked, now=now, on_rejected=on_rejected)
                marks.clear(f.sha256)
                if checked.accepted:
                    result.accepted += 1
                    result.findings += len(checked.findings)
                else:
                    result.rejected += 1
                    result.rules.update(i.rule for i in checked.issues)
    finally:
        staging.clean()
    log.info("verification returns: %s", result.as_dict())
    return result


# --- reading and checking -------------------------------------------------------------------------


def check_return(engine: Engine, f: InboxFile, commune_code: str, marks: ReadMarks) -> CheckedReturn:
    checked = CheckedReturn(f, commune_code)
    if f.problem is not None:
        checked.issues.append(ReturnIssue(f.problem))
        return checked
    if marks.crashed_before(f.sha256):
        # The process died reading this file twice: refused without reading it again.
        log.warning("verification return %s killed the reader before: refused", f.relative_path)
        checked.issues.append(ReturnIssue("unreadable_workbook"))
        return checked
    refusal = check_file(f.judged_path, SCHOOL_LIMITS).refusal
    if refusal is not None:
        checked.issues.append(
            ReturnIssue("not_xlsx" if refusal.rule in ("not_xlsx", "xls_format") else refusal.rule)
        )
        return checked
    try:
        with marks.reading(f.sha256):
            sheet_rows, meta = _read(f.judged_path)
    except _Unusable as exc:
        checked.issues.append(exc.issue)
        return checked
    except READ_FAILURES as exc:
        log.warning("verification return %s unreadable (%s)", f.relative_path, type(exc).__name__)
        checked.issues.append(ReturnIssue("unreadable_workbook"))
        return checked
    if meta.get("commune_code") != commune_code:
        checked.issues.append(ReturnIssue("wrong_commune", value=str(meta.get("commune_code") or "?")))
        return checked
    try:
        list_date = date.fromisoformat(str(meta.get("list_date")))
    except ValueError:
        checked.issues.append(ReturnIssue("missing_meta"))
        return checked
    checked.list_date = list_date
    keys = _list_keys(engine, commune_code, list_date)
    if keys is None:
        checked.issues.append(ReturnIssue("unknown_list", value=f"{list_date:%d/%m/%Y}"))
        return checked
    received = f.received_at.astimezone(TIMEZONE).date()  # the commune's day
    _check_rows(checked, sheet_rows, keys, received)
    return checked


class _Unusable(Exception):
    def __init__(self, issue: ReturnIssue) -> None:
        super().__init__(issue.rule)
        self.issue = issue


def _read(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, str]]:
    """(sheet row number, {column key: value}) of each row under the header; the meta values."""
    # A file object: the staged copy's name has no .xlsx ending, which openpyxl checks.
    with path.open("rb") as handle:
        return _read_open(handle)


def _read_open(handle: BinaryIO) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, str]]:
    wb = load_workbook(handle, read_only=True, data_only=True)
    try:
        if SHEET_LIST not in wb.sheetnames:
            raise _Unusable(ReturnIssue("missing_sheet", value=SHEET_LIST))
        if SHEET_META not in wb.sheetnames:
            raise _Unusable(ReturnIssue("missing_meta"))
        meta: dict[str, str] = {}
        for row in wb[SHEET_META].iter_rows(min_row=1, max_row=20, max_col=3, values_only=True):
            if len(row) >= 3 and isinstance(row[2], str) and row[1] is not None:
                meta[row[2]] = str(row[1])
        ws = wb[SHEET_LIST]
        by_header = {fold(c.header): c.key for c in COLUMNS}
        position: dict[str, int] = {}
        rows: list[tuple[int, dict[str, Any]]] = []
        for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            if number > MAX_ROWS + HEADER_ROW:
                raise _Unusable(ReturnIssue("too_many_rows", value=str(number)))
            if not position:
                found = {by_header[fold(v)]: i for i, v in enumerate(values) if fold(v) in by_header}
                if "case_key" in found:
                    position = found
                    missing = [
                        c.key for c in COLUMNS if c.key not in position and (c.fill or c.key == "case_key")
                    ]
                    if missing:
                        raise _Unusable(ReturnIssue("missing_column", column=missing[0]))
                continue
            rows.append((number, {k: values[i] if i < len(values) else None for k, i in position.items()}))
        if not position:
            raise _Unusable(ReturnIssue("missing_column", column="case_key"))
        return rows, meta
    finally:
        wb.close()


def _list_keys(engine: Engine, commune_code: str, list_date: date) -> set[str] | None:
    lst, entry = wh.verification_list, wh.verification_list_entry
    with engine.connect() as conn:
        sent = conn.execute(
            select(func.count()).where(lst.c.commune_code == commune_code, lst.c.report_date == list_date)
        ).scalar_one()
        if not sent:
            return None
        return set(
            conn.execute(
                select(entry.c.student_key).where(
                    entry.c.commune_code == commune_code, entry.c.report_date == list_date
                )
            ).scalars()
        )


def _text(value: Any) -> str | None:
    if is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _shown(column: str, value: Any) -> str | None:
    if column in _FREE_TEXT or value is None:
        return None
    if isinstance(value, datetime | date):
        return f"{value:%d/%m/%Y}"
    return shorten(str(value), 40)


def _check_rows(
    checked: CheckedReturn, rows: Iterable[tuple[int, dict[str, Any]]], keys: set[str], received: date
) -> None:
    seen: set[str] = set()
    for number, values in rows:
        if any(_text(values.get(k)) is not None for k in FINDING_KEYS):
            issues, finding = _check_row(number, values, keys, seen, received)
            checked.issues.extend(issues)
            if finding is not None:
                checked.findings.append(finding)
        # else: not visited yet, or a village heading


def _check_row(
    number: int, values: dict[str, Any], keys: set[str], seen: set[str], received: date
) -> tuple[list[ReturnIssue], Finding | None]:
    issues: list[ReturnIssue] = []

    def bad(rule: str, column: str, value: Any = None) -> None:
        issues.append(ReturnIssue(rule, number, column, _shown(column, value)))

    key = _text(values.get("case_key"))
    if key is None:
        bad("missing_case_key", "case_key")
        return issues, None
    if key not in keys:
        bad("unknown_case_key", "case_key")
        return issues, None
    if key in seen:
        bad("duplicate_case_key", "case_key")
        return issues, None
    seen.add(key)
    presence_text = _text(values.get("presence"))
    presence = code_of("presence", presence_text) if presence_text else None
    if presence_text is None:
        bad("missing_presence", "presence")
    elif presence is None:
        bad("bad_presence", "presence", presence_text)
    visited: date | None = None
    raw_date = values.get("visited_on")
    if _text(raw_date) is None:
        bad("missing_date", "visited_on")
    else:
        try:
            visited = to_date(raw_date)
        except CellError:
            bad("bad_date", "visited_on", raw_date)
        else:
            if visited > received:
                bad("future_date", "visited_on", visited)
    cause_text = _text(values.get("cause"))
    cause = code_of("cause", cause_text) if cause_text else None
    if cause_text and cause is None:
        bad("unknown_cause", "cause", cause_text)
    workplace_text = _text(values.get("workplace"))
    workplace = code_of("workplace", workplace_text) if workplace_text else None
    if workplace_text and workplace is None:
        bad("unknown_workplace", "workplace", workplace_text)
    destination = _text(values.get("destination"))
    if presence == "da_di_khoi" and destination is None:
        bad("left_without_destination", "destination")
    if issues or presence is None or visited is None:
        return issues, None
    return issues, Finding(key, presence, destination, workplace, cause, visited, _text(values.get("note")))


# --- recording --------------------------------------------------------------------------------------


def _store(
    engine: Engine,
    settings: Settings,
    staging: Staging,
    checked: CheckedReturn,
    *,
    now: datetime,
    on_rejected: ReturnRejectedHook | None,
) -> None:
    f = checked.file
    outcome = "accepted" if checked.accepted else "rejected"
    folder = (
        work_folder(settings)
        / ("archive" if checked.accepted else "quarantine")
        / safe_name(checked.commune_code)
    )
    target = folder / f"{f.sha256[:12]}_{safe_name(f.path.name)}"
    kept = staging.keep(f, target)
    if not checked.accepted:
        _write_errors(target, checked)
    t, issue_t, finding_t = wh.verification_return, wh.verification_return_issue, wh.verification_finding
    try:
        with engine.begin() as conn:
            version = None
            if checked.accepted:
                version = (
                    1
                    + conn.execute(
                        select(func.count()).where(
                            t.c.commune_code == checked.commune_code,
                            t.c.list_date == checked.list_date,
                            t.c.outcome == "accepted",
                        )
                    ).scalar_one()
                )
            return_id = conn.execute(
                t.insert()
                .values(
                    sha256=f.sha256,
                    inbox_path=f.relative_path,
                    file_size=f.size,
                    received_at=f.received_at,
                    processed_at=now,
                    commune_code=checked.commune_code,
                    list_date=checked.list_date,
                    outcome=outcome,
                    version=version,
                    findings=len(checked.findings) if checked.accepted else 0,
                    error_count=len(checked.issues),
                    stored_path=str(target if kept else f.path),
                    summary=checked.issues[0].rule if checked.issues else None,
                )
                .returning(t.c.return_id)
            ).scalar_one()
            if checked.issues:
                conn.execute(
                    issue_t.insert(),
                    [
                        {
                            "return_id": return_id,
                            "row": i.row,
                            "column_key": i.column,
                            "rule": i.rule,
                            "value": i.value,
                        }
                        for i in checked.issues
                    ],
                )
            if checked.accepted and checked.findings:
                conn.execute(
                    finding_t.insert(),
                    [
                        {
                            "return_id": return_id,
                            "student_key": x.student_key,
                            "commune_code": checked.commune_code,
                            "presence": x.presence,
                            "destination": x.destination,
                            "workplace": x.workplace,
                            "cause": x.cause,
                            "visited_on": x.visited_on,
                            "note": x.note,
                        }
                        for x in checked.findings
                    ],
                )
            if not checked.accepted and on_rejected is not None:
                on_rejected(conn, checked, return_id)
    except BaseException:
        if kept:
            staging.put_back(f, target)
        raise
    log.info(
        "verification return from commune %s for list %s: %s, %d findings, rules %s",
        checked.commune_code,
        checked.list_date,
        outcome,
        len(checked.findings),
        sorted({i.rule for i in checked.issues}),
    )


def _write_errors(target: Path, checked: CheckedReturn) -> None:
    """The reasons beside the quarantined copy, in Vietnamese (owner-only: the copy is personal)."""
    lines = [issue_line(i, masked=False) for i in checked.issues]
    path = target.with_name(target.name + ".errors.txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def issue_line(issue: ReturnIssue, *, masked: bool) -> str:
    where = []
    if issue.row is not None:
        where.append(W("place.row", row=issue.row))
    if issue.header:
        where.append(W("place.column", column=issue.header))
    prefix = (", ".join(where) + ": ") if where else ""
    return prefix + issue.message(masked=masked)
