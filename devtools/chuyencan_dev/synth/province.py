"""A province-sized reference (about 700 schools over about 150 communes) for benchmarks.

Province schools are not in the shipped reference, so `--scale province` writes its own
reference/ directory in exactly the columns of include/reference and the pipeline is pointed at
it. The district's own communes and the 14 schools of the notice are copied as they are; the
other districts of Lào Cai get their (pre-2025) commune names and invented schools.
"""

from __future__ import annotations

import csv
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from chuyencan.core.reference import REFERENCE_DIR, commune_key
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


@dataclass(frozen=True)
class District:
    name: str
    prefix: str  # school code prefix
    label: str  # how the GDTX centre names its district: "huyện X", "thị xã X", "thành phố X"
    highland: bool
    towns: tuple[str, ...]  # thị trấn (or wards for a city / town)
    communes: tuple[str, ...]


def _names(spec: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in spec.split(",") if n.strip())


# Lào Cai's districts and communes before the 2025 merger. Names that fold to the same key as
# another commune are dropped when the reference is built, since the pipeline matches folded.
DISTRICTS = (
    District(
        "Lào Cai",
        "LC",
        "thành phố Lào Cai",
        False,
        _names(
            "Bắc Cường, Bắc Lệnh, Bình Minh, Cốc Lếu, Duyên Hải, Kim Tân, Lào Cai, Nam Cường, Pom Hán,"
            " Xuân Tăng, Thống Nhất"
        ),
        _names("Cam Đường, Đồng Tuyển, Hợp Thành, Tả Phời, Vạn Hòa"),
    ),
    District(
        "Mường Khương",
        "MK",
        "huyện Mường Khương",
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
        "huyện Si Ma Cai",
        True,
        _names("Thị trấn Si Ma Cai"),
        _names(
            "Bản Mế, Cán Cấu, Lùng Thẩn, Nàn Sán, Nàn Sín, Quan Hồ Thẩn, Sán Chải, Sín Chéng, Thào Chư Phìn"
        ),
    ),
    District(
        "Bắc Hà",
        "BH",
        "huyện Bắc Hà",
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
        "huyện Bảo Thắng",
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
        "huyện Bảo Yên",
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
        "thị xã Sa Pa",
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
        "huyện Văn Bàn",
        False,
        _names("Thị trấn Khánh Yên"),
        _names(
            "Chiềng Ken, Dần Thàng, Dương Quỳ, Hòa Mạc, Khánh Yên Hạ, Khánh Yên Thượng, Khánh Yên Trung,"
            " Làng Giàng, Liêm Phú, Minh Lương, Nậm Chày, Nậm Dạng, Nậm Xây, Nậm Xé, Sơn Thủy, Tân An,"
            " Tân Thượng, Thẩm Dương, Võ Lao"
        ),
    ),
)
BAT_XAT = District("Bát Xát", "BX", "huyện Bát Xát", True, (), ())


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _slug(name: str) -> str:
    return strip_diacritics(name).upper().replace(" ", "")


def write_province_reference(directory: Path, seed: int, source: Path = REFERENCE_DIR) -> None:
    """Write schools.csv, school_contacts.csv, communes.csv and calendar.csv into directory."""
    rng = random.Random(f"{seed}:province")
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "calendar.csv", directory / "calendar.csv")

    communes = _read(source / "communes.csv")
    places = _add_province_communes(communes)
    _write(directory / "communes.csv", COMMUNE_COLUMNS, communes)

    schools = _read(source / "schools.csv")
    contacts = {r["school_code"]: r for r in _read(source / "school_contacts.csv")}
    codes = {s["school_code"] for s in schools}
    # What the notice's schools already cover, so Bát Xát does not get a second THCS in Y Tý.
    covered = {(s["commune"], "TH" if int(s["grade_min"]) <= 5 else "THCS") for s in schools}
    covered |= {(s["commune"], "THCS") for s in schools if int(s["grade_min"]) <= 9 <= int(s["grade_max"])}
    new: list[dict[str, str]] = []

    def add(code: str, name: str, kind: str, grades: tuple[int, int], commune: str, *, boarding: str) -> None:
        base, n = code, 2
        while code in codes:
            code, n = f"{base}{n}", n + 1
        codes.add(code)
        new.append(
            {
                "school_code": code,
                "name": name,
                "kind": kind,
                "grade_min": str(grades[0]),
                "grade_max": str(grades[1]),
                "commune": commune,
                "boarding": boarding,
                "valid_from": "2000-01-01",
                "valid_to": "",
            }
        )

    for district, commune, kind in places:
        p, slug = district.prefix, _slug(commune.removeprefix("Thị trấn "))
        short = commune.removeprefix("Thị trấn ")
        town = kind != "xa"
        if town:
            n_th, n_thcs, combined = rng.randint(3, 6), rng.randint(2, 3), False
        else:
            # Mountain communes run several small primary schools, one per cluster of villages.
            n_th, n_thcs, combined = rng.choice((2, 3, 3, 4, 4)), 1 + (rng.random() < 0.2), rng.random() < 0.4
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
                boarding=semi,
            )
            n_th -= 1
            n_thcs = 0
        for i in range(n_th):
            number = f" số {i + 1}" if n_th > 1 else ""
            add(f"{p}-TH-{slug}", f"Trường TH{number} {short}", "TH", (1, 5), commune, boarding="")
        for i in range(n_thcs):
            number = f" số {i + 1}" if n_thcs > 1 else ""
            prefix = "PTDTBT " if semi else ""
            add(
                f"{p}-THCS-{slug}",
                f"Trường {prefix}THCS{number} {short}",
                "THCS",
                (6, 9),
                commune,
                boarding=semi,
            )

    for district in DISTRICTS:
        towns = [name for d, name, kind in places if d is district and kind != "xa"]
        seat = towns[0]
        for i in range(rng.randint(2, 4) if district.prefix == "LC" else rng.randint(2, 3)):
            commune = "" if rng.random() < 0.1 else (seat if i == 0 else rng.choice(towns))
            add(
                f"{district.prefix}-THPT{i + 1}",
                f"Trường THPT số {i + 1} {district.name}",
                "THPT",
                (10, 12),
                commune,
                boarding="",
            )
        add(
            f"{district.prefix}-DTNT",
            f"Trường PTDTNT THCS&THPT {district.name}",
            "THCS&THPT",
            (6, 12),
            seat,
            boarding="noi_tru",
        )
        add(
            f"{district.prefix}-GDTX",
            f"Trung tâm GDNN-GDTX {district.label}",
            "GDTX",
            (10, 12),
            seat,
            boarding="",
        )

    schools.extend(new)
    _write(directory / "schools.csv", SCHOOL_COLUMNS, schools)
    _write(directory / "school_contacts.csv", CONTACT_COLUMNS, [_contact(s, contacts) for s in schools])


def _add_province_communes(communes: list[dict[str, str]]) -> list[tuple[District, str, str]]:
    """Add the other districts' towns and communes to `communes` (Bát Xát's are there); return
    (district, commune, kind) of every current commune, the places that get invented schools."""
    seen = {commune_key(n) for c in communes for n in (c["commune_name"], *c["aliases"].split("|")) if n}
    places: list[tuple[District, str, str]] = [
        (BAT_XAT, c["commune_name"], c["kind"]) for c in communes if not c["valid_to"]
    ]
    for district in DISTRICTS:
        town_kind = "phuong" if district.label.startswith(("thành phố", "thị xã")) else "thi_tran"
        for name, kind in [(t, town_kind) for t in district.towns] + [(c, "xa") for c in district.communes]:
            if commune_key(name) in seen:
                continue
            seen.add(commune_key(name))
            communes.append(
                {
                    "commune_name": name,
                    "kind": kind,
                    "district": district.name,
                    "valid_from": "2000-01-01",
                    "valid_to": "",
                    "successor": "",
                    "aliases": "",
                    "verified": "no",
                }
            )
            places.append((district, name, kind))
    return places


def _contact(school: dict[str, str], contacts: dict[str, dict[str, str]]) -> dict[str, str]:
    """The school's contact row: the shipped one, or an invented address on example.org."""
    if school["school_code"] in contacts:
        return contacts[school["school_code"]]
    title = "Giám đốc" if school["kind"] == "GDTX" else "Hiệu trưởng"
    email = school["school_code"].lower().replace("-", ".") + "@example.org"
    return {"school_code": school["school_code"], "email": email, "principal_title": title}
