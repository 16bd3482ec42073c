"""Police extract intake (docs/contracts.md#4-police-extract) on hand-made .csv and .xlsx files,
on both warehouses.

Every expected number comes from the rows written here. Personal values are never printed in an
assertion message: checks compare counts, keys or hashes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from chuyencan.core.contract import POLICE_COLUMNS
from chuyencan.core.settings import Settings
from chuyencan.police.pipeline import load_police_extracts
from chuyencan.police.reader import read_extract
from chuyencan.submissions.pipeline import engine_for, prepare_warehouse
from tests.helpers import local, query

DISTRICT = "pgd.batxat@example.org"
NOW = datetime(2025, 3, 14, 3, 0, tzinfo=UTC)  # Friday 10:00 in Vietnam


def person(**values: Any) -> dict[str, Any]:
    """A police row: contract keys; what is not given is empty."""
    return {key: values.get(key, "") for key in POLICE_COLUMNS}


# A small commune book: A Mú Sung, households in Lũng Pô and Pờ Hồ.
AMS_BOOK = [
    person(
        so_dinh_danh="010080001111",
        ho_ten="Giàng A Sử",
        ngay_sinh="03/05/1980",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Giàng A Sử",
        quan_he_chu_ho="Chủ hộ",
        tinh_trang_cu_tru="Thường trú",
    ),
    person(
        ho_ten="Thào Thị Dợ",
        ngay_sinh="1982",
        gioi_tinh="Nữ",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Giàng A Sử",
        quan_he_chu_ho="Vợ",
        tinh_trang_cu_tru="thường trú",
    ),
    person(
        so_dinh_danh="010309001234",
        ho_ten="Giàng Thị Mỷ",
        ngay_sinh="02/04/2009",
        gioi_tinh="Nữ",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Giàng A Sử",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="Tạm vắng",
        ngay_bien_dong="15/02/2025",
        noi_den="Bình Dương",
        noi_lam_viec="Công ty TNHH giày da",
        ngay_xac_minh="10/03/2025",
    ),
    person(
        ho_ten="Giàng A Lử",
        ngay_sinh="01/07/2012",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Giàng A Sử",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="thuong_tru",
    ),
    person(
        ho_ten="Sùng A Tủa",
        ngay_sinh="1978",
        gioi_tinh="Nam",
        xa="Xã A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Sùng A Tủa",
        quan_he_chu_ho="Chủ hộ",
        tinh_trang_cu_tru="Thường trú",
    ),
    person(
        so_dinh_danh="010210004567",
        ho_ten="Sùng A Páo",
        ngay_sinh="15/06/2010",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Sùng A Tủa",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="Thường trú",
        ngay_xac_minh="11/03/2025",
    ),
    person(
        ho_ten="Vàng Seo Phử",
        ngay_sinh="1975",
        gioi_tinh="Nam",
        xa="A Mu Sung",
        thon="Pờ Hồ",
        chu_ho="Vàng Seo Phử",
        quan_he_chu_ho="Chủ hộ",
        tinh_trang_cu_tru="Thường trú",
    ),
    person(
        so_dinh_danh="010308007788",
        ho_ten="Vàng Thị Dế",
        ngay_sinh="20/02/2008",
        gioi_tinh="Nữ",
        xa="A Mú Sung",
        thon="Pờ Hồ",
        chu_ho="Vàng Seo Phử",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="đã chuyển đi",
        ngay_bien_dong="10/01/2025",
        noi_den="Xã Y Tý",
    ),
    person(
        ho_ten="Lý A Sáng",
        ngay_sinh="1983",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Pờ Hồ",
        chu_ho="Lý A Sáng",
        quan_he_chu_ho="Chủ hộ",
        tinh_trang_cu_tru="Thường trú",
    ),
    person(
        so_dinh_danh="010309003344",
        ho_ten="Lý Thị Sểnh",
        ngay_sinh="09/09/2009",
        gioi_tinh="Nữ",
        xa="A Mú Sung",
        thon="Pờ Hồ",
        chu_ho="Lý A Sáng",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="Tạm trú",
    ),
    person(
        ho_ten="Tẩn Văn Lìn",
        ngay_sinh="1970",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Tẩn Văn Lìn",
        quan_he_chu_ho="Chủ hộ",
        tinh_trang_cu_tru="Thường trú",
    ),
    person(
        so_dinh_danh="010211005566",
        ho_ten="Tẩn A Khé",
        ngay_sinh="05/01/2011",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Tẩn Văn Lìn",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="Đã chết",
        ngay_bien_dong="01/02/2025",
    ),
    # Two registrations of what may be one boy (a duplicate in the books): only a person can tell.
    person(
        ho_ten="Lý A Chải",
        ngay_sinh="2009",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Lý A Sử",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="Thường trú",
    ),
    person(
        ho_ten="Lý A Chải",
        ngay_sinh="2009",
        gioi_tinh="Nam",
        xa="A Mú Sung",
        thon="Lũng Pô",
        chu_ho="Lý A Sử",
        quan_he_chu_ho="Con",
        tinh_trang_cu_tru="Tạm vắng",
        noi_den="Lào Cai",
    ),
    *(
        person(
            ho_ten=f"{surname} {middle} {given}",
            ngay_sinh=str(1950 + i),
            gioi_tinh=sex,
            xa="A Mú Sung",
            thon=village,
            chu_ho=f"{surname} {middle} {given}",
            quan_he_chu_ho="Chủ hộ",
            tinh_trang_cu_tru="Thường trú",
        )
        for i, (surname, middle, given, sex, village) in enumerate(
            [
                ("Chảo", "Láo", "Lở", "Nam", "Lũng Pô"),
                ("Phàn", "Văn", "Tả", "Nam", "Pờ Hồ"),
                ("Hầu", "Thị", "Xá", "Nữ", "Pờ Hồ"),
                ("Giàng", "Seo", "Chứ", "Nam", "Lũng Pô"),
                ("Sùng", "Thị", "Mai", "Nữ", "Lũng Pô"),
                ("Thào", "A", "Dình", "Nam", "Pờ Hồ"),
                ("Vàng", "A", "Chớ", "Nam", "Lũng Pô"),
                ("Lò", "Văn", "Minh", "Nam", "Pờ Hồ"),
                ("Tẩn", "Thị", "Mẩy", "Nữ", "Lũng Pô"),
                ("Chu", "Văn", "Sinh", "Nam", "Pờ Hồ"),
                ("Pờ", "Thị", "Hừ", "Nữ", "Pờ Hồ"),
                ("Ly", "Seo", "Giàng", "Nam", "Lũng Pô"),
            ]
        )
    ),
]


def write_extract(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    received_at: datetime,
    bom: bool = False,
    encoding: str = "utf-8",
    header: Iterable[str] = POLICE_COLUMNS,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = list(header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[row.get(k, "") for k in header] for row in rows])
    content = buffer.getvalue()
    if encoding == "cp1258":
        path.write_bytes(to_cp1258(content))
    else:
        path.write_bytes(("\ufeff" if bom else "").encode() + content.encode(encoding))
    stamp = received_at.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def to_cp1258(text_: str) -> bytes:
    """Vietnamese the way an old Windows 'CSV' export writes it: Windows-1258, tone marks as
    separate combining characters after the base letter (â ê ô ơ ư ă đ precomposed)."""
    letter_marks = "\u0302\u031b\u0306"  # circumflex, horn, breve: part of the letter
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text_):
        parts = unicodedata.normalize("NFD", ch)
        letter = parts[0] + "".join(m for m in parts[1:] if m in letter_marks)
        tones = "".join(m for m in parts[1:] if m not in letter_marks)
        out += unicodedata.normalize("NFC", letter).encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


def write_extract_xlsx(path: Path, rows: Iterable[dict[str, Any]], *, received_at: datetime) -> Path:
    """As a commune clerk exports it: a title row, Vietnamese headers, IDs typed as numbers,
    dates as Excel dates, year-only births as numbers."""
    from chuyencan.police.extract_contract import EXTRACT_COLUMNS

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "NhanKhau"
    ws.append(["DANH SÁCH NHÂN KHẨU XÃ A MÚ SUNG"])
    ws.append([])
    ws.append([c.header for c in EXTRACT_COLUMNS])
    for row in rows:
        values: list[Any] = []
        for key in POLICE_COLUMNS:
            value = row.get(key, "")
            if key == "so_dinh_danh" and value:
                value = int(value)  # Excel drops the leading zero
            elif key in ("ngay_sinh", "ngay_bien_dong", "ngay_xac_minh") and value:
                value = int(value) if len(value) == 4 else datetime.strptime(value, "%d/%m/%Y")
            values.append(value or None)
        ws.append(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    stamp = received_at.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def make_settings(tmp_path: Path, url: str) -> Settings:
    return Settings(
        inbox=tmp_path / "inbox",
        police_inbox=tmp_path / "police_inbox",
        work_dir=tmp_path / "work",
        warehouse_url=url,
        district_emails=(DISTRICT,),
        settle_seconds=0,
    )


def as_date(value: Any) -> date:
    """SQLite hands back dates as text to a raw query."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            digest.update(
                str(p.relative_to(folder)).encode() + p.read_bytes() + str(p.stat().st_mtime).encode()
            )
    return digest.hexdigest()


@pytest.fixture
def settings(tmp_path: Path, warehouse_url: str) -> Settings:
    s = make_settings(tmp_path, warehouse_url)
    engine_for.cache_clear()
    prepare_warehouse(s)
    return s


# --- reading, no warehouse ------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [False, True], ids=["utf8", "utf8-bom"])
def test_csv_with_or_without_bom_reads_the_same(tmp_path: Path, bom: bool) -> None:
    path = write_extract(tmp_path / "ams.csv", AMS_BOOK, received_at=local(date(2025, 3, 12)), bom=bom)
    parsed = read_extract(path)
    assert parsed.readable, [i.rule for i in parsed.issues]
    frame = parsed.frame
    assert frame is not None
    assert len(frame) == len(AMS_BOOK)
    assert list(frame["source_row"]) == list(range(2, len(AMS_BOOK) + 2))
    # Labels in any spelling become codes; every status of the book is known.
    assert sorted(set(frame["residence_status"])) == [
        "da_chet",
        "da_chuyen_di",
        "tam_tru",
        "tam_vang",
        "thuong_tru",
    ]
    ids = [p for p in frame["personal_id"] if isinstance(p, str)]
    assert ids == [r["so_dinh_danh"] for r in AMS_BOOK if r["so_dinh_danh"]]


def test_year_only_birth_dates_keep_the_year_and_no_date(tmp_path: Path) -> None:
    path = write_extract(tmp_path / "ams.csv", AMS_BOOK, received_at=local(date(2025, 3, 12)))
    frame = read_extract(path).frame
    assert frame is not None
    year_only = [len(r["ngay_sinh"]) == 4 for r in AMS_BOOK]
    assert [b is None for b in frame["birth_date"]] == year_only
    assert list(frame["birth_year"]) == [int(r["ngay_sinh"][-4:]) for r in AMS_BOOK]


def test_xlsx_with_title_rows_numbers_and_dates(tmp_path: Path) -> None:
    path = write_extract_xlsx(tmp_path / "ams.xlsx", AMS_BOOK, received_at=local(date(2025, 3, 12)))
    parsed = read_extract(path)
    assert parsed.file_format == "xlsx"
    assert parsed.readable, [i.rule for i in parsed.issues]
    frame = parsed.frame
    assert frame is not None
    assert len(frame) == len(AMS_BOOK)
    assert int(frame["source_row"].iloc[0]) == 4  # title, blank, header above
    # IDs typed as numbers get their leading zero back.
    assert [p for p in frame["personal_id"] if isinstance(p, str)] == [
        r["so_dinh_danh"] for r in AMS_BOOK if r["so_dinh_danh"]
    ]
    assert list(frame["birth_year"]) == [int(r["ngay_sinh"][-4:]) for r in AMS_BOOK]
    assert sum(isinstance(b, date) for b in frame["birth_date"]) == sum(
        len(r["ngay_sinh"]) > 4 for r in AMS_BOOK
    )


def test_a_windows_1258_csv_is_refused_with_the_encoding_named(tmp_path: Path) -> None:
    path = write_extract(
        tmp_path / "ams.csv", AMS_BOOK, received_at=local(date(2025, 3, 12)), encoding="cp1258"
    )
    parsed = read_extract(path)
    assert not parsed.readable
    assert [i.rule for i in parsed.issues] == ["not_utf8"]
    assert "1258" in parsed.issues[0].message()
    assert "UTF-8" in parsed.issues[0].fix()


# --- intake into the warehouse (both kinds) ---------------------------------------------------------


def test_extracts_are_loaded_and_the_inbox_is_untouched(settings: Settings) -> None:
    inbox = settings.police_inbox
    assert inbox is not None
    write_extract(inbox / "ams_bom.csv", AMS_BOOK, received_at=local(date(2025, 3, 11)), bom=True)
    unverified = [r for r in AMS_BOOK if not r["ngay_xac_minh"]][:5]
    write_extract_xlsx(
        inbox / "xlsx" / "ams_other_round.xlsx", unverified, received_at=local(date(2025, 2, 11))
    )
    before = tree_digest(inbox)

    summary = load_police_extracts(settings, NOW)

    assert tree_digest(inbox) == before
    assert summary["accepted"] == 2
    assert summary["rejected"] == 0
    rows = query(
        settings.warehouse_url,
        "SELECT extract_id, commune, extract_round, record_count FROM ops.police_extract ORDER BY extract_round",
    )
    assert [(r.commune, r.record_count) for r in rows] == [("A Mú Sung", 5), ("A Mú Sung", len(AMS_BOOK))]
    # The round is the latest ngay_xac_minh; without one, the day the file was dropped.
    assert [as_date(r.extract_round) for r in rows] == [date(2025, 2, 11), date(2025, 3, 11)]
    current = query(settings.warehouse_url, "SELECT commune, extract_id FROM ops.police_extract_current")
    assert [(c.commune, c.extract_id) for c in current] == [("A Mú Sung", rows[1].extract_id)]
    residents = query(settings.warehouse_url, "SELECT COUNT(*) AS n FROM restricted.police_resident")
    assert residents[0].n == len(AMS_BOOK) + 5
    archived = list((settings.work_dir / "police" / "archive").rglob("*.*"))
    assert len(archived) == 2
    assert all(p.stat().st_mode & 0o077 == 0 for p in archived)


def test_the_same_bytes_twice_are_one_extract(settings: Settings) -> None:
    inbox = settings.police_inbox
    assert inbox is not None
    first = write_extract(inbox / "a.csv", AMS_BOOK, received_at=local(date(2025, 3, 11)))
    copy = inbox / "copy" / "a (1).csv"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    os.utime(copy, (first.stat().st_mtime + 60,) * 2)
    assert load_police_extracts(settings, NOW)["accepted"] == 1
    again = load_police_extracts(settings, NOW)
    assert (again["files_found"], again["accepted"], again["rejected"]) == (2, 0, 0)
    assert query(settings.warehouse_url, "SELECT COUNT(*) AS n FROM ops.police_extract")[0].n == 1


def test_a_newer_extract_of_a_commune_supersedes_and_an_older_one_does_not(settings: Settings) -> None:
    inbox = settings.police_inbox
    assert inbox is not None
    march = [dict(r, ngay_xac_minh="11/03/2025") for r in AMS_BOOK]
    february = [dict(r, ngay_xac_minh="11/02/2025") for r in AMS_BOOK[:7]]
    write_extract(inbox / "ams_march.csv", march, received_at=local(date(2025, 3, 12)))
    load_police_extracts(settings, NOW)
    # February's extract arrives late (newer file time, older round): March stays in effect.
    write_extract(inbox / "ams_february.csv", february, received_at=local(date(2025, 3, 13)))
    load_police_extracts(settings, NOW)

    def current() -> tuple[date, int]:
        row = query(
            settings.warehouse_url,
            "SELECT e.extract_round, e.record_count FROM ops.police_extract_current c "
            "JOIN ops.police_extract e ON e.extract_id = c.extract_id",
        )[0]
        return as_date(row.extract_round), row.record_count

    assert current() == (date(2025, 3, 11), len(march))
    # A corrected March extract (same round, later file time) replaces the first one.
    corrected = march[:-1]
    write_extract(inbox / "ams_march_v2.csv", corrected, received_at=local(date(2025, 3, 13), 15))
    load_police_extracts(settings, NOW)
    assert current() == (date(2025, 3, 11), len(corrected))


def test_an_unknown_status_rejects_the_extract_and_the_district_is_told(settings: Settings) -> None:
    inbox = settings.police_inbox
    assert inbox is not None
    rows = [dict(r) for r in AMS_BOOK]
    rows[3]["tinh_trang_cu_tru"] = "đi làm xa"  # not a residence status
    rows[5]["gioi_tinh"] = "Trai"
    write_extract(inbox / "ams.csv", rows, received_at=local(date(2025, 3, 12)))

    summary = load_police_extracts(settings, NOW)

    assert (summary["accepted"], summary["rejected"]) == (0, 1)
    extract = query(settings.warehouse_url, "SELECT * FROM ops.police_extract")[0]
    assert (extract.outcome, extract.commune, extract.error_count) == ("rejected", "A Mú Sung", 2)
    issues = query(
        settings.warehouse_url,
        "SELECT rule, row, column_key, value FROM ops.police_extract_issue ORDER BY row",
    )
    assert [(i.rule, i.row, i.column_key) for i in issues] == [
        ("residence_status_invalid", 5, "tinh_trang_cu_tru"),
        ("sex_invalid", 7, "gioi_tinh"),
    ]
    assert issues[1].value == "(đã ẩn)"  # sex is personal: never shown
    assert query(settings.warehouse_url, "SELECT COUNT(*) AS n FROM restricted.police_resident")[0].n == 0
    assert query(settings.warehouse_url, "SELECT COUNT(*) AS n FROM ops.police_extract_current")[0].n == 0
    quarantined = settings.work_dir / "police" / "quarantine" / "A-Mu-Sung"
    report = json.loads(next(quarantined.glob("*.errors.json")).read_text(encoding="utf-8"))
    assert [i["rule"] for i in report["issues"]] == ["residence_status_invalid", "sex_invalid"]
    mail = query(settings.warehouse_url, "SELECT kind, recipients, subject, body_text FROM ops.email_outbox")
    assert [(m.kind, m.recipients) for m in mail] == [("police_rejected", DISTRICT)]
    assert "A Mú Sung" in mail[0].subject
    assert "đi làm xa" in mail[0].body_text  # the status text is not personal: the police need it
    assert "dòng 5" in mail[0].body_text
    assert_no_personal_data(mail[0].subject + mail[0].body_text, AMS_BOOK)


def test_a_non_utf8_extract_is_quarantined_with_its_reason(settings: Settings) -> None:
    inbox = settings.police_inbox
    assert inbox is not None
    write_extract(inbox / "yty.csv", AMS_BOOK, received_at=local(date(2025, 3, 12)), encoding="cp1258")
    summary = load_police_extracts(settings, NOW)
    assert summary["rejected"] == 1
    extract = query(settings.warehouse_url, "SELECT commune, outcome, summary FROM ops.police_extract")[0]
    assert (extract.commune, extract.outcome) == (None, "rejected")
    assert "UTF-8" in extract.summary
    text_report = next((settings.work_dir / "police" / "quarantine" / "_unknown").glob("*.errors.txt"))
    assert "1258" in text_report.read_text(encoding="utf-8")
    mail = query(settings.warehouse_url, "SELECT body_text FROM ops.email_outbox")
    assert len(mail) == 1
    assert "UTF-8" in mail[0].body_text


def assert_no_personal_data(text_: str, rows: Iterable[dict[str, Any]]) -> None:
    """No name, ID, birth date, village or household head of these rows appears in the text
    (reports how many leaked, never which)."""
    values: set[str] = set()
    for r in rows:
        for key in ("so_dinh_danh", "ho_ten", "chu_ho", "thon", "noi_lam_viec"):
            if r.get(key):
                values.add(str(r[key]))
        born = r.get("ngay_sinh")
        if born and len(born) > 4:
            values.add(born)
            values.add(datetime.strptime(born, "%d/%m/%Y").date().isoformat())
    leaked = [v for v in values if v in text_]
    assert not leaked, f"{len(leaked)} personal values leaked"
