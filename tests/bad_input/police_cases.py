"""Bad (and awkward but valid) commune police extracts (docs/contracts.md#4-police-extract),
each with its outcome.

Every case writes under `<police inbox>/<case id>/`; cases that load use a commune of their own,
so one intake run takes them all. The district is told about every quarantined extract.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from chuyencan.core.contract import POLICE_COLUMNS
from tests.bad_input import raw
from tests.bad_input.school_cases import Case, _case

Row = dict[str, Any]


def household(commune: str, *, verified: str = "10/03/2025", year_only: bool = False) -> list[Row]:
    """A household of four: parents (birth years only, as the books often have) and two children."""

    def person(**v: Any) -> Row:
        base = {"xa": commune, "thon": "Thôn Một", "chu_ho": "Tẩn Văn Chàn", "ngay_xac_minh": verified}
        return {k: {**base, **v}.get(k, "") for k in POLICE_COLUMNS}

    return [
        person(
            ho_ten="Tẩn Văn Chàn",
            ngay_sinh="1979",
            gioi_tinh="Nam",
            quan_he_chu_ho="Chủ hộ",
            tinh_trang_cu_tru="Thường trú",
        ),
        person(
            ho_ten="Lý Thị Mẩy",
            ngay_sinh="1983",
            gioi_tinh="Nữ",
            quan_he_chu_ho="Vợ",
            tinh_trang_cu_tru="thuong_tru",
        ),
        person(
            so_dinh_danh="010209001122",
            ho_ten="Tẩn A Lở",
            ngay_sinh="2009" if year_only else "12/05/2009",
            gioi_tinh="Nam",
            quan_he_chu_ho="Con",
            tinh_trang_cu_tru="Tạm vắng",
            ngay_bien_dong="20/02/2025",
            noi_den="Bắc Ninh",
            noi_lam_viec="Khu công nghiệp Quế Võ",
        ),
        person(
            ho_ten="Tẩn Thị Sai",
            ngay_sinh="2012" if year_only else "03/11/2012",
            gioi_tinh="Nữ",
            quan_he_chu_ho="Con",
            tinh_trang_cu_tru="Tạm trú",
        ),
    ]


def csv_bytes(rows: list[Row], *, delimiter: str = ",", header: tuple[str, ...] = POLICE_COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[r.get(k, "") for k in header] for r in rows])
    return buffer.getvalue()


def _file(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], list[Path]]:
    def build(folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return [path]

    return build


def _twice(folder: Path) -> list[Path]:
    data = csv_bytes(household("Nậm Pung")).encode()
    out = []
    for name in ("nam_pung.csv", "gui lai/nam_pung (1).csv"):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out.append(path)
    return out


def _two_rounds(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    older = folder / "den_thang_dot1.csv"
    newer = folder / "den_thang_dot2.csv"
    older.write_bytes(csv_bytes(household("Dền Thàng", verified="01/03/2025")).encode())
    newer.write_bytes(csv_bytes(household("Dền Thàng", verified="15/03/2025")[:3]).encode())
    return [older, newer]


def _xlsx(folder: Path) -> list[Path]:
    rows = household("Sàng Ma Sáo")
    sheet: list[list[Any]] = [["DANH SÁCH NHÂN KHẨU XÃ SÀNG MA SÁO"], [], list(POLICE_COLUMNS)]
    sheet += [[r[k] or None for k in POLICE_COLUMNS] for r in rows]
    return [raw.write_xlsx(folder / "sang_ma_sao.xlsx", {"Nhân khẩu": sheet})]


def _cp1258() -> bytes:
    # Windows-1258 writes Vietnamese tones as combining marks after the base letter.
    import unicodedata

    text = unicodedata.normalize("NFD", csv_bytes(household("A Lù")))
    return text.encode("cp1258", errors="replace")


def _two_communes() -> bytes:
    rows = household("Bản Vược") + household("Bản Xèo")[:1]
    return csv_bytes(rows).encode()


def _long_cell() -> bytes:
    rows = household("Cốc Mỳ")
    rows[2] = {**rows[2], "noi_lam_viec": "Quán karaoke " * 800}
    return csv_bytes(rows).encode()


def _future_birth() -> bytes:
    rows = household("Mường Hum")
    rows[3] = {**rows[3], "ngay_sinh": "03/11/2031"}
    return csv_bytes(rows).encode()


def _short_id() -> bytes:
    rows = household("Mường Vi")
    rows[2] = {**rows[2], "so_dinh_danh": "01020900112"}  # 11 digits: a warning, matched by name
    rows[3] = {**rows[3], "so_dinh_danh": "10209001123"}
    return csv_bytes(rows).encode()


def _injection_and_control() -> bytes:
    rows = household("Pa Cheo")
    rows[2] = {**rows[2], "noi_den": '=HYPERLINK("http://x")', "noi_lam_viec": "@SUM(A1)\x07"}
    rows[3] = {**rows[3], "thon": "-Thôn\x1b Hai"}
    return csv_bytes(rows).encode()


def police_cases() -> list[Case]:
    q, ok = "quarantined", "loaded"
    no_status = tuple(c for c in POLICE_COLUMNS if c != "tinh_trang_cu_tru")
    cases = [
        _case(
            "p_year_only_births",
            "birth dates as a year alone",
            "",
            _file("quang_kim.csv", csv_bytes(household("Quang Kim", year_only=True)).encode()),
            ok,
        ),
        _case(
            "p_bom_semicolon",
            "UTF-8 with BOM, semicolon-separated (Excel's 'CSV UTF-8' in a Vietnamese locale)",
            "",
            _file("y_ty.csv", ("\ufeff" + csv_bytes(household("Y Tý"), delimiter=";")).encode()),
            ok,
        ),
        _case("p_xlsx_title_rows", "an .xlsx extract with a title row above the header", "", _xlsx, ok),
        _case(
            "p_same_extract_twice",
            "a commune's extract arriving twice (same bytes, second copy in a subfolder)",
            "",
            _twice,
            "loaded + ignored",
        ),
        _case(
            "p_two_rounds",
            "a commune's extract arriving twice: round of 01/03, then of 15/03 (supersedes)",
            "",
            _two_rounds,
            "loaded + loaded",
        ),
        _case(
            "p_warnings_short_ids",
            "personal IDs of 11 digits (kept, matched by name instead)",
            "",
            _file("muong_vi.csv", _short_id),
            "loaded with warnings",
            "personal_id_format",
        ),
        _case(
            "p_injection_control",
            "text starting with =, @, - and control characters",
            "",
            _file("pa_cheo.csv", _injection_and_control),
            ok,
        ),
        _case(
            "p_cp1258",
            "a CSV in Windows-1258, not UTF-8",
            "",
            _file("a_lu.csv", _cp1258),
            q,
            "not_utf8",
            tags=frozenset({"postgres"}),
        ),
        _case(
            "p_utf16",
            "a CSV in UTF-16 (Excel's 'Unicode text')",
            "",
            _file("a_lu_unicode.csv", ("\ufeff" + csv_bytes(household("A Lù"))).encode("utf-16-le")),
            q,
            "not_utf8",
        ),
        _case(
            "p_unknown_status",
            "a residence status not in the list ('Đi xuất khẩu lao động')",
            "",
            _file(
                "ban_qua.csv",
                csv_bytes(
                    [
                        *household("Bản Qua")[:3],
                        {**household("Bản Qua")[3], "tinh_trang_cu_tru": "Đi xuất khẩu lao động"},
                    ]
                ).encode(),
            ),
            q,
            "residence_status_invalid",
        ),
        _case(
            "p_missing_column",
            "the residence status column missing",
            "",
            _file("trinh_tuong.csv", csv_bytes(household("Trịnh Tường"), header=no_status).encode()),
            q,
            "missing_column",
        ),
        _case("p_empty", "an empty file", "", _file("trong.csv", b""), q, "empty_file"),
        _case(
            "p_header_only",
            "the header row and no people",
            "",
            _file("chi_tieu_de.csv", csv_bytes([]).encode()),
            q,
            "no_rows",
        ),
        _case(
            "p_pdf",
            "a PDF renamed .csv",
            "",
            _file("nhan_khau.csv", b"%PDF-1.4\n1 0 obj <<>> endobj\n"),
            q,
            "not_extract",
        ),
        _case(
            "p_xls",
            "an Excel 97-2003 .xls",
            "",
            lambda folder: [raw.write_xls(folder / "nhan_khau.xls")],
            q,
            "xls_format",
        ),
        _case(
            "p_two_communes",
            "two communes in one extract",
            "",
            _file("ban_vuoc.csv", _two_communes),
            q,
            "commune_differs",
        ),
        _case(
            "p_cell_10000_chars",
            "a 10,000-character cell",
            "",
            _file("coc_my.csv", _long_cell),
            q,
            "text_too_long",
        ),
        _case(
            "p_birth_in_future",
            "a birth date in 2031",
            "",
            _file("muong_hum.csv", _future_birth),
            q,
            "birth_year_implausible",
        ),
    ]
    return [replace(c, tags=c.tags | {"police"}) for c in cases]
