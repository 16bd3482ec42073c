"""The school weekly submission as docs/contracts.md#3-school-weekly-submission defines it:
sheets, columns, labels.

This is the one place where the contract's Vietnamese headers and ASCII keys meet the
English names used everywhere inside the package. Readers, the template writer, the
validation messages and the sample-data generator all take their columns from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chuyencan.core.text import fold

ValueKind = Literal["code", "text", "int", "date", "sex", "status"]


@dataclass(frozen=True)
class Column:
    key: str  # the contract's ASCII key, accepted as a header too
    header: str  # the Vietnamese header the template uses
    name: str  # the package's English name for the value
    kind: ValueKind
    required: bool
    personal: bool = False  # never shown in emails, logs or error reports
    # Columns the template pre-fills; a row holding only these is an empty template row.
    prefilled: bool = False


@dataclass(frozen=True)
class Sheet:
    name: str  # the sheet name in the template
    title: str  # Vietnamese title, also accepted as sheet name
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


CLASS_SHEET = Sheet(
    name="ChuyenCan",
    title="Chuyên cần",
    columns=(
        Column("ma_truong", "Mã trường", "school_code", "code", True, prefilled=True),
        Column("tuan", "Tuần kết thúc", "week_ending", "date", True, prefilled=True),
        Column("khoi", "Khối", "grade", "int", True),
        Column("lop", "Lớp", "class_name", "text", True),
        Column("si_so", "Sĩ số", "enrolled", "int", True),
        Column("so_ngay_hoc", "Số ngày học", "school_days", "int", True),
        Column("vang_co_phep", "Vắng có phép", "absent_excused", "int", True),
        Column("vang_khong_phep", "Vắng không phép", "absent_unexcused", "int", True),
    ),
)

STUDENT_SHEET = Sheet(
    name="HocSinh",
    title="Học sinh",
    columns=(
        Column("so_dinh_danh", "Số định danh", "personal_id", "code", False, personal=True),
        Column("ho_ten", "Họ và tên", "full_name", "text", True, personal=True),
        Column("ngay_sinh", "Ngày sinh", "birth_date", "date", True, personal=True),
        Column("gioi_tinh", "Giới tính", "sex", "sex", True, personal=True),
        Column("dan_toc", "Dân tộc", "ethnicity", "text", False, personal=True),
        Column("khoi", "Khối", "grade", "int", True),
        Column("lop", "Lớp", "class_name", "text", True),
        Column("xa", "Xã", "commune", "text", True),
        Column("thon", "Thôn", "village", "text", True, personal=True),
        Column("cha_me", "Họ tên cha/mẹ", "parent_name", "text", False, personal=True),
        Column("tinh_trang", "Tình trạng", "status", "status", True),
        Column("ngay_nghi", "Ngày nghỉ học", "first_day_missed", "date", False),
        Column("so_buoi_nghi", "Số buổi nghỉ lũy kế", "sessions_missed", "int", True),
        Column("ly_do", "Lý do", "reason", "text", False),
        Column("noi_den", "Nơi đến / nơi làm việc", "destination", "text", False, personal=True),
    ),
)

SHEETS = (CLASS_SHEET, STUDENT_SHEET)

# Extra spellings schools use for headers, folded. The contract's header and key are always
# accepted; these cover common short forms seen in district spreadsheets.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "personal_id": ("sodinhdanhcanhan", "madinhdanh", "cccd", "madinhdanhhocsinh"),
    "full_name": ("hoten", "hotenhocsinh"),
    "week_ending": ("tuan", "tuanketthucngay", "ngayketthuctuan"),
    "sessions_missed": ("sobuoinghi", "sobuoinghiluyke", "tongsobuoinghi"),
    "destination": ("noiden", "noilamviec", "noidennoilamviec"),
    "parent_name": ("hotenchame", "chame", "hotenchamenguoigiamho", "hotenphuhuynh"),
    "first_day_missed": ("ngaynghi", "ngaynghihoc", "ngaybatdaunghi"),
    "village": ("thon", "thonban", "ban"),
    "commune": ("xa", "xaphuong", "xathitran"),
}

STATUS_LABELS: dict[str, str] = {
    "bo_hoc": "Bỏ học",
    "vang_dai_ngay": "Vắng dài ngày",
    "nguy_co": "Nguy cơ bỏ học",
    "da_tro_lai": "Đã trở lại",
}
# Other ways schools write a status, folded.
_STATUS_ALIASES: dict[str, str] = {
    "nguyco": "nguy_co",
    "conguycobohoc": "nguy_co",
    "trolai": "da_tro_lai",
    "datrolaitruong": "da_tro_lai",
    "dahoclai": "da_tro_lai",
    "vangdai": "vang_dai_ngay",
    "vang3ngaytrolen": "vang_dai_ngay",
    "dabohoc": "bo_hoc",
    "nghihoc": "bo_hoc",
}
OPEN_STATUSES = ("bo_hoc", "vang_dai_ngay", "nguy_co")

SEX_LABELS: dict[str, str] = {"M": "Nam", "F": "Nữ"}
_SEX_ALIASES: dict[str, str] = {"nam": "M", "nu": "F", "m": "M", "f": "F", "male": "M", "female": "F"}

REASON_LABELS: dict[str, str] = {
    "kinh_te": "Kinh tế",
    "di_lam_an_xa": "Đi làm ăn xa",
    "tao_hon": "Tảo hôn",
    "hoc_luc": "Học lực",
    "xa_truong": "Xa trường",
    "gia_dinh": "Gia đình",
    "khac": "Khác",
}

# The commune police's household extract (docs/contracts.md#4-police-extract): columns in the
# contract's order.
POLICE_COLUMNS: tuple[str, ...] = (
    "so_dinh_danh",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "xa",
    "thon",
    "chu_ho",
    "quan_he_chu_ho",
    "tinh_trang_cu_tru",
    "ngay_bien_dong",
    "noi_den",
    "noi_lam_viec",
    "ngay_xac_minh",
)
RESIDENCE_LABELS: dict[str, str] = {
    "thuong_tru": "Thường trú",
    "tam_tru": "Tạm trú",
    "tam_vang": "Tạm vắng",
    "da_chuyen_di": "Đã chuyển đi",
    "da_chet": "Đã chết",
}

LEVELS: tuple[tuple[str, int, int], ...] = (("TH", 1, 5), ("THCS", 6, 9), ("THPT", 10, 12))


def level_of_grade(grade: int) -> str:
    for level, low, high in LEVELS:
        if low <= grade <= high:
            return level
    raise ValueError(f"grade {grade} is outside 1-12")


def _label_map(labels: dict[str, str], aliases: dict[str, str]) -> dict[str, str]:
    folded = {fold(code): code for code in labels}
    folded.update({fold(label): code for code, label in labels.items()})
    folded.update(aliases)
    return folded


_STATUS_BY_FOLD = _label_map(STATUS_LABELS, _STATUS_ALIASES)
_SEX_BY_FOLD = _label_map(SEX_LABELS, _SEX_ALIASES)
_REASON_BY_FOLD = _label_map(REASON_LABELS, {})


def status_code(value: str) -> str | None:
    return _STATUS_BY_FOLD.get(fold(value))


def sex_code(value: str) -> str | None:
    return _SEX_BY_FOLD.get(fold(value))


def reason_code(value: str) -> str:
    """A known reason code, or 'khac' with the school's text kept separately by the caller."""
    return _REASON_BY_FOLD.get(fold(value), "khac")


def header_keys(column: Column) -> set[str]:
    """Every folded header text that names this column."""
    return {fold(column.key), fold(column.header), *HEADER_ALIASES.get(column.name, ())}
