"""Hostile input (issue 10): files, names and values built to stop the intake, exhaust it, leak a
child's data or write where they should not, as an attacker or a careless clerk would make them.

Each case's expected outcome follows from the limits in `chuyencan.core.inbox` and the rules
catalogue: the worst any one of them may do is get itself quarantined. They run in the same
collection run as every other corpus case, so each is "one hostile file among good ones": the
good cases load in that same run (tests/test_bad_input_corpus.py). Files stay small on disk:
the 2 GiB and 1 GiB files are sparse (`truncate`), and are never read by the intake.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from tests.bad_input import raw
from tests.bad_input.police_cases import csv_bytes, household
from tests.bad_input.school_cases import (
    NASTY,
    PG,
    W07,
    W14,
    W21,
    W28,
    Builder,
    Case,
    _case,
    _save,
    good,
    n_classes,
)
from tests.workbooks import CLASSES, STUDENTS

GIB = 1024**3
HOSTILE = frozenset({"hostile"})
SHEET1 = "xl/worksheets/sheet1.xml"


def patch_zip(
    source: Path, target: Path, edits: dict[str, Callable[[bytes], bytes]], add: dict[str, bytes]
) -> Path:
    """A copy of a zip package with some members rewritten and others added."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, edits.get(info.filename, lambda b: b)(data))
        for name, data in add.items():
            zout.writestr(name, data)
    return target


def _patched(
    school: str, week: date, edits: dict[str, Callable[[bytes], bytes]], add: dict[str, bytes] | None = None
) -> Builder:
    def build(folder: Path) -> list[Path]:
        plain = good(school, week).save(folder / "plain.tmp")
        path = patch_zip(plain, folder / "bao cao.xlsx", edits, add or {})
        plain.unlink()
        return [path]

    return build


def _before_sheet_data_end(xml: str) -> Callable[[bytes], bytes]:
    return lambda b: b.replace(b"</sheetData>", xml.encode() + b"</sheetData>", 1)


def _dimension(ref: str) -> Callable[[bytes], bytes]:
    def edit(b: bytes) -> bytes:
        b = re.sub(rb"<dimension [^>]*/>", b"", b)
        return b.replace(b"<sheetData", f'<dimension ref="{ref}"/><sheetData'.encode(), 1)

    return edit


def _tag_flood(n: int) -> Callable[[bytes], bytes]:
    """Unfinished `<c ` tags after the rows: the shape that made the old formula regex
    backtrack quadratically."""
    return lambda b: b.replace(b"</sheetData>", b"<c " * n + b"</sheetData>", 1)


def _huge_tag(b: bytes) -> bytes:
    return b.replace(
        b"</sheetData>", b'<row r="999"><c r="A999" ' + b'x="1" ' * 20_000 + b"/></row></sheetData>", 1
    )


def _sparse(name: str, size: int) -> Builder:
    def build(folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        with path.open("wb") as fh:
            fh.truncate(size)  # sparse: no disk space, and the intake never reads it
        return [path]

    return build


def _named(school: str, week: date, name: str | bytes, *, subfolder: str | None = None) -> Builder:
    def build(folder: Path) -> list[Path]:
        where = folder / subfolder if subfolder else folder
        where.mkdir(parents=True, exist_ok=True)
        raw_name = os.fsdecode(name) if isinstance(name, bytes) else name
        return [good(school, week).save(where / raw_name)]

    return build


def _link_out(folder: Path) -> list[Path]:
    """A link to a workbook outside the inbox (another school's, say, or a system file)."""
    inbox = next(p for p in folder.parents if p.name in ("inbox", "police_inbox"))
    outside = inbox.parent / "outside"
    target = good("BX-SMS", W21).save(outside / "bi mat.xlsx")
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "bao cao.xlsx"
    link.symlink_to(target)
    return [link]


def _dangling_link(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "bao cao.xlsx"
    link.symlink_to(folder / "da xoa.xlsx")
    return [link]


def _fifo(name: str) -> Builder:
    def build(folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        os.mkfifo(path)
        return [path]

    return build


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(400)
PHOTOS = 12


def _photos(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(PHOTOS):
        path = folder / f"IMG_{i:04d}.xlsx"
        path.write_bytes(JPEG + bytes([i]))  # distinct bytes: twelve different files
        out.append(path)
    return out


VBA = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"VBA project" + bytes(100)
VBA_TYPE = "application/vnd.ms-office.vbaProject"


def _content_type(override: str) -> Callable[[bytes], bytes]:
    return lambda b: b.replace(b"</Types>", override.encode() + b"</Types>")


def _police_far_cell(folder: Path) -> list[Path]:
    rows = household("Tòng Sành")
    sheet = [list(rows[0])] + [[r[k] or None for k in rows[0]] for r in rows]
    plain = raw.write_xlsx(folder / "plain.tmp", {"Nhân khẩu": sheet})
    path = patch_zip(
        plain,
        folder / "tong_sanh.xlsx",
        {SHEET1: _before_sheet_data_end('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')},
        {},
    )
    plain.unlink()
    return [path]


def _police_macro(folder: Path) -> list[Path]:
    rows = household("Tòng Sành")
    sheet = [list(rows[0])] + [[r[k] or None for k in rows[0]] for r in rows]
    plain = raw.write_xlsx(folder / "plain.tmp", {"Nhân khẩu": sheet})
    path = patch_zip(
        plain,
        folder / "tong_sanh_macro.xlsx",
        {
            "[Content_Types].xml": _content_type(
                f'<Override PartName="/xl/data0.bin" ContentType="{VBA_TYPE}"/>'
            )
        },
        {"xl/data0.bin": VBA},
    )
    plain.unlink()
    return [path]


def _file(name: str | bytes, data: bytes | Callable[[], bytes]) -> Builder:
    def build(folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (os.fsdecode(name) if isinstance(name, bytes) else name)
        path.write_bytes(data() if callable(data) else data)
        return [path]

    return build


def _stray_quote() -> bytes:
    rows = household("Dền Sáng")
    rows[1] = {**rows[1], "thon": '"Thôn Một'}  # a quote typed at the start of a cell, never closed
    text = csv_bytes(rows).replace('"""Thôn Một"', '"Thôn Một')
    return text.encode()


def _stray_quote_long() -> bytes:
    rows = household("Dền Sáng") * 2_000
    rows[1] = {**rows[1], "thon": '"Thôn Một'}
    return csv_bytes(rows).replace('"""Thôn Một"', '"Thôn Một').encode()


def _pipes() -> bytes:
    return csv_bytes(household("Nậm Chạc"), delimiter="|").encode()


def _concatenated() -> bytes:
    return (
        csv_bytes(household("Phìn Ngan")) + csv_bytes(household("Phìn Ngan", verified="12/03/2025"))
    ).encode()


def _utf32() -> bytes:
    return csv_bytes(household("Trung Lèng Hồ")).encode("utf-32")


def _huge_year() -> bytes:
    rows = household("A Mú Sung")
    rows[3] = {**rows[3], "ngay_sinh": "9" * 400}
    return csv_bytes(rows).encode()


def school_hostile_cases() -> list[Case]:
    q, ok, warn = "quarantined", "loaded", "loaded with warnings"
    far = '<row r="{r}"><c r="{ref}"><v>1</v></c></row>'
    cases = [
        # -- cells far away: what the reader would allocate --
        _case(
            "far_cell_xfd1048576",
            "one stray cell at XFD1048576 (Ctrl+End typing): a 17-billion-cell grid",
            "BX-AMS",
            _patched(
                "BX-AMS", W14, {SHEET1: _before_sheet_data_end(far.format(r=1048576, ref="XFD1048576"))}
            ),
            q,
            "sheet_too_big",
            tags=NASTY | PG,
        ),
        _case(
            "far_cell_z1000000",
            "one stray cell at Z1000000 (26 million cells)",
            "BX-ALU",
            _patched("BX-ALU", W14, {SHEET1: _before_sheet_data_end(far.format(r=1000000, ref="Z1000000"))}),
            q,
            "sheet_too_big",
            tags=HOSTILE,
        ),
        _case(
            "far_cell_cv100000",
            "one stray cell at CV100000 (10 million cells)",
            "BX-YTY",
            _patched("BX-YTY", W07, {SHEET1: _before_sheet_data_end(far.format(r=100000, ref="CV100000"))}),
            q,
            "sheet_too_big",
            tags=HOSTILE,
        ),
        _case(
            "dimension_whole_sheet",
            "the sheet's <dimension> claims A1:XFD1048576 (formatted whole sheet)",
            "BX-SMS",
            _patched("BX-SMS", W07, {SHEET1: _dimension("A1:XFD1048576")}),
            q,
            "sheet_too_big",
            tags=HOSTILE,
        ),
        # -- XML shaped to cost time --
        _case(
            "tag_flood",
            "200,000 unfinished '<c ' tags after the rows (quadratic for a backtracking regex)",
            "BX-THCS-QK",
            _patched("BX-THCS-QK", W07, {SHEET1: _tag_flood(200_000)}),
            q,
            "corrupt_file",
            tags=NASTY,
        ),
        _case(
            "huge_tag",
            "one 120 KB tag (20,000 attributes)",
            "BX-THCS-TT",
            _patched("BX-THCS-TT", W28, {SHEET1: _huge_tag}),
            q,
            "corrupt_file",
            tags=HOSTILE,
        ),
        _case(
            "member_ratio_bomb",
            "a 60 MB member of zeros (ratio ~1000:1, under the 100 MB total)",
            "BX-THPT2",
            _bomb_member(60),
            q,
            "too_large",
            tags=HOSTILE,
        ),
        # -- bytes on disk --
        _case(
            "sparse_2gib",
            "a sparse 2 GiB file named .xlsx (size overflows int4; read_bytes -> MemoryError)",
            "BX-THPT1",
            _sparse("bao cao.xlsx", 2 * GIB),
            q,
            "file_too_large",
            tags=NASTY | PG,
        ),
        _case(
            "just_over_limit",
            "a 21 MB file, just over the 20 MB limit",
            "BX-GDTX",
            _sparse("bao cao.xlsx", 21 * 1024 * 1024),
            q,
            "file_too_large",
            tags=HOSTILE,
        ),
        # -- values the warehouse cannot hold --
        _case(
            "school_name_as_code",
            "the school's name typed as the code (over varchar(32)) in every row",
            "BX-THCS-QK",
            _save(
                good("BX-THCS-QK", W28).set_all(
                    CLASSES, "ma_truong", "Trường PTDTBT THCS Quang Kim, huyện Bát Xát, tỉnh Lào Cai"
                )
            ),
            q,
            "unknown_school",
            tags=NASTY | PG,
        ),
        _case(
            "code_path_traversal",
            "school code '../../../escaped' (the quarantine path was built from it)",
            "BX-YTY",
            _save(good("BX-YTY", W28).set_all(CLASSES, "ma_truong", "../../../escaped")),
            q,
            "unknown_school",
            tags=NASTY | PG,
        ),
        _case(
            "id_in_sessions",
            "a 12-digit personal ID typed into 'Số buổi nghỉ lũy kế'",
            "BX-DTH",
            _save(good("BX-DTH", W28).set(STUDENTS, 0, "so_buoi_nghi", 10_209_001_122)),
            q,
            "number_too_large",
            tags=PG | HOSTILE,
        ),
        _case(
            "float_1e308_enrolment",
            "1e308 as sĩ số (SQLite OverflowError)",
            "BX-SMS",
            _save(good("BX-SMS", W28).set(CLASSES, 0, "si_so", 1e308)),
            q,
            "number_too_large",
            tags=PG | HOSTILE,
        ),
        _case(
            "int8_overflow_text",
            "a 30-digit number typed as text in 'Vắng có phép'",
            "BX-ALU",
            _save(good("BX-ALU", W07).set(CLASSES, 0, "vang_co_phep", "9" * 30)),
            q,
            "number_too_large",
            tags=PG | HOSTILE,
        ),
        _case(
            "negative_trillion",
            "-1,000,000,000,000 absences",
            "BX-AMS",
            _save(good("BX-AMS", W07).set(CLASSES, 1, "vang_khong_phep", -(10**12))),
            q,
            "number_too_large",
            tags=HOSTILE,
        ),
        _case(
            "phone_in_enrolment",
            "a phone number 0912345678 typed as sĩ số",
            "BX-THPT1",
            _save(good("BX-THPT1", W07).set(CLASSES, 0, "si_so", 912345678)),
            q,
            "number_too_large",
            tags=PG | HOSTILE,
        ),
        _case(
            "id_1e308",
            "1e308 as a personal ID (a 309-digit code)",
            "BX-THCSTHPT",
            _save(good("BX-THCSTHPT", W28).set(STUDENTS, 0, "so_dinh_danh", 1e308)),
            q,
            "personal_id_format",
            tags=PG | HOSTILE,
        ),
        _case(
            "sessions_5000",
            "5,000 sessions missed (a school year has ~350)",
            "BX-THCS-TT",
            _save(good("BX-THCS-TT", W28).set(STUDENTS, 0, "so_buoi_nghi", 5000)),
            q,
            "sessions_above_year",
            tags=PG | HOSTILE,
        ),
        _case(
            "missed_before_birth",
            "a first day missed in 1990, before the child was born",
            "BX-DTNT",
            _save(good("BX-DTNT", W21).set(STUDENTS, 0, "ngay_nghi", date(1990, 9, 5))),
            q,
            "first_day_missed_before_birth",
            tags=HOSTILE,
        ),
        # -- names --
        _case(
            "name_not_utf8",
            "a file name that is not UTF-8 (Windows-1258 bytes)",
            "BX-GDTX",
            _named("BX-GDTX", W28, b"b\xe1o c\xe1o tu\xe2n.xlsx"),
            ok,
            week=W28,
            classes=n_classes("BX-GDTX"),
            tags=PG | HOSTILE,
        ),
        _case(
            "name_with_newline",
            "a file name with a line break",
            "BX-GDTX",
            _named("BX-GDTX", W07, "bao cao\ntuan 7.xlsx"),
            ok,
            week=W07,
            classes=n_classes("BX-GDTX"),
            tags=HOSTILE,
        ),
        _case(
            "name_rtl_override",
            "a file name with a right-to-left override (xlsx.exe shown as exe.xlsx)",
            "BX-DTNT",
            _named("BX-DTNT", W28, "bao cao\u202excod.xlsx"),
            ok,
            week=W28,
            classes=n_classes("BX-DTNT"),
            tags=HOSTILE,
        ),
        _case(
            "name_250_bytes",
            "a 250-byte file name (over 255 bytes with the archive's prefix)",
            "BX-DTNT",
            _named("BX-DTNT", W07, "Báo cáo chuyên cần " * 9 + "x.xlsx"),
            ok,
            week=W07,
            classes=n_classes("BX-DTNT"),
            tags=PG | HOSTILE,
        ),
        _case(
            "folder_250_bytes",
            "a 250-byte folder name above the file",
            "BX-THPT1",
            _named("BX-THPT1", W28, "bao cao.xlsx", subfolder="Thư mục báo cáo " * 10),
            ok,
            week=W28,
            classes=n_classes("BX-THPT1"),
            tags=HOSTILE,
        ),
        # -- what is in the inbox but is not a file we may read --
        _case(
            "link_out_of_inbox",
            "a symbolic link to a workbook outside the inbox",
            "BX-THCS-QK",
            _link_out,
            q,
            "link_outside_inbox",
            tags=NASTY | PG,
        ),
        _case(
            "dangling_link",
            "a symbolic link to a file that no longer exists",
            "BX-THCS-TT",
            _dangling_link,
            q,
            "unreadable_file",
            tags=HOSTILE,
        ),
        _case(
            "fifo",
            "a named pipe called bao cao.xlsx (opening it would block for ever)",
            "BX-YTY",
            _fifo("bao cao.xlsx"),
            q,
            "not_a_file",
            tags=NASTY,
        ),
        # -- trust, but verify --
        _case(
            "other_schools_folder",
            "a file in BX-AMS's folder naming BX-DTH (perfect attendance, no students)",
            "BX-AMS",
            _save(_perfect("BX-DTH", W14)),
            q,
            "school_folder_differs",
            tags=PG | HOSTILE,
        ),
        _case(
            "ambiguous_sheets",
            "'ChuyenCan' and an old draft 'Chuyên Cần' in one file",
            "BX-SMS",
            _save(good("BX-SMS", W21, extra_sheets=("Chuyên Cần",))),
            q,
            "ambiguous_sheet",
            tags=HOSTILE,
        ),
        _case(
            "macro_other_member",
            "a VBA project stored as xl/data0.bin, declared by its content type",
            "BX-GDTX",
            _patched(
                "BX-GDTX",
                W21,
                {
                    "[Content_Types].xml": _content_type(
                        f'<Override PartName="/xl/data0.bin" ContentType="{VBA_TYPE}"/>'
                    )
                },
                {"xl/data0.bin": VBA},
            ),
            q,
            "macro_file",
            tags=HOSTILE,
        ),
        _case(
            "macro_enabled_type",
            "a workbook declared macro-enabled (.xlsm main part) named .xlsx",
            "BX-THPT2",
            _patched(
                "BX-THPT2",
                W07,
                {
                    "[Content_Types].xml": lambda b: b.replace(
                        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                    )
                },
            ),
            q,
            "macro_file",
            tags=HOSTILE,
        ),
        _case(
            "dated_in_future",
            "a good file whose time is three days in the future (a wrong PC clock)",
            "BX-THCSTHPT",
            _save(good("BX-THCSTHPT", W21)),
            warn,
            "file_dated_in_future",
            week=W21,
            classes=n_classes("BX-THCSTHPT"),
            tags=frozenset({"hostile", "future"}),
        ),
        _case(
            "photos_in_folder",
            f"{PHOTOS} photos named .xlsx in one school's folder: one email, not {PHOTOS}",
            "BX-THPT2",
            _photos,
            " + ".join([q] * PHOTOS),
            "not_xlsx",
            tags=HOSTILE,
        ),
    ]
    return cases


def _perfect(school: str, week: date):
    wb = good(school, week)
    wb.students = []
    for row in wb.classes:
        row["vang_co_phep"] = row["vang_khong_phep"] = 0
    return wb


def _bomb_member(megabytes: int) -> Builder:
    def build(folder: Path) -> list[Path]:
        plain = good("BX-THPT2", W14).save(folder / "plain.tmp")
        path = raw.zip_bomb(plain, folder / "bao cao.xlsx", megabytes=megabytes)
        plain.unlink()
        return [path]

    return build


def police_hostile_cases() -> list[Case]:
    q, ok = "quarantined", "loaded"
    cases = [
        _case(
            "p_stray_quote",
            "one stray '\"' at the start of a cell: the rest of the file in one field",
            "",
            _file("den_sang.csv", _stray_quote),
            q,
            "malformed_csv",
        ),
        _case(
            "p_stray_quote_long",
            "a stray '\"' in an 8,000-row extract (over csv's field limit)",
            "",
            _file("den_sang_day_du.csv", _stray_quote_long),
            q,
            "malformed_csv",
        ),
        _case(
            "p_pipe_separated",
            "fields separated by '|' (a separator the contract does not allow)",
            "",
            _file("nam_chac.csv", _pipes),
            q,
            "header_not_found",
        ),
        _case(
            "p_concatenated",
            "two exports of one commune pasted into one file",
            "",
            _file("phin_ngan.csv", _concatenated),
            q,
            "repeated_header",
            tags=PG,
        ),
        _case("p_utf32", "a CSV saved as UTF-32", "", _file("trung_leng_ho.csv", _utf32), q, "not_utf8"),
        _case(
            "p_sparse_1gib_csv",
            "a sparse 1 GiB CSV (read_bytes -> MemoryError)",
            "",
            _sparse("toan_tinh.csv", GIB),
            q,
            "file_too_large",
            tags=PG,
        ),
        _case(
            "p_far_cell_xlsx",
            "an .xlsx extract with a stray cell at XFD1048576",
            "",
            _police_far_cell,
            q,
            "sheet_too_big",
        ),
        _case(
            "p_macro_content_type",
            "an .xlsx extract carrying a VBA project under another member name",
            "",
            _police_macro,
            q,
            "macro_file",
        ),
        _case(
            "p_link_out", "a symbolic link out of the police inbox", "", _link_out, q, "link_outside_inbox"
        ),
        _case("p_fifo", "a named pipe in the police inbox", "", _fifo("xa.csv"), q, "not_a_file"),
        _case(
            "p_name_not_utf8",
            "a good extract under a file name that is not UTF-8",
            "",
            _file(b"ng\xe1i_th\xe2u.csv", csv_bytes(household("Ngải Thầu")).encode()),
            ok,
            tags=PG,
        ),
        _case(
            "p_400_digit_year",
            "a 400-digit birth year",
            "",
            _file("a_mu_sung.csv", _huge_year),
            q,
            "not_date",
            "required",
        ),
    ]
    return [replace(c, tags=c.tags | {"police", "hostile"}) for c in cases]
