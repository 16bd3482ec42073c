"""Inbox plumbing both intakes share, hardened against hostile files and names.

- `scan`: every settled file under an inbox, hashed, oldest first. A file the pipeline must not
  or cannot read (over the byte limit, unreadable, a link out of the inbox, not a regular file)
  is still returned, with its `problem` set and a key instead of a content hash, so that it is
  recorded and reported once instead of crashing the run or being skipped in silence. An
  unreadable folder is reported the same way.
- `stage`: the bytes that are judged are a private copy in the work dir, hashed as copied; the
  copy that ends in the archive or quarantine is that same copy (moved, never re-read from the
  inbox), so what was validated is what is kept.
- `sniff` and `inspect_xlsx`: refuse what is not a plain workbook, and what would make a reader
  allocate or work without bound, before any parser sees the bytes. Everything here reads in
  bounded chunks and runs in time linear in the bytes read.
- `safe_name`, `display_path`, `copy_once`: names and copies that stay inside the work dir.

Nothing here imports a flow; the flows turn a `Refusal` into their own issue type.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import stat
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, BinaryIO, TypeVar

from chuyencan.core.wording import catalogue

log = logging.getLogger(__name__)

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """How much of a file the pipeline reads, and how much reading it may cost.

    Defaults are for a school's weekly workbook (a real one is 20-200 KB, a few hundred rows);
    `POLICE_LIMITS` for a commune's household extract (a few MB).
    """

    file_bytes: int = 20 * 1024 * 1024  # bytes on disk
    uncompressed_bytes: int = 100 * 1024 * 1024  # all members of the .xlsx, inflated
    member_ratio: int = 200  # inflated / compressed size of one member above 1 MB
    cells: int = 2_000_000  # the A1-anchored grid a sheet spans (what the reader allocates)
    cell_elements: int = 2_000_000  # <c> elements in one sheet
    tag_bytes: int = 64 * 1024  # one XML tag; real ones are under 1 KB

    def over(self, size: int) -> bool:
        return size > self.file_bytes


SCHOOL_LIMITS = Limits()
# A commune of a few tens of thousands of people is a few MB of CSV; 64 MB is ~400,000 rows,
# twice the row limit, and what the reader holds in memory stays a few hundred MB at most.
POLICE_LIMITS = Limits(
    file_bytes=64 * 1024 * 1024,
    uncompressed_bytes=256 * 1024 * 1024,
    cells=6_000_000,
    cell_elements=6_000_000,
)


@dataclass(frozen=True)
class Refusal:
    """Why a file is not read: a rule of the message catalogues, and values for its sentence."""

    rule: str
    params: tuple[tuple[str, object], ...] = ()


# --- names ---------------------------------------------------------------------------------------

NAME_BYTES = 120  # of the stored name; with our 18-byte prefix and suffixes, far under 255
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def display_path(relative: str) -> str:
    """A path as text that can go into the warehouse, a log or an email: bytes that are not
    UTF-8 shown as U+FFFD, control and bidirectional-override characters as '?'."""
    text = relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join("?" if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text)


def safe_name(name: str, max_bytes: int = NAME_BYTES) -> str:
    """A file name made only of letters, digits, '-', '_' and '.', at most `max_bytes` of
    UTF-8, never '.', '..' or empty, keeping its end (where the extension is)."""
    text = unicodedata.normalize("NFC", display_path(name))
    keep = "".join(ch if (ch.isalnum() and ch.isprintable()) or ch in "-_." else "_" for ch in text)
    keep = keep.lstrip(".")
    while len(keep.encode("utf-8")) > max_bytes:
        keep = keep[1:]
    return keep or "file"


# --- what the inbox holds ------------------------------------------------------------------------

# Office suites and file shares leave these beside real files; they are never submissions.
_IGNORED_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}

# Problems of a file as found in the inbox (rules of both message catalogues).
FILE_TOO_LARGE = "file_too_large"
UNREADABLE_FILE = "unreadable_file"
UNREADABLE_FOLDER = "unreadable_folder"
LINK_OUTSIDE_INBOX = "link_outside_inbox"
NOT_A_FILE = "not_a_file"
INBOX_PROBLEMS = frozenset(
    {FILE_TOO_LARGE, UNREADABLE_FILE, UNREADABLE_FOLDER, LINK_OUTSIDE_INBOX, NOT_A_FILE}
)


@dataclass(frozen=True)
class InboxFile:
    path: Path
    relative_path: str  # for people and the warehouse: see display_path
    sha256: str  # of the bytes; for a file with a `problem`, a key of its path, size and time
    size: int
    received_at: datetime  # the file's modification time, UTC (now, if it is in the future)
    problem: str | None = None  # one of INBOX_PROBLEMS: recorded and reported, never read
    future_dated: bool = False  # its time was in the future; received_at is the run's time
    staged: Path | None = None  # the private copy that is judged and kept (see `stage`)

    @property
    def name(self) -> str:
        return display_path(self.path.name)

    @property
    def judged_path(self) -> Path:
        return self.staged or self.path


def _ignored(name: str) -> bool:
    name = name.lower()
    return name in _IGNORED_NAMES or name.startswith(("~$", ".", "._")) or name.endswith((".tmp", ".part"))


def _open_no_follow(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(f"not a regular file: {path.name!r}")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def sha256_of(path: Path, limit: int | None = None) -> str:
    digest = hashlib.sha256()
    read = 0
    with _open_no_follow(path) as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
            read += len(chunk)
            if limit is not None and read > limit:
                raise FileTooLarge(read)
    return digest.hexdigest()


class FileTooLarge(OSError):
    def __init__(self, size: int) -> None:
        super().__init__(f"file grew past the limit while read ({size} bytes)")
        self.size = size


def _problem_key(problem: str, relative: str, size: int, mtime_ns: int) -> str:
    """A stable key for what could not be hashed: the same state is reported once, and a file
    that becomes readable later (or shrinks under the limit) is new and read then."""
    basis = f"{problem}|{relative.encode('utf-8', 'surrogateescape').hex()}|{size}|{mtime_ns}"
    return hashlib.sha256(basis.encode()).hexdigest()


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def scan(  # noqa: C901 - one walk, each kind of entry one branch; to split (issue 10 follow-up)
    inbox: Path,
    *,
    settle_seconds: int = 60,
    now: datetime | None = None,
    limits: Limits = SCHOOL_LIMITS,
) -> list[InboxFile]:
    """Every settled file under the inbox, oldest first (so a correction loads after its original)."""
    # Times go into the warehouse in UTC (SQLite keeps no offset).
    now = (now or datetime.now(UTC)).astimezone(UTC)
    found: list[InboxFile] = []
    if not inbox.is_dir():
        log.warning("inbox %s does not exist or is not a folder", inbox)
        return found
    root_real = os.path.realpath(inbox)

    def problem(path: Path, rule: str, size: int, mtime: datetime, mtime_ns: int) -> None:
        relative = str(path.relative_to(inbox))
        shown = display_path(relative)
        log.warning("inbox: %s: %s (recorded and reported, not read)", shown, rule)
        found.append(
            InboxFile(
                path=path,
                relative_path=shown,
                sha256=_problem_key(rule, relative, size, mtime_ns),
                size=size,
                received_at=min(mtime, now),
                problem=rule,
                future_dated=mtime > now,
            )
        )

    def folder_error(exc: OSError) -> None:
        path = Path(exc.filename) if exc.filename else inbox
        try:
            st = os.lstat(path)
            mtime, mtime_ns = datetime.fromtimestamp(st.st_mtime, UTC), st.st_mtime_ns
        except OSError:
            mtime, mtime_ns = now, 0
        if path != inbox:
            problem(path, UNREADABLE_FOLDER, 0, mtime, mtime_ns)
        else:
            log.warning("inbox %s cannot be read: %s", inbox, exc.strerror)

    for root, dirs, names in os.walk(inbox, onerror=folder_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if _ignored(name):
                continue
            path = Path(root) / name
            try:
                st = os.lstat(path)
            except OSError:
                continue  # deleted since the folder was listed
            mtime = datetime.fromtimestamp(st.st_mtime, UTC)
            future = mtime > now
            if not future and (now - mtime).total_seconds() < settle_seconds:
                # Possibly still being copied into the share; the next run will take it.
                log.info("skipping %s for now: modified within %ss", display_path(name), settle_seconds)
                continue
            target = path
            if stat.S_ISLNK(st.st_mode):
                real = os.path.realpath(path)
                if not _inside(real, root_real):
                    problem(path, LINK_OUTSIDE_INBOX, 0, mtime, st.st_mtime_ns)
                    continue
                target = Path(real)
                try:
                    st = os.stat(target)
                except OSError:
                    problem(path, UNREADABLE_FILE, 0, mtime, st.st_mtime_ns)
                    continue
            if not stat.S_ISREG(st.st_mode):
                if not stat.S_ISDIR(st.st_mode):
                    problem(path, NOT_A_FILE, 0, mtime, st.st_mtime_ns)
                continue
            if limits.over(st.st_size):
                problem(path, FILE_TOO_LARGE, st.st_size, mtime, st.st_mtime_ns)
                continue
            try:
                digest = sha256_of(target, limits.file_bytes)
            except FileTooLarge as exc:
                problem(path, FILE_TOO_LARGE, exc.size, mtime, st.st_mtime_ns)
                continue
            except OSError:
                problem(path, UNREADABLE_FILE, st.st_size, mtime, st.st_mtime_ns)
                continue
            if future:
                log.warning(
                    "inbox: %s is dated in the future (%s): taken as received now", display_path(name), mtime
                )
            found.append(
                InboxFile(
                    path=target,
                    relative_path=display_path(str(path.relative_to(inbox))),
                    sha256=digest,
                    size=st.st_size,
                    received_at=min(mtime, now),
                    future_dated=future,
                )
            )
    found.sort(key=lambda f: (f.received_at, f.relative_path))
    return found


# --- copies in the work dir ----------------------------------------------------------------------


def copy_once(source: Path, target: Path, limit: int | None = None) -> None:
    """Copy `source` to `target` (owner-only from the first byte), unless it is already there.
    Never follows a link at `source`; stops past `limit` bytes."""
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # A private temporary name: two overlapping runs may archive the same file at once.
    tmp = target.with_name(f".{uuid.uuid4().hex}.part")
    # The file lists children by name: only the pipeline's user may read the copy.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out, _open_no_follow(source) as src:
            _copy_capped(src, out, limit, hashlib.sha256())
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _copy_capped(src: BinaryIO, out: BinaryIO, limit: int | None, digest: hashlib._Hash) -> int:
    copied = 0
    for chunk in iter(lambda: src.read(CHUNK), b""):
        copied += len(chunk)
        if limit is not None and copied > limit:
            raise FileTooLarge(copied)
        digest.update(chunk)
        out.write(chunk)
    return copied


@dataclass
class Staging:
    """A run's private folder of copies under the work dir, removed when the run ends."""

    folder: Path
    limits: Limits = SCHOOL_LIMITS
    copies: list[Path] = field(default_factory=list)

    def take(self, f: InboxFile) -> InboxFile:
        """The file with its private copy; the hash is the copy's, so the bytes judged and kept
        are the bytes the record names even if the school replaces the file meanwhile."""
        if f.problem is not None:
            return f
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{uuid.uuid4().hex}.copy"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.copies.append(target)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, _open_no_follow(f.path) as src:
                size = _copy_capped(src, out, self.limits.file_bytes, digest)
        except FileTooLarge as exc:
            return _with_problem(f, FILE_TOO_LARGE, exc.size)
        except OSError:
            return _with_problem(f, UNREADABLE_FILE, f.size)
        sha = digest.hexdigest()
        if sha != f.sha256:
            log.warning("inbox: %s changed while it was taken; judging the bytes copied", f.relative_path)
        return InboxFile(
            path=f.path,
            relative_path=f.relative_path,
            sha256=sha,
            size=size,
            received_at=f.received_at,
            future_dated=f.future_dated,
            staged=target,
        )

    def keep(self, f: InboxFile, target: Path) -> bool:
        """Move the judged copy to `target` (archive or quarantine); False if there is none."""
        if f.staged is None or not f.staged.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(f.staged, target)
        return True

    def put_back(self, f: InboxFile, target: Path) -> None:
        """Undo `keep` when the file's record could not be stored there."""
        if f.staged is not None and target.exists() and not f.staged.exists():
            os.replace(target, f.staged)

    def clean(self) -> None:
        for copy in self.copies:
            copy.unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def _with_problem(f: InboxFile, problem: str, size: int) -> InboxFile:
    return InboxFile(
        path=f.path,
        relative_path=f.relative_path,
        sha256=_problem_key(problem, f.relative_path, size, int(f.received_at.timestamp() * 1e9)),
        size=size,
        received_at=f.received_at,
        problem=problem,
        future_dated=f.future_dated,
    )


def staging_for(work_dir: Path, limits: Limits = SCHOOL_LIMITS) -> Staging:
    return Staging(work_dir / "incoming" / uuid.uuid4().hex, limits)


# --- failures that belong to one file -----------------------------------------------------------

# What a reader may raise on hostile bytes: the file's problem (rule `reader_failed`), never the
# run's. MemoryError and RecursionError included: the limits make them unlikely, not impossible.
READ_FAILURES = (
    MemoryError,
    RecursionError,
    OverflowError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OSError,
)

T = TypeVar("T")
R = TypeVar("R")


def together_else_alone(
    items: list[T], check: Callable[[list[T]], list[R]], broken: Callable[[T], R], name: Callable[[T], str]
) -> list[R]:
    """`check` all items at once (GX's cost is mostly per run); if that raises, each alone, and
    an item whose own check raises gets `broken(item)`: one file that breaks the checker is
    rejected on its own instead of keeping the others out."""
    try:
        return check(items)
    except Exception:
        log.warning("checking %d files together failed; checking them one by one", len(items))
    out: list[R] = []
    for item in items:
        try:
            out.extend(check([item]))
        except Exception as exc:
            log.warning("checking %s failed (%s): rejected as unreadable", name(item), type(exc).__name__)
            out.append(broken(item))
    return out


# --- a reader that died on a file ----------------------------------------------------------------


class ReadMarks:
    """Marks left in the work dir while a file is being read: if the process dies inside a
    reader (an abort no `except` can catch), the mark survives, and the file is refused
    instead of being read again and taking every later run down with it. Two deaths are
    needed, so a run killed for another reason (a deployment) costs no school its file."""

    DEATHS = 2

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _mark(self, sha: str) -> Path:
        return self.folder / f"{sha}.reading"

    def crashed_before(self, sha: str) -> bool:
        try:
            return int(self._mark(sha).read_text() or 0) >= self.DEATHS
        except (OSError, ValueError):
            return False

    def reading(self, sha: str) -> _Reading:
        return _Reading(self._mark(sha))

    def clear(self, sha: str) -> None:
        """Once the file's record is stored, its past deaths no longer matter."""
        self._mark(sha).unlink(missing_ok=True)


class _Reading:
    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __enter__(self) -> None:
        self.mark.parent.mkdir(parents=True, exist_ok=True)
        try:
            deaths = int(self.mark.read_text() or 0)
        except (OSError, ValueError):
            deaths = 0
        self.mark.write_text(str(deaths + 1))

    def __exit__(self, *exc: object) -> None:
        # Any Python exception is the reader's ordinary failure, handled by the caller.
        self.mark.unlink(missing_ok=True)


# --- what kind of file it is ---------------------------------------------------------------------

# What a file that is not an .xlsx most likely is, in the sender's words.
FILE_KINDS: dict[str, str] = catalogue("file_kinds")
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_CONTROL_BYTES = set(range(32)) - {9, 10, 13}


def describe_bytes(head: bytes) -> str:
    """What a sender most likely sent instead of an .xlsx, in words it recognises."""
    if head.startswith(b"%PDF"):
        return FILE_KINDS["pdf"]
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
        return FILE_KINDS["html"]
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG", b"GIF8")):
        return FILE_KINDS["image"]
    if head.startswith(_TEXT_BOMS):
        return FILE_KINDS["text"]
    # A CSV saved by Excel in Vietnamese Windows is not UTF-8 (Windows-1258), but it is text:
    # no control bytes besides tab and line breaks.
    if head and not (set(head) & _CONTROL_BYTES):
        return FILE_KINDS["text"]
    return FILE_KINDS["unknown"]


def _contains(path: Path, needle: bytes, limit: int) -> bool:
    """Whether the first `limit` bytes of the file hold `needle` (read in chunks)."""
    tail = b""
    read = 0
    with path.open("rb") as fh:
        while read < limit:
            chunk = fh.read(CHUNK)
            if not chunk:
                return False
            read += len(chunk)
            if needle in tail + chunk:
                return True
            tail = chunk[-len(needle) :]
    return False


def sniff(path: Path, limits: Limits = SCHOOL_LIMITS) -> Refusal | None:
    """Refuse what is not a plain .xlsx, or would cost too much to read, before any parser."""
    return check_file(path, limits).refusal


def check_file(path: Path, limits: Limits = SCHOOL_LIMITS) -> XlsxScan:
    """`sniff`, with what the scan of a workbook that passes found (uncomputed formulas)."""
    size = path.stat().st_size
    if size == 0:
        return XlsxScan(Refusal("empty_file"))
    if limits.over(size):
        return XlsxScan(Refusal(FILE_TOO_LARGE, (("size_mb", size // (1024 * 1024)),)))
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.startswith(OLE2_MAGIC):
        # Old .xls files and password-protected .xlsx files are both OLE2 containers; the
        # encrypted ones carry an EncryptionInfo stream (in the directory, near the start).
        encrypted = _contains(path, "EncryptionInfo".encode("utf-16-le"), limits.file_bytes)
        return XlsxScan(Refusal("password_protected" if encrypted else "xls_format"))
    if not head.startswith(b"PK"):
        return XlsxScan(Refusal("not_xlsx", (("detected", describe_bytes(head)),)))
    return inspect_xlsx(path, limits)


# --- inside an .xlsx -----------------------------------------------------------------------------

# One tag, `<` to `>`: slash, qualified name, the rest. Possessive quantifiers and no '<' or
# '>' inside: each byte is looked at a bounded number of times whatever the input, so a flood
# of unfinished tags costs time linear in its size (no backtracking).
_TAG = re.compile(rb"<(/?+)([\w.:\-]*+)([^<>]*+)>")
# An attribute starts where a name starts (the lookbehind), so a long run of name characters
# is not retried from each of its positions.
_ATTR = re.compile(rb'(?<![\w:.\-])([A-Za-z_][\w:.\-]*+)\s*+=\s*+"([^"]*+)"')
_R_ATTR = re.compile(rb'(?<![\w:.\-])r\s*+=\s*+"([^"]*+)"')
_REF = re.compile(rb"^\$?([A-Z]{1,3})\$?(\d{1,7})$")
_MACRO_TYPES = (b"vbaproject", b"macroenabled", b"activex")


@dataclass
class XlsxScan:
    refusal: Refusal | None = None
    # Sheets holding formulas whose results were never stored: what a tool writes, and what
    # Excel computes (and stores) when it saves. The values are not in the file.
    uncomputed: set[str] = field(default_factory=set)
    sheet_names: list[str] = field(default_factory=list)


def _attrs(rest: bytes) -> dict[bytes, bytes]:
    return dict(_ATTR.findall(rest))


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _ref_of(value: bytes) -> tuple[int, int] | None:
    m = _REF.match(value.upper())
    return None if m is None else (int(m[2]), _col_number(m[1]))


def _xml_unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.rule)
        self.refusal = refusal


def _too_large(limits: Limits) -> _Refused:
    return _Refused(Refusal("too_large", (("size_mb", limits.uncompressed_bytes // (1024 * 1024)),)))


def _tags(
    stream: IO[bytes], limits: Limits, budget: list[int]
) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
    """(slash, local name, rest of the tag, text before it) for every tag of an XML stream,
    read in chunks; refuses a tag longer than `limits.tag_bytes`, and stops once the package
    has inflated past its budget (whatever its members declare)."""
    carry = b""
    while True:
        chunk = stream.read(CHUNK)
        budget[0] -= len(chunk)
        if budget[0] < 0:
            raise _too_large(limits)
        buf = carry + chunk
        pos = 0
        for m in _TAG.finditer(buf):
            rest = m[3]
            if len(rest) > limits.tag_bytes:
                raise _Refused(Refusal("corrupt_file"))
            yield m[1], m[2].rpartition(b":")[2], rest, buf[pos : m.start()]
            pos = m.end()
        if not chunk:
            return
        open_at = buf.rfind(b"<", pos)
        if open_at >= 0 and buf.find(b">", open_at) < 0:
            carry = buf[open_at:]
            yield b"", b"", b"", buf[pos:open_at]  # text up to an unfinished tag
        else:
            carry = b""
            yield b"", b"", b"", buf[pos:]
        if len(carry) > limits.tag_bytes:
            raise _Refused(Refusal("corrupt_file"))


def _scan_sheet(stream: IO[bytes], limits: Limits, budget: list[int]) -> tuple[bool, Refusal | None]:  # noqa: C901 - one streaming pass, a small state machine
    """One worksheet's XML: (has uncomputed formulas, refusal if it is over a limit)."""
    max_row = max_col = 0
    row = col = 0
    elements = 0
    in_cell = has_formula = has_value = in_value = uncomputed = False
    for slash, local, rest, before in _tags(stream, limits, budget):
        if in_value and before.strip():
            has_value = True
        if not local:
            continue
        if slash:
            if local == b"v":
                in_value = False
            elif local == b"c" and in_cell:
                in_cell = False
                uncomputed |= has_formula and not has_value
            continue
        if local == b"c":
            elements += 1
            if elements > limits.cell_elements:
                return uncomputed, Refusal("sheet_too_big", (("cell", _ref_text(max_row, max_col)),))
            ref = _R_ATTR.search(rest)
            where = _ref_of(ref[1]) if ref is not None else None
            if where is not None:
                row, col = where
            else:
                col += 1
                row = max(row, 1)
            max_row = max(max_row, row)
            max_col = max(max_col, col)
            if max_row * max_col > limits.cells:
                return uncomputed, Refusal("sheet_too_big", (("cell", _ref_text(row, col)),))
            in_cell = not rest.endswith(b"/")
            has_formula = has_value = in_value = False
        elif local == b"row":
            r = _R_ATTR.search(rest)
            row = int(r[1]) if r is not None and r[1].isdigit() and len(r[1]) <= 7 else row + 1
            col = 0
        elif local == b"dimension":
            span = _attrs(rest).get(b"ref", b"")
            where = _ref_of(span.rsplit(b":", 1)[-1])
            if where is not None and where[0] * where[1] > limits.cells:
                return uncomputed, Refusal("sheet_too_big", (("cell", _ref_text(*where)),))
        elif in_cell and local == b"f":
            has_formula = True
        elif in_cell and local == b"v":
            in_value = not rest.endswith(b"/")
    return uncomputed, None


def _ref_text(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _read_small(zf: zipfile.ZipFile, name: str, limits: Limits, budget: list[int]) -> bytes:
    with zf.open(name) as fh:
        data = fh.read(limits.tag_bytes * 16 + 1)
    if len(data) > limits.tag_bytes * 16:
        raise _Refused(Refusal("corrupt_file"))
    budget[0] -= len(data)
    return data


def inspect_xlsx(path: Path, limits: Limits = SCHOOL_LIMITS) -> XlsxScan:  # noqa: C901 - the package checks in the order a reader meets them
    """Everything the reader would allocate or work through, bounded before it runs: the
    package's inflated size and members' compression ratios, macros by content type, and in
    each worksheet the grid its cells span and how many cells it declares."""
    out = XlsxScan()
    budget = [limits.uncompressed_bytes]
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            declared = sum(i.file_size for i in infos)
            if declared > limits.uncompressed_bytes:
                out.refusal = Refusal("too_large", (("size_mb", declared // (1024 * 1024)),))
                return out
            for info in infos:
                if info.file_size > CHUNK and info.file_size > limits.member_ratio * max(
                    info.compress_size, 1
                ):
                    out.refusal = Refusal("too_large", (("size_mb", declared // (1024 * 1024)),))
                    return out
            if "xl/workbook.xml" not in names:
                out.refusal = Refusal("not_xlsx", (("detected", _describe_zip(zf, names)),))
                return out
            types = (
                _read_small(zf, "[Content_Types].xml", limits, budget)
                if "[Content_Types].xml" in names
                else b""
            )
            lowered = types.lower()
            if any(t in lowered for t in _MACRO_TYPES) or any(
                n.lower().rsplit("/", 1)[-1].startswith("vbaproject") for n in names
            ):
                out.refusal = Refusal("macro_file")
                return out
            rels = (
                _read_small(zf, "xl/_rels/workbook.xml.rels", limits, budget)
                if ("xl/_rels/workbook.xml.rels" in names)
                else b""
            )
            targets = {}
            for _slash, qname, rest in _TAG.findall(rels):
                if qname.rpartition(b":")[2] == b"Relationship":
                    a = _attrs(rest)
                    targets[a.get(b"Id", b"")] = a.get(b"Target", b"")
                    if b"vbaproject" in a.get(b"Type", b"").lower():
                        out.refusal = Refusal("macro_file")
                        return out
            workbook = _read_small(zf, "xl/workbook.xml", limits, budget)
            for slash, qname, rest in _TAG.findall(workbook):
                if slash or qname.rpartition(b":")[2] != b"sheet":
                    continue
                a = _attrs(rest)
                name = _xml_unescape(a.get(b"name", b"").decode("utf-8", "replace"))
                out.sheet_names.append(name)
                target = targets.get(a.get(b"r:id", b""), b"").decode("utf-8", "replace")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if member not in names:
                    continue
                with zf.open(member) as stream:
                    uncomputed, refusal = _scan_sheet(stream, limits, budget)
                if refusal is not None:
                    out.refusal = refusal
                    return out
                if uncomputed:
                    out.uncomputed.add(name)
    except _Refused as exc:
        out.refusal = exc.refusal
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, ValueError):
        out.refusal = Refusal("corrupt_file")
    return out


def _describe_zip(zf: zipfile.ZipFile, names: set[str]) -> str:
    if "mimetype" in names:
        with zf.open("mimetype") as fh:
            kind = fh.read(100)
        if b"opendocument.spreadsheet" in kind:
            return FILE_KINDS["ods"]
        if b"opendocument.text" in kind:
            return FILE_KINDS["odt"]
    if "word/document.xml" in names:
        return FILE_KINDS["docx"]
    if "ppt/presentation.xml" in names:
        return FILE_KINDS["pptx"]
    return FILE_KINDS["zip"]
