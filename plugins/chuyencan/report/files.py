"""Where the fortnightly report's files go, and writing them so that no reader sees half a file.

<out_dir>/bao_cao_chuyen_can_<yyyy-mm-dd>.xlsx   the report the district files
<out_dir>/bao_cao_chuyen_can_<yyyy-mm-dd>.md     its Markdown twin
<out_dir>/bao_cao_chuyen_can_<yyyy-mm-dd>.html   its HTML twin (inline styles)
<out_dir>/restricted/danh_sach_hoc_sinh_<school>_<yyyy-mm-dd>.xlsx   per school, mode 0600
<out_dir>/restricted/hoc_sinh_di_lam_noi_vu_<office>_<yyyy-mm-dd>.xlsx   the Home Affairs office's

Every other reporting unit's files carry its code before the date
(`bao_cao_chuyen_can_XA_Y_TY_2025-10-03.xlsx`); Bát Xát's district keeps the names it always had
(`chuyencan.report.unit.ReportUnit.file_tag`).
"""

from __future__ import annotations

import os
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

REPORT_STEM = "bao_cao_chuyen_can"
RESTRICTED_DIR = "restricted"
PUBLIC_MODE = 0o644
RESTRICTED_MODE = 0o600


@dataclass(frozen=True)
class ReportFiles:
    xlsx: Path
    markdown: Path
    html: Path


def dated_stem(stem: str, report_date: date, unit_tag: str = "") -> str:
    """'bao_cao_chuyen_can_2025-04-04', or with a unit's tag 'bao_cao_chuyen_can_XA_Y_TY_2025-10-03'."""
    return f"{stem}_{unit_tag + '_' if unit_tag else ''}{report_date.isoformat()}"


def report_files(out_dir: Path, report_date: date, unit_tag: str = "") -> ReportFiles:
    stem = out_dir / dated_stem(REPORT_STEM, report_date, unit_tag)
    return ReportFiles(
        xlsx=stem.with_suffix(".xlsx"), markdown=stem.with_suffix(".md"), html=stem.with_suffix(".html")
    )


def restricted_dir(out_dir: Path) -> Path:
    """The folder of files with children's personal data: only the owner may enter it."""
    folder = out_dir / RESTRICTED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def save_workbook(
    workbook: Workbook, path: Path, mode: int = PUBLIC_MODE, *, stamp: date | None = None
) -> Path:
    """Save atomically. With `stamp` (a document's date) the bytes depend on the content only:
    document properties and zip entries carry that date instead of the time of saving, so a
    rerun that finds nothing new writes the same file (a delivered list is not sent again)."""
    with _replacing(path, mode) as handle:
        if stamp is None:
            workbook.save(handle)
        else:
            moment = datetime(stamp.year, stamp.month, stamp.day)
            workbook.properties.created = moment
            workbook.properties.modified = moment
            with _FixedTimeZip(handle, (stamp.year, stamp.month, stamp.day, 0, 0, 0)) as archive:
                ExcelWriter(workbook, archive).save()
    return path


def save_bytes(data: bytes, path: Path, mode: int = PUBLIC_MODE) -> Path:
    with _replacing(path, mode) as handle:
        handle.write(data)
    return path


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one timestamp."""

    def __init__(self, handle: BinaryIO, stamp: tuple[int, int, int, int, int, int]) -> None:
        super().__init__(handle, "w", zipfile.ZIP_DEFLATED)
        self._stamp = stamp

    def writestr(
        self, zinfo_or_arcname: Any, data: Any, compress_type: Any = None, compresslevel: Any = None
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self, filename: Any, arcname: Any = None, compress_type: Any = None, compresslevel: Any = None
    ) -> None:
        # openpyxl writes each worksheet to a temporary file first, then adds it with write().
        with open(filename, "rb") as fh:
            self.writestr(arcname or str(filename), fh.read())


def save_text(text: str, path: Path, mode: int = PUBLIC_MODE) -> Path:
    with _replacing(path, mode) as handle:
        handle.write(text.encode("utf-8"))
    return path


@contextmanager
def _replacing(path: Path, mode: int) -> Iterator[BinaryIO]:
    """A private temporary file, created with its final mode, renamed over `path` on success.

    The mode is set at creation (not after writing), so a restricted file is never readable
    by others, not even for a moment; a rerun replaces the file a reader may have open.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits the caller asked for
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
