"""The commune police's household extract (docs/contracts.md#4-police-extract): columns, headers, labels.

The contract's ASCII keys and residence codes come from `chuyencan.core.contract`; this module adds
the Vietnamese headers a clerk may type instead, the package's English names, and which values
are personal (all of them except the commune, the residence status and the verification date).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chuyencan.core.contract import POLICE_COLUMNS, RESIDENCE_LABELS
from chuyencan.core.text import fold

ExtractKind = Literal["code", "text", "birth", "sex", "residence", "date"]


@dataclass(frozen=True)
class ExtractColumn:
    key: str  # the contract's key (accepted as a header)
    header: str  # Vietnamese header (accepted too, ignoring case, spacing and diacritics)
    name: str  # the package's English name
    kind: ExtractKind
    required: bool  # the column must be present (its values may still be optional)
    personal: bool
    aliases: tuple[str, ...] = ()  # other headers, folded

    @property
    def header_keys(self) -> set[str]:
        return {fold(self.key), fold(self.header), *self.aliases}


EXTRACT_COLUMNS: tuple[ExtractColumn, ...] = (
    ExtractColumn(
        "so_dinh_danh",
        "Số định danh cá nhân",
        "personal_id",
        "code",
        False,
        True,
        ("sodinhdanh", "madinhdanh", "cccd", "socccd", "socancuoccongdan", "socancuoc"),
    ),
    ExtractColumn("ho_ten", "Họ và tên", "full_name", "text", True, True, ("hoten",)),
    ExtractColumn("ngay_sinh", "Ngày sinh", "birth", "birth", True, True, ("ngaythangnamsinh", "namsinh")),
    ExtractColumn("gioi_tinh", "Giới tính", "sex", "sex", True, True, ("gioi",)),
    ExtractColumn("xa", "Xã", "commune", "text", True, False, ("xaphuong", "xathitran", "xaphuongthitran")),
    ExtractColumn("thon", "Thôn", "village", "text", False, True, ("thonban", "ban", "thonto", "thonxom")),
    ExtractColumn("chu_ho", "Chủ hộ", "household_head", "text", False, True, ("hotenchuho", "tenchuho")),
    ExtractColumn(
        "quan_he_chu_ho", "Quan hệ với chủ hộ", "relation", "text", False, True, ("quanhechuho", "quanhe")
    ),
    ExtractColumn(
        "tinh_trang_cu_tru",
        "Tình trạng cư trú",
        "residence_status",
        "residence",
        True,
        False,
        ("tinhtrang", "trangthaicutru", "trangthai"),
    ),
    ExtractColumn("ngay_bien_dong", "Ngày biến động", "status_changed_on", "date", False, True),
    ExtractColumn("noi_den", "Nơi đến", "destination", "text", False, True, ("noichuyenden",)),
    ExtractColumn("noi_lam_viec", "Nơi làm việc", "workplace", "text", False, True),
    ExtractColumn("ngay_xac_minh", "Ngày xác minh", "verified_on", "date", False, False),
)
assert tuple(c.key for c in EXTRACT_COLUMNS) == POLICE_COLUMNS, "keep in step with contract.POLICE_COLUMNS"

COLUMN_BY_KEY = {c.key: c for c in EXTRACT_COLUMNS}
PERSONAL_KEYS = frozenset(c.key for c in EXTRACT_COLUMNS if c.personal)
# The frame the reader produces: contract columns in English, the birth split in two.
FRAME_COLUMNS = (
    "source_row",
    "personal_id",
    "full_name",
    "birth_date",
    "birth_year",
    "sex",
    "commune",
    "village",
    "household_head",
    "relation",
    "residence_status",
    "status_changed_on",
    "destination",
    "workplace",
    "verified_on",
)

RESIDENCE_CODES = tuple(RESIDENCE_LABELS)
LEFT_STATUSES = ("tam_vang", "da_chuyen_di")
PRESENT_STATUSES = ("thuong_tru", "tam_tru")
_RESIDENCE_ALIASES = {
    "chuyendi": "da_chuyen_di",
    "dachuyen": "da_chuyen_di",
    "chet": "da_chet",
    "tuvong": "da_chet",
    "datuvong": "da_chet",
    "damat": "da_chet",
}
_RESIDENCE_BY_FOLD = {
    **{fold(code): code for code in RESIDENCE_LABELS},
    **{fold(label): code for code, label in RESIDENCE_LABELS.items()},
    **_RESIDENCE_ALIASES,
}


def residence_code(value: str) -> str | None:
    """'Tạm vắng', 'tam vang', 'tam_vang' -> 'tam_vang'; None for anything else."""
    return _RESIDENCE_BY_FOLD.get(fold(value))
