"""The merged Lào Cai province (after the July 2025 reform) as a reference directory.

Province schools are not in the shipped reference, so `--scale province` writes its own
reference/ directory holding every file of include/reference in the same columns, and the
pipeline is pointed at it (`Settings.reference_dir`):

- before the reform (until 2025-06-30): the districts of old Lào Cai (province 10) and old Yên
  Bái (province 15), their towns, wards and communes, and each district's education office
  (Phòng GD&ĐT) as the reporting unit of every school in it;
- from 2025-07-01: the merged Lào Cai province (15), its post-reform communes and wards, each
  commune's People's Committee as the reporting unit of its TH, THCS and TH&THCS schools, and the
  department SO_GDDT_LAO_CAI for THPT, THCS&THPT and GDTX (Decree 142/2025/NĐ-CP);
- aliases and successors, so that a pre-reform name keeps resolving to the unit in force.

Bát Xát's rows (its 21 pre-reform units, the 8 post-reform communes that absorbed them, the
district office, the 14 schools of the notice and their assignments) are the shipped files'
rows, copied as they are. Everything else is sample data: pre-reform names as remembered
(unchecked), invented codes (`S…`, never a statistics code), invented mergers (the new commune
takes the name and code of its first predecessor, as xã Bát Xát did) and invented schools; every
such row says `verified = no` and its `source`/`basis` says "sample". Deterministic: the
organisation does not depend on the seed, the invented schools do.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chuyencan.core.organisation import (
    ADMIN_COLUMNS,
    ASSIGNMENT_COLUMNS,
    COMMUNE_SCHOOL_KINDS,
    KIND_LABEL,
    REPORTING_COLUMNS,
)
from chuyencan.core.reference import commune_key
from chuyencan.core.settings import REFERENCE_DIR
from chuyencan.core.text import strip_diacritics

SCHOOL_COLUMNS = (
    "school_code",
    "name",
    "kind",
    "grade_min",
    "grade_max",
    "commune",
    "boarding",
    "valid_from",
    "valid_to",
)
CONTACT_COLUMNS = ("school_code", "email", "principal_title")
COMMUNE_COLUMNS = (
    "commune_name",
    "kind",
    "district",
    "valid_from",
    "valid_to",
    "successor",
    "aliases",
    "verified",
)
# The files this module writes; every other file of include/reference is copied as it is.
WRITTEN = (
    "schools.csv",
    "school_contacts.csv",
    "communes.csv",
    "admin_units.csv",
    "reporting_units.csv",
    "reporting_units.json",
    "school_units.csv",
    "contacts.csv",
)
CONTACTS_COLUMNS = ("recipient_kind", "recipient_key", "role", "emails", "valid_from", "valid_to", "verified")

SINCE = "2000-01-01"  # "in force before the first school year the pipeline knows"
LAST_DAY = "2025-06-30"  # the districts' and pre-reform communes' last day
REFORM = "2025-07-01"
OLD_LAO_CAI, OLD_YEN_BAI, PROVINCE = "10", "15", "15"  # 15 is old Yên Bái until 2025-06-30
DEPARTMENT = "SO_GDDT_LAO_CAI"
SAMPLE_NAME = "sample: pre-2025 name as remembered, code invented; not checked"
SAMPLE_MERGER = "sample: invented merger (not NQ 1673/NQ-UBTVQH15); code invented"
OFFICE_BASIS = "sample: the district office reports on every school of its district"
COMMUNE_BASIS = "NĐ 142/2025/NĐ-CP: commune manages TH/THCS; sample commune (invented merger)"
DEPARTMENT_BASIS = (
    "NĐ 142/2025/NĐ-CP + TT 15/2025/TT-BGDĐT: province manages THPT/multi-level up to THPT/GDTX"
)
# The letterhead of a district office other than Bát Xát's (whose own lines are shipped).
OFFICE_LETTERHEAD = {
    "parent_agency": "UBND {KIND} {NAME}",
    "office": "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
    "office_name": "Phòng Giáo dục và Đào tạo {kind} {name}",
    "place": "{name}",
    "area": "{kind} {name}",
    "document_number": "Số:          /BC-PGDĐT",
    "addressee": "Ủy ban nhân dân {kind} {name}",
    "signer_title": "TRƯỞNG PHÒNG",
    "recipients": [
        "Thường trực UBND {kind} (b/c);",
        "Lãnh đạo Phòng GD&ĐT;",
        "UBND các xã, phường, thị trấn;",
        "Các trường THCS, THPT, TT GDNN-GDTX;",
        "Lưu: VT.",
    ],
}


@dataclass(frozen=True)
class District:
    name: str
    prefix: str  # school code prefix; the invented administrative code is "S" + prefix
    kind: str  # huyen, thanh_pho, thi_xa (organisation.KIND_LABEL)
    province: str  # OLD_LAO_CAI or OLD_YEN_BAI
    highland: bool
    towns: tuple[str, ...]  # thị trấn (wards of a city or town)
    communes: tuple[str, ...]
    sparse: bool = False  # fewer, bigger schools (keeps the province near 1,100 schools)

    @property
    def label(self) -> str:
        """How the GDTX centre and the office name the district: "huyện X", "thành phố X"."""
        return f"{KIND_LABEL[self.kind]} {self.name}"

    @property
    def code(self) -> str:
        return "082" if self.prefix == "BX" else f"S{self.prefix}"

    @property
    def office(self) -> str:
        """The reporting unit code of the district's education office (Bát Xát's is BAT_XAT)."""
        return {"huyen": "", "thanh_pho": "TP_", "thi_xa": "TX_"}[self.kind] + _slug(self.name)

    @property
    def town_kind(self) -> str:
        return "thi_tran" if self.kind == "huyen" else "phuong"


def _names(spec: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in spec.split(",") if n.strip())


# The districts of old Lào Cai and old Yên Bái before the 2025 reform (Bát Xát's units are the
# shipped ones). Names as remembered, unchecked. Names that fold to the same key as another
# commune are dropped when the reference is built, since the pipeline matches folded names.
DISTRICTS = (
    District(
        "Lào Cai",
        "LC",
        "thanh_pho",
        OLD_LAO_CAI,
        False,
        _names(
            "Bắc Cường, Bắc Lệnh, Bình Minh, Cốc Lếu, Duyên Hải, Kim Tân, Lào Cai, Nam Cường, Pom Hán,"
            " Xuân Tăng, Thống Nhất"
        ),
        _names("Cam Đường, Đồng Tuyển, Hợp Thành, Tả Phời, Vạn Hòa, Cốc San"),
    ),
    District(
        "Mường Khương",
        "MK",
        "huyen",
        OLD_LAO_CAI,
        True,
        _names("Thị trấn Mường Khương"),
        _names(
            "Bản Lầu, Bản Sen, Cao Sơn, Dìn Chin, La Pan Tẩn, Lùng Khấu Nhin, Lùng Vai, Nấm Lư,"
            " Nậm Chảy, Pha Long, Tả Gia Khâu, Tả Ngải Chồ, Tả Thàng, Thanh Bình, Tung Chung Phố"
        ),
    ),
    District(
        "Si Ma Cai",
        "SMC",
        "huyen",
        OLD_LAO_CAI,
        True,
        _names("Thị trấn Si Ma Cai"),
        _names(
            "Bản Mế, Cán Cấu, Lùng Thẩn, Nàn Sán, Nàn Sín, Quan Hồ Thẩn, Sán Chải, Sín Chéng, Thào Chư Phìn"
        ),
    ),
    District(
        "Bắc Hà",
        "BH",
        "huyen",
        OLD_LAO_CAI,
        True,
        _names("Thị trấn Bắc Hà"),
        _names(
            "Bản Cái, Bản Liền, Bản Phố, Cốc Lầu, Cốc Ly, Hoàng Thu Phố, Lùng Cải, Lùng Phình, Na Hối,"
            " Nậm Đét, Nậm Khánh, Nậm Lúc, Nậm Mòn, Tả Củ Tỷ, Tả Van Chư, Thải Giàng Phố"
        ),
    ),
    District(
        "Bảo Thắng",
        "BT",
        "huyen",
        OLD_LAO_CAI,
        False,
        _names("Thị trấn Phố Lu, Thị trấn Tằng Loỏng, Thị trấn Nông trường Phong Hải"),
        _names(
            "Bản Cầm, Bản Phiệt, Gia Phú, Phong Niên, Phú Nhuận, Sơn Hà, Sơn Hải, Thái Niên, Trì Quang,"
            " Xuân Giao, Xuân Quang"
        ),
    ),
    District(
        "Bảo Yên",
        "BY",
        "huyen",
        OLD_LAO_CAI,
        False,
        _names("Thị trấn Phố Ràng"),
        _names(
            "Bảo Hà, Cam Cọn, Điện Quan, Kim Sơn, Lương Sơn, Minh Tân, Nghĩa Đô, Phúc Khánh, Tân Dương,"
            " Tân Tiến, Thượng Hà, Việt Tiến, Vĩnh Yên, Xuân Hòa, Xuân Thượng, Yên Sơn"
        ),
    ),
    District(
        "Sa Pa",
        "SP",
        "thi_xa",
        OLD_LAO_CAI,
        True,
        _names("Sa Pa, Ô Quý Hồ, Hàm Rồng, Cầu Mây, Phan Si Păng"),
        _names(
            "Mường Bo, Bản Hồ, Tả Phìn, Tả Van, Thanh Kim, Trung Chải, Mường Hoa, Ngũ Chỉ Sơn,"
            " Hoàng Liên, Liên Minh"
        ),
    ),
    District(
        "Văn Bàn",
        "VB",
        "huyen",
        OLD_LAO_CAI,
        False,
        _names("Thị trấn Khánh Yên"),
        _names(
            "Chiềng Ken, Dần Thàng, Dương Quỳ, Hòa Mạc, Khánh Yên Hạ, Khánh Yên Thượng, Khánh Yên Trung,"
            " Làng Giàng, Liêm Phú, Minh Lương, Nậm Chày, Nậm Dạng, Nậm Xây, Nậm Xé, Sơn Thủy, Tân An,"
            " Tân Thượng, Thẩm Dương, Võ Lao"
        ),
    ),
    District(
        "Yên Bái",
        "YB",
        "thanh_pho",
        OLD_YEN_BAI,
        False,
        _names("Đồng Tâm, Hồng Hà, Minh Tân, Nguyễn Phúc, Nguyễn Thái Học, Yên Ninh, Yên Thịnh, Hợp Minh"),
        _names("Âu Lâu, Giới Phiên, Minh Bảo, Phúc Lộc, Tân Thịnh, Tuy Lộc, Văn Phú, Văn Tiến"),
        sparse=True,
    ),
    District(
        "Nghĩa Lộ",
        "NL",
        "thi_xa",
        OLD_YEN_BAI,
        False,
        _names("Pú Trạng, Tân An, Trung Tâm, Cầu Thia"),
        _names(
            "Nghĩa An, Nghĩa Lợi, Nghĩa Phúc, Hạnh Sơn, Phù Nham, Phúc Sơn, Sơn A, Thạch Lương, Thanh Lương"
        ),
        sparse=True,
    ),
    District(
        "Mù Cang Chải",
        "MCC",
        "huyen",
        OLD_YEN_BAI,
        True,
        _names("Thị trấn Mù Cang Chải"),
        _names(
            "Cao Phạ, Chế Cu Nha, Chế Tạo, Dế Xu Phình, Hồ Bốn, Khao Mang, Kim Nọi, Lao Chải, Mồ Dề,"
            " Nậm Có, Nậm Khắt, Púng Luông"
        ),
        sparse=True,
    ),
    District(
        "Trạm Tấu",
        "TTA",
        "huyen",
        OLD_YEN_BAI,
        True,
        _names("Thị trấn Trạm Tấu"),
        _names("Bản Công, Bản Mù, Hát Lừu, Làng Nhì, Pá Hu, Pá Lau, Phình Hồ, Tà Si Láng, Túc Đán, Xà Hồ"),
        sparse=True,
    ),
    District(
        "Văn Chấn",
        "VC",
        "huyen",
        OLD_YEN_BAI,
        True,
        _names("Thị trấn Sơn Thịnh, Thị trấn Nông trường Liên Sơn, Thị trấn Nông trường Trần Phú"),
        _names(
            "An Lương, Bình Thuận, Cát Thịnh, Chấn Thịnh, Đại Lịch, Đồng Khê, Gia Hội, Nậm Búng, Nậm Lành,"
            " Nậm Mười, Nghĩa Sơn, Nghĩa Tâm, Minh An, Sơn Lương, Suối Bu, Suối Giàng, Suối Quyền, Sùng Đô,"
            " Thượng Bằng La, Tú Lệ"
        ),
        sparse=True,
    ),
    District(
        "Văn Yên",
        "VY",
        "huyen",
        OLD_YEN_BAI,
        False,
        _names("Thị trấn Mậu A"),
        _names(
            "An Bình, An Thịnh, Châu Quế Hạ, Châu Quế Thượng, Đại Phác, Đại Sơn, Đông An, Đông Cuông,"
            " Lâm Giang, Lang Thíp, Mậu Đông, Mỏ Vàng, Nà Hẩu, Ngòi A, Phong Dụ Hạ, Phong Dụ Thượng,"
            " Quang Minh, Tân Hợp, Viễn Sơn, Xuân Ái, Xuân Tầm, Yên Hợp, Yên Phú, Yên Thái, Yên Hưng"
        ),
        sparse=True,
    ),
    District(
        "Trấn Yên",
        "TYE",
        "huyen",
        OLD_YEN_BAI,
        False,
        _names("Thị trấn Cổ Phúc"),
        _names(
            "Báo Đáp, Bảo Hưng, Cường Thịnh, Đào Thịnh, Hòa Cuông, Hồng Ca, Hưng Khánh, Hưng Thịnh,"
            " Kiên Thành, Lương Thịnh, Minh Quán, Minh Quân, Nga Quán, Quy Mông, Tân Đồng, Vân Hội,"
            " Việt Cường, Việt Hồng, Việt Thành, Y Can"
        ),
        sparse=True,
    ),
    District(
        "Lục Yên",
        "LY",
        "huyen",
        OLD_YEN_BAI,
        False,
        _names("Thị trấn Yên Thế"),
        _names(
            "An Lạc, An Phú, Động Quan, Khai Trung, Khánh Hòa, Khánh Thiện, Lâm Thượng, Liễu Đô, Mai Sơn,"
            " Minh Chuẩn, Minh Tiến, Minh Xuân, Mường Lai, Phan Thanh, Phúc Lợi, Tân Lập, Tân Lĩnh,"
            " Tân Phượng, Tô Mậu, Trúc Lâu, Vĩnh Lạc, Yên Thắng"
        ),
        sparse=True,
    ),
    District(
        "Yên Bình",
        "YBI",
        "huyen",
        OLD_YEN_BAI,
        False,
        _names("Thị trấn Yên Bình, Thị trấn Thác Bà"),
        _names(
            "Bạch Hà, Bảo Ái, Cảm Ân, Cảm Nhân, Đại Đồng, Đại Minh, Hán Đà, Mông Sơn, Mỹ Gia, Ngọc Chấn,"
            " Phú Thịnh, Phúc An, Phúc Ninh, Tân Hương, Tân Nguyên, Thịnh Hưng, Vĩnh Kiên, Vũ Linh,"
            " Xuân Lai, Xuân Long, Yên Thành"
        ),
        sparse=True,
    ),
)
BAT_XAT = District("Bát Xát", "BX", "huyen", OLD_LAO_CAI, True, (), ())
# A province small enough for tests (~100 schools): Bát Xát (old Lào Cai) and Trạm Tấu (old Yên Bái).
SMALL = ("Trạm Tấu",)
# Pre-reform units of other districts that the shipped post-reform communes absorbed
# (docs/organisation.md: Cốc San = Tòng Sành + Cốc San + Đồng Tuyển; third-party compilation).
SHIPPED_SUCCESSOR = {"Cốc San": "02746", "Đồng Tuyển": "02746"}
KNOWN_CODE = {"Cốc San": "02746"}  # the pre-2020 Bát Xát code, reused by the post-reform commune


@dataclass
class _Place:
    """A pre-reform town, ward or commune: as communes.csv writes it and as admin_units.csv does."""

    district: District
    written: str  # communes.csv's commune_name ("Thị trấn Mường Khương")
    kind: str  # thi_tran, phuong, xa
    code: str
    successor: str = ""  # code of the post-reform unit that absorbed it

    @property
    def name(self) -> str:
        return self.written.removeprefix("Thị trấn ")


@dataclass
class _Build:
    """What the files are written from."""

    places: list[_Place] = field(default_factory=list)
    new_communes: list[tuple[str, str]] = field(default_factory=list)  # (name, kind) after the reform
    admin: list[dict[str, str]] = field(default_factory=list)
    reporting: list[dict[str, str]] = field(default_factory=list)
    commune_unit: dict[str, str] = field(default_factory=dict)  # post-reform admin code -> unit code


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, columns: Sequence[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _slug(name: str) -> str:
    """'Mường Khương' -> 'MUONG_KHUONG' (reporting unit codes)."""
    return re.sub(r"[^A-Z0-9]+", "_", strip_diacritics(name).upper()).strip("_")


def _school_slug(name: str) -> str:
    return strip_diacritics(name).upper().replace(" ", "")


def districts_of(names: Sequence[str] | None) -> tuple[District, ...]:
    """The districts to build besides Bát Xát: all of them, or those named."""
    if names is None:
        return DISTRICTS
    unknown = set(names) - {d.name for d in DISTRICTS}
    if unknown:
        raise ValueError(f"unknown district(s): {', '.join(sorted(unknown))}")
    return tuple(d for d in DISTRICTS if d.name in names)


def write_province_reference(
    directory: Path,
    seed: int,
    source: Path = REFERENCE_DIR,
    *,
    districts: Sequence[str] | None = None,
) -> None:
    """Write the province's reference directory (every file of `source`, same columns):
    the shipped rows plus the other districts' units, mergers, offices, schools and assignments.
    `districts` limits the other districts to those named (tests use SMALL)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and path.name not in WRITTEN:
            shutil.copyfile(path, directory / path.name)
    chosen = districts_of(districts)

    communes = _read(source / "communes.csv")
    build = _Build()
    _add_pre_reform(build, communes, chosen)
    _write(directory / "communes.csv", COMMUNE_COLUMNS, communes)
    _merge(build, chosen)

    admin = _read(source / "admin_units.csv") + build.admin
    reporting = _read(source / "reporting_units.csv") + build.reporting
    for r in reporting:
        if r["kind"] == "ubnd_xa":
            build.commune_unit[r["admin_unit"]] = r["code"]
    _write(directory / "admin_units.csv", ADMIN_COLUMNS, admin)
    _write(directory / "reporting_units.csv", REPORTING_COLUMNS, reporting)
    letterheads = json.loads((source / "reporting_units.json").read_text(encoding="utf-8"))
    letterheads["kinds"].setdefault("phong_gddt", OFFICE_LETTERHEAD)
    (directory / "reporting_units.json").write_text(
        json.dumps(letterheads, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

    shipped_schools = _read(source / "schools.csv")
    contacts = {r["school_code"]: r for r in _read(source / "school_contacts.csv")}
    new, offices = _invent_schools(build.places, chosen, shipped_schools, seed)
    schools = shipped_schools + new
    _write(directory / "schools.csv", SCHOOL_COLUMNS, schools)
    _write(directory / "school_contacts.csv", CONTACT_COLUMNS, [_contact(s, contacts) for s in schools])
    assignments = _read(source / "school_units.csv")
    assignments += _assign(new, offices, build, admin)
    _write(directory / "school_units.csv", ASSIGNMENT_COLUMNS, assignments)
    contacts_rows = _read(source / "contacts.csv") if (source / "contacts.csv").is_file() else []
    contacts_rows += _contacts(build, new, contacts, reporting[len(_read(source / "reporting_units.csv")) :])
    _write(directory / "contacts.csv", CONTACTS_COLUMNS, contacts_rows)


def _add_pre_reform(build: _Build, communes: list[dict[str, str]], chosen: Sequence[District]) -> None:
    """The other districts' towns, wards and communes: into communes.csv (no end date, like
    Bát Xát's: it stays the pipeline's pre-reform view) and into build.places; Bát Xát's current
    communes into build.places too (they get invented schools besides the notice's)."""
    seen = {commune_key(n) for c in communes for n in (c["commune_name"], *c["aliases"].split("|")) if n}
    for c in communes:
        if not c["valid_to"]:
            build.places.append(_Place(BAT_XAT, c["commune_name"], c["kind"], ""))
    for district in chosen:
        entries = [(t, district.town_kind) for t in district.towns] + [(c, "xa") for c in district.communes]
        for i, (written, kind) in enumerate(entries, start=1):
            if commune_key(written) in seen:
                continue
            seen.add(commune_key(written))
            communes.append(
                {
                    "commune_name": written,
                    "kind": kind,
                    "district": district.name,
                    "valid_from": SINCE,
                    "valid_to": "",
                    "successor": "",
                    "aliases": "",
                    "verified": "no",
                }
            )
            place = _Place(district, written, kind, KNOWN_CODE.get(written, f"{district.code}{i:02d}"))
            build.places.append(place)


def _merge(build: _Build, chosen: Sequence[District]) -> None:
    """Districts, their offices, and the invented merger of each district's units into
    post-reform communes (groups of 2-4 neighbours in list order, wards with wards; the new unit
    takes its first member's name and code)."""
    for district in chosen:
        build.admin.append(
            {
                "code": district.code,
                "name": district.name,
                "kind": district.kind,
                "parent": district.province,
                "valid_from": SINCE,
                "valid_to": LAST_DAY,
                "successors": "",
                "aliases": "",
                "source": SAMPLE_NAME,
                "verified": "no",
            }
        )
        build.reporting.append(
            {
                "code": district.office,
                "name": f"Phòng Giáo dục và Đào tạo {district.label}",
                "kind": "phong_gddt",
                "admin_unit": district.code,
                "parent": "",
                "valid_from": SINCE,
                "valid_to": LAST_DAY,
                "schedule": "fortnightly",
                "emails": f"pgd.{_slug(district.name).lower().replace('_', '')}@example.org",
                "verified": "no",
            }
        )
        own = [p for p in build.places if p.district is district]
        for p in own:
            p.successor = SHIPPED_SUCCESSOR.get(p.written, "")
        rng = random.Random(f"province-reform:{district.name}")
        wards = [p for p in own if not p.successor and p.kind == "phuong"]
        rest = [p for p in own if not p.successor and p.kind != "phuong"]
        for members in (wards, rest):
            for group in _groups(members, rng):
                _new_commune(build, group)
        for p in own:
            build.admin.append(
                {
                    "code": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "parent": district.code,
                    "valid_from": SINCE,
                    "valid_to": LAST_DAY,
                    "successors": p.successor,
                    "aliases": "",
                    "source": SAMPLE_NAME,
                    "verified": "no",
                }
            )


def _groups(members: list[_Place], rng: random.Random) -> list[list[_Place]]:
    groups: list[list[_Place]] = []
    i = 0
    while i < len(members):
        size = rng.choice((2, 3, 3, 4, 4))
        if len(members) - (i + size) == 1:  # no commune is left alone at the end
            size += 1
        groups.append(members[i : i + size])
        i += size
    return groups


def _new_commune(build: _Build, group: list[_Place]) -> None:
    first = group[0]
    kind = "phuong" if first.kind == "phuong" else "xa"
    for p in group:
        p.successor = first.code
    build.new_communes.append((first.name, kind))
    build.admin.append(
        {
            "code": first.code,
            "name": first.name,
            "kind": kind,
            "parent": PROVINCE,
            "valid_from": REFORM,
            "valid_to": "",
            "successors": "",
            "aliases": "",
            "source": SAMPLE_MERGER + ": " + ", ".join(p.name for p in group),
            "verified": "no",
        }
    )
    label = KIND_LABEL[kind]
    build.reporting.append(
        {
            "code": f"{'PHUONG' if kind == 'phuong' else 'XA'}_{_slug(first.name)}",
            "name": f"Ủy ban nhân dân {label} {first.name}",
            "kind": "ubnd_xa",
            "admin_unit": first.code,
            "parent": DEPARTMENT,
            "valid_from": REFORM,
            "valid_to": "",
            "schedule": "fortnightly",
            "emails": f"vhxh.{_slug(first.name).lower().replace('_', '')}@example.org",
            "verified": "no",
        }
    )


def _invent_schools(
    places: list[_Place], chosen: Sequence[District], shipped: list[dict[str, str]], seed: int
) -> tuple[list[dict[str, str]], dict[str, District]]:
    """Invented schools: primary and lower-secondary ones per commune, and per district THPTs, a
    boarding THCS&THPT and a GDTX centre. Returns the rows and each new school's district."""
    rng = random.Random(f"{seed}:province")
    codes = {s["school_code"] for s in shipped}
    # What the notice's schools already cover, so Bát Xát does not get a second THCS in Y Tý.
    covered = {(s["commune"], "TH" if int(s["grade_min"]) <= 5 else "THCS") for s in shipped}
    covered |= {(s["commune"], "THCS") for s in shipped if int(s["grade_min"]) <= 9 <= int(s["grade_max"])}
    new: list[dict[str, str]] = []
    district_of: dict[str, District] = {}

    def add(
        code: str,
        name: str,
        kind: str,
        grades: tuple[int, int],
        commune: str,
        *,
        district: District,
        boarding: str,
    ) -> None:
        base, n = code, 2
        while code in codes:
            code, n = f"{base}{n}", n + 1
        codes.add(code)
        district_of[code] = district
        new.append(
            {
                "school_code": code,
                "name": name,
                "kind": kind,
                "grade_min": str(grades[0]),
                "grade_max": str(grades[1]),
                "commune": commune,
                "boarding": boarding,
                "valid_from": SINCE,
                "valid_to": "",
            }
        )

    for place in places:
        district, commune = place.district, place.written
        p, slug, short = district.prefix, _school_slug(place.name), place.name
        town = place.kind != "xa"
        if town:
            n_th, n_thcs, combined = rng.randint(3, 6), rng.randint(2, 3), False
            if district.sparse:
                n_th, n_thcs = max(1, n_th - 2), max(1, n_thcs - 1)
        else:
            # Mountain communes run several small primary schools, one per cluster of villages.
            choices = (1, 2, 2, 3) if district.sparse else (2, 3, 3, 4, 4)
            n_th, n_thcs, combined = rng.choice(choices), 1 + (rng.random() < 0.2), rng.random() < 0.4
        if (commune, "TH") in covered:
            n_th = max(0, n_th - 1)
        if (commune, "THCS") in covered:
            n_thcs, combined = 0, False
        semi = "ban_tru" if district.highland and not town and rng.random() < 0.7 else ""
        if combined:
            prefix = "PTDTBT " if semi else ""
            add(
                f"{p}-THTHCS-{slug}",
                f"Trường {prefix}TH&THCS {short}",
                "TH&THCS",
                (1, 9),
                commune,
                district=district,
                boarding=semi,
            )
            n_th -= 1
            n_thcs = 0
        for i in range(n_th):
            number = f" số {i + 1}" if n_th > 1 else ""
            add(
                f"{p}-TH-{slug}",
                f"Trường TH{number} {short}",
                "TH",
                (1, 5),
                commune,
                district=district,
                boarding="",
            )
        for i in range(n_thcs):
            number = f" số {i + 1}" if n_thcs > 1 else ""
            prefix = "PTDTBT " if semi else ""
            add(
                f"{p}-THCS-{slug}",
                f"Trường {prefix}THCS{number} {short}",
                "THCS",
                (6, 9),
                commune,
                district=district,
                boarding=semi,
            )

    for district in chosen:
        towns = [pl.written for pl in places if pl.district is district and pl.kind != "xa"]
        seat = towns[0]
        for i in range(rng.randint(2, 4) if district.prefix == "LC" else rng.randint(2, 3)):
            commune = "" if rng.random() < 0.1 else (seat if i == 0 else rng.choice(towns))
            add(
                f"{district.prefix}-THPT{i + 1}",
                f"Trường THPT số {i + 1} {district.name}",
                "THPT",
                (10, 12),
                commune,
                district=district,
                boarding="",
            )
        add(
            f"{district.prefix}-DTNT",
            f"Trường PTDTNT THCS&THPT {district.name}",
            "THCS&THPT",
            (6, 12),
            seat,
            district=district,
            boarding="noi_tru",
        )
        add(
            f"{district.prefix}-GDTX",
            f"Trung tâm GDNN-GDTX {district.label}",
            "GDTX",
            (10, 12),
            seat,
            district=district,
            boarding="",
        )
    return new, district_of


def _assign(
    schools: list[dict[str, str]],
    district_of: dict[str, District],
    build: _Build,
    admin: list[dict[str, str]],
) -> list[dict[str, str]]:
    """Each invented school's reporting unit: its district's office until 2025-06-30; from
    2025-07-01 its commune's People's Committee (TH, THCS, TH&THCS) or the department."""
    successor = {commune_key(p.written): p.successor for p in build.places if p.successor}
    # Bát Xát's pre-reform communes: the shipped admin_units.csv says who absorbed them.
    for row in admin:
        if row["valid_to"] == LAST_DAY and row["successors"] and row["kind"] != "huyen":
            for written in (row["name"], *row["aliases"].split("|")):
                if written:
                    successor.setdefault(commune_key(written), row["successors"].split("|")[0])
    rows = []
    for s in schools:
        code = s["school_code"]
        rows.append(_assignment(code, district_of[code].office, SINCE, LAST_DAY, OFFICE_BASIS))
        if s["kind"] in COMMUNE_SCHOOL_KINDS:
            unit = build.commune_unit[successor[commune_key(s["commune"])]]
            rows.append(_assignment(code, unit, REFORM, "", COMMUNE_BASIS))
        else:
            rows.append(_assignment(code, DEPARTMENT, REFORM, "", DEPARTMENT_BASIS))
    return rows


def _assignment(school: str, unit: str, start: str, end: str, basis: str) -> dict[str, str]:
    return {
        "school_code": school,
        "reporting_unit": unit,
        "valid_from": start,
        "valid_to": end,
        "basis": basis,
        "verified": "no",
    }


def _contacts(
    build: _Build,
    schools: list[dict[str, str]],
    shipped: dict[str, dict[str, str]],
    units: list[dict[str, str]],
) -> list[dict[str, str]]:
    """contacts.csv rows (invented, on example.org) for what the shipped file does not cover:
    the new schools (their school_contacts.csv address), the other districts' communes and
    police posts before and after the reform, their offices and post-reform units."""

    def row(kind: str, key: str, role: str, email: str, period: tuple[str, str]) -> dict[str, str]:
        start, end = period
        return {
            "recipient_kind": kind,
            "recipient_key": key,
            "role": role,
            "emails": email,
            "valid_from": start,
            "valid_to": end,
            "verified": "no",
        }

    def mailbox(name: str) -> str:
        return _slug(name).lower().replace("_", "")

    rows = []
    for s in schools:
        c = _contact(s, shipped)
        rows.append(row("school", s["school_code"], c["principal_title"], c["email"], (SINCE, "")))
    for p in build.places:
        if p.district is BAT_XAT:
            continue
        label = KIND_LABEL[p.kind]
        rows.append(
            row(
                "commune",
                p.written,
                f"Chủ tịch Ủy ban nhân dân {label}",
                f"ubnd.{mailbox(p.written)}@example.org",
                (SINCE, LAST_DAY),
            )
        )
        rows.append(
            row(
                "police",
                p.written,
                f"Trưởng Công an {label}",
                f"congan.{mailbox(p.written)}@example.org",
                (SINCE, LAST_DAY),
            )
        )
    for name, kind in build.new_communes:
        label, box = KIND_LABEL[kind], f"{kind.replace('_', '')}{mailbox(name)}"
        rows.append(
            row("commune", name, f"Chủ tịch Ủy ban nhân dân {label}", f"ubnd.{box}@example.org", (REFORM, ""))
        )
        rows.append(row("police", name, f"Trưởng Công an {label}", f"congan.{box}@example.org", (REFORM, "")))
    for unit in units:
        role = (
            "Trưởng phòng Giáo dục và Đào tạo"
            if unit["kind"] == "phong_gddt"
            else "Trưởng phòng Văn hóa – Xã hội"
        )
        rows.append(row("unit", unit["code"], role, unit["emails"], (unit["valid_from"], unit["valid_to"])))
    return rows


def _contact(school: dict[str, str], contacts: dict[str, dict[str, str]]) -> dict[str, str]:
    """The school's contact row: the shipped one, or an invented address on example.org."""
    if school["school_code"] in contacts:
        return contacts[school["school_code"]]
    title = "Giám đốc" if school["kind"] == "GDTX" else "Hiệu trưởng"
    email = school["school_code"].lower().replace("-", ".") + "@example.org"
    return {"school_code": school["school_code"], "email": email, "principal_title": title}
