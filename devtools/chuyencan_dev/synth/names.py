"""Names the way they look in Bát Xát: few clan surnames, near-constant middle names.

Collisions are the point: the police matcher must cope with dozens of "Giàng A Páo" in one
commune, so the lists below are deliberately short and weighted towards the common clans.
Siblings share the father's surname; Mông boys get "A"/"Seo", girls "Thị"; Dao brothers share a
generational name; Hà Nhì children carry the father's given name as their middle name.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from chuyencan.core.text import fold, strip_diacritics

MONG, DAO, KINH, GIAY, HA_NHI, PHU_LA, XA_PHO = "Mông", "Dao", "Kinh", "Giáy", "Hà Nhì", "Phù Lá", "Xá Phó"
ETHNIC_GROUPS = (MONG, DAO, KINH, GIAY, HA_NHI, PHU_LA, XA_PHO)
MINORITIES = frozenset(ETHNIC_GROUPS) - {KINH}

# How schools write the ethnicity column; the first spelling is the usual one.
ETHNIC_SPELLINGS: dict[str, tuple[str, ...]] = {
    MONG: ("Mông", "H'Mông", "Hmông"),
    DAO: ("Dao", "Dao đỏ"),
    KINH: ("Kinh",),
    GIAY: ("Giáy",),
    HA_NHI: ("Hà Nhì",),
    PHU_LA: ("Phù Lá",),
    XA_PHO: ("Xá Phó",),
}


class Weighted:
    """A weighted choice drawn by bisection: the population builder draws millions of these."""

    __slots__ = ("_cum", "_total", "names")

    def __init__(self, names: tuple[str, ...], weights: tuple[float, ...]) -> None:
        self.names = names
        self._cum = list(accumulate(weights))
        self._total = self._cum[-1]

    def draw(self, rng: random.Random) -> str:
        return self.names[bisect_right(self._cum, rng.random() * self._total)]

    @classmethod
    def of(cls, weights: dict[str, float]) -> Weighted:
        return cls(tuple(weights), tuple(weights.values()))


@dataclass(frozen=True)
class NameStock:
    surnames: Weighted
    male_middles: Weighted
    male_given: tuple[str, ...]
    female_middles: Weighted
    female_given: tuple[str, ...]


def _words(spec: str) -> tuple[str, ...]:
    return tuple(spec.split(" "))


def _weighted(spec: str) -> Weighted:
    """'Giàng 22, Sùng 15, - 5' -> a Weighted choice of "Giàng", "Sùng" and "" (no name)."""
    names, weights = [], []
    for item in spec.split(","):
        name, weight = item.strip().rsplit(maxsplit=1)
        names.append("" if name == "-" else name)
        weights.append(float(weight))
    return Weighted(tuple(names), tuple(weights))


_STOCK: dict[str, NameStock] = {
    MONG: NameStock(
        surnames=_weighted(
            "Giàng 22, Sùng 15, Vàng 15, Lý 12, Thào 10, Hầu 6, Lù 6, Ly 5, Má 4, Cứ 3, Mùa 2"
        ),
        male_middles=_weighted("A 45, Seo 35, Văn 10, Mí 5, - 5"),
        male_given=_words(
            "Páo Chứ Dinh Sử Lử Sì Cở Chư Dế Tủa Vừ Lồng Thề Chơ Pó Sình Phử Dìn Nủ Sang Sà Tráng Chính Khua Lềnh Giống Mua Dùng"
        ),
        female_middles=_weighted("Thị 92, - 8"),
        female_given=_words("Mỷ Dợ Sua Mai Pà Say Dung Súa Mỉ Xúa Chi Sinh Vá Dính Sú Lìa Dua Ca Chở Ly Xí"),
    ),
    DAO: NameStock(
        surnames=_weighted("Tẩn 25, Chảo 20, Phàn 18, Lý 15, Triệu 8, Đặng 6, Bàn 5, Lò 3"),
        male_middles=_weighted("Láo 20, Ông 15, Quẩy 12, Vần 10, Phủ 10, Kiềm 8, Diếu 8, Chàn 7, Văn 10"),
        male_given=_words(
            "San Lở Tả Pao Chài Quang Sành Dần Vảng Phin Chỉn Phẩy Chiêu Xuân Lai Sinh Dụ Cáo Kháy"
        ),
        female_middles=_weighted("Thị 45, Mẩy 20, Mùi 15, Sử 10, Lở 10"),
        female_given=_words("Xuân Lở Phây Dếnh Liều Nái Tá Chạ Sai Chòi Kiều Mai Dín Lụa Mẩy"),
    ),
    KINH: NameStock(
        surnames=_weighted(
            "Nguyễn 35, Trần 11, Lê 9, Phạm 7, Hoàng 6, Vũ 5, Đỗ 4, Bùi 4, Đặng 4, Ngô 3, Dương 3, Lương 3, Đinh 3, Hà 3"
        ),
        male_middles=_weighted("Văn 35, Đức 15, Minh 15, Quang 10, Hữu 8, Thành 7, Ngọc 5, Trung 5"),
        male_given=_words(
            "Anh Hùng Dũng Tuấn Minh Long Nam Hải Phúc Khánh Đức Huy Quân Bảo Sơn Thắng Toàn Việt Hiếu Kiên Duy Đạt Trung Tùng"
        ),
        female_middles=_weighted("Thị 45, Thu 10, Thanh 10, Ngọc 10, Thùy 10, Phương 8, Minh 7"),
        female_given=_words(
            "Lan Hương Trang Linh Mai Hà Ngọc Thảo Huyền Nhung Yến Vy Hoa Anh Hằng Nga Giang Quỳnh Vân Thủy"
        ),
    ),
    GIAY: NameStock(
        surnames=_weighted(
            "Hoàng 20, Lò 15, Vương 12, Lù 10, Lồ 8, Vàng 8, Sần 7, Lục 6, Nông 5, Lý 5, Giàng 4"
        ),
        male_middles=_weighted("Văn 85, Seo 5, Minh 5, - 5"),
        male_given=_words(
            "Chiến Pín Seng Sinh Thành Chúng Lử Dũng Hùng Sáng Chính Phong Tài Phúc Cường Vượng"
        ),
        female_middles=_weighted("Thị 90, Thu 5, Minh 5"),
        female_given=_words("Hoa Tiên Giang Mai Phương Dung Sen Nhàn Nhung Lan Hạnh Thơm Xuân"),
    ),
    HA_NHI: NameStock(
        surnames=_weighted("Chu 25, Pờ 15, Ly 15, Lỳ 10, Phu 8, Ma 7, Lò 6, Sừ 5, Hù 5, Chang 4"),
        male_middles=_weighted("Xá 10, Gơ 10, Chừ 10, Lé 10, Chà 10, Ló 10, Sơ 10, Pa 10, Hừ 10, Cà 10"),
        male_given=_words("Xá Gơ Chừ Lé Chà Ló Sơ Pa Nhè Hừ Cà Lử Phì Mò Gạ Dì Thó Xe Mé"),
        female_middles=_weighted("Thị 50, Mé 20, Mò 15, Xí 15"),
        female_given=_words("Mi Xé Gạ Phà Lơ Sừ Mé Chu Ca Gò Xí Pó Lé"),
    ),
    PHU_LA: NameStock(
        surnames=_weighted("Pờ 25, Lồ 15, Sần 15, Ly 10, Má 10, Lù 10, Vàng 8, Hoàng 7"),
        male_middles=_weighted("Văn 60, Seo 25, A 10, - 5"),
        male_given=_words("Chỉn Sơn Lình Sáng Phẩy Pảo Lử Chẩn Dần Quang Thành Tỉnh Sính"),
        female_middles=_weighted("Thị 95, - 5"),
        female_given=_words("Mai Sinh Phương Lả Sen Xuân Lan Dung Chi Nga Hoa"),
    ),
    XA_PHO: NameStock(
        surnames=_weighted("Pờ 30, Lồ 20, Sần 20, Ma 10, Vàng 10, Lùng 10"),
        male_middles=_weighted("Văn 55, Seo 30, - 15"),
        male_given=_words("Chỉn Sơn Lình Sáng Pảo Lử Chẩn Dần Sính Chu Phử"),
        female_middles=_weighted("Thị 95, - 5"),
        female_given=_words("Mai Sinh Lả Sen Lan Dung Chi Mỷ Dín"),
    ),
}

# Spelling drift between agencies (police side), both directions where both exist.
SURNAME_VARIANTS: dict[str, str] = {
    "Lý": "Ly",
    "Ly": "Lý",
    "Giàng": "Giang",
    "Phàn": "Bàn",
    "Bàn": "Phàn",
    "Sùng": "Xùng",
    "Thào": "Thao",
    "Tẩn": "Tần",
    "Chảo": "Chào",
    "Lỳ": "Ly",
    "Pờ": "Pơ",
    "Lồ": "Lò",
    "Vàng": "Vàn",
}

# Ethnic mix of each commune of Bát Xát (approximate, for sample data only).
_BAT_XAT_MIX: dict[str, dict[str, float]] = {
    "Thị trấn Bát Xát": {KINH: 50, GIAY: 20, DAO: 12, MONG: 8, HA_NHI: 3, PHU_LA: 4, XA_PHO: 3},
    "Quang Kim": {GIAY: 35, KINH: 25, DAO: 25, MONG: 10, XA_PHO: 5},
    "A Mú Sung": {HA_NHI: 35, DAO: 30, MONG: 30, GIAY: 5},
    "A Lù": {HA_NHI: 45, MONG: 35, DAO: 20},
    "Ngải Thầu": {HA_NHI: 45, MONG: 35, DAO: 20},
    "Y Tý": {HA_NHI: 40, MONG: 45, DAO: 15},
    "Sàng Ma Sáo": {DAO: 55, MONG: 35, GIAY: 10},
    "Nậm Pung": {DAO: 45, MONG: 30, GIAY: 25},
    "Dền Thàng": {DAO: 40, MONG: 40, GIAY: 20},
    "Bản Xèo": {MONG: 45, DAO: 25, PHU_LA: 20, GIAY: 10},
    "Cốc Mỳ": {DAO: 40, GIAY: 20, HA_NHI: 20, MONG: 10, PHU_LA: 10},
    "Mường Hum": {GIAY: 30, DAO: 30, MONG: 30, HA_NHI: 10},
    "Trịnh Tường": {DAO: 30, GIAY: 30, HA_NHI: 20, MONG: 10, KINH: 10},
    "Phìn Ngan": {MONG: 40, DAO: 40, GIAY: 20},
    "Bản Qua": {GIAY: 35, KINH: 30, DAO: 15, XA_PHO: 10, MONG: 10},
    "Bản Vược": {GIAY: 30, KINH: 30, DAO: 20, XA_PHO: 10, MONG: 10},
    "Mường Vi": {GIAY: 40, KINH: 20, DAO: 20, MONG: 20},
    "Pa Cheo": {DAO: 40, PHU_LA: 30, MONG: 30},
    "Tòng Sành": {DAO: 40, GIAY: 30, KINH: 30},
    "Trung Lèng Hồ": {MONG: 70, DAO: 20, GIAY: 10},
    "Nậm Chạc": {DAO: 40, MONG: 30, GIAY: 30},
    "Dền Sáng": {DAO: 40, MONG: 40, HA_NHI: 20},
}
_HIGHLAND_MIX: dict[str, float] = {MONG: 50, DAO: 20, GIAY: 10, KINH: 8, PHU_LA: 7, HA_NHI: 5}
_MIDLAND_MIX: dict[str, float] = {KINH: 35, DAO: 30, MONG: 20, GIAY: 10, PHU_LA: 5}
_LOWLAND_MIX: dict[str, float] = {KINH: 70, GIAY: 10, DAO: 10, MONG: 5, PHU_LA: 5}
_DISTRICT_MIX: dict[str, dict[str, float]] = {
    "Bát Xát": _HIGHLAND_MIX,
    "Mường Khương": _HIGHLAND_MIX,
    "Si Ma Cai": _HIGHLAND_MIX,
    "Bắc Hà": _HIGHLAND_MIX,
    "Sa Pa": _HIGHLAND_MIX,
    "Văn Bàn": _MIDLAND_MIX,
    "Bảo Yên": _MIDLAND_MIX,
    "Bảo Thắng": _LOWLAND_MIX,
    "Lào Cai": _LOWLAND_MIX,
}


def commune_mix(commune: str, district: str, kind: str) -> dict[str, float]:
    """Ethnic weights for a commune: known ones from the table, others by district and kind."""
    if commune in _BAT_XAT_MIX:
        return _BAT_XAT_MIX[commune]
    if kind in ("thi_tran", "phuong"):
        return _LOWLAND_MIX
    base = _DISTRICT_MIX.get(district, _MIDLAND_MIX)
    # Vary communes of one district a little, stably per commune name.
    rng = random.Random(f"mix:{commune}")
    return {group: weight * rng.uniform(0.5, 1.5) for group, weight in base.items()}


def join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


@dataclass
class Family:
    """What siblings share: ethnicity, surname, the father's given name, Dao generation name."""

    ethnicity: str
    surname: str
    father_given: str
    generation: str


class NameMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def stock(self, ethnicity: str) -> NameStock:
        return _STOCK[ethnicity]

    def father(self, ethnicity: str) -> tuple[Family, tuple[str, str, str]]:
        st = self.stock(ethnicity)
        surname = st.surnames.draw(self.rng)
        given = self.rng.choice(st.male_given)
        middle = st.male_middles.draw(self.rng)
        if middle == given:
            middle = ""
        generation = st.male_middles.draw(self.rng) if ethnicity == DAO else ""
        return Family(ethnicity, surname, given, generation), (surname, middle, given)

    def spouse(self, family: Family, ethnicity: str | None = None) -> tuple[str, str, str]:
        """A wife from another clan (Mông and Dao clans are exogamous; others mostly too)."""
        st = self.stock(ethnicity or family.ethnicity)
        surname = family.surname
        for _ in range(5):
            surname = st.surnames.draw(self.rng)
            if surname != family.surname:
                break
        middle = st.female_middles.draw(self.rng)
        given = self.rng.choice(st.female_given)
        if fold(middle) == fold(given):
            middle = "Thị"
        return surname, middle, given

    def child(self, family: Family, female: bool) -> tuple[str, str, str]:
        st = self.stock(family.ethnicity)
        rng = self.rng
        if female:
            if family.ethnicity == HA_NHI and rng.random() < 0.5:
                middle = family.father_given
            else:
                middle = st.female_middles.draw(rng)
            given = rng.choice(st.female_given)
        else:
            if family.ethnicity == HA_NHI:
                middle = family.father_given
            elif family.ethnicity == DAO:
                middle = family.generation if rng.random() < 0.85 else st.male_middles.draw(rng)
            else:
                middle = st.male_middles.draw(rng)
            given = rng.choice(st.male_given)
        if fold(middle) == fold(given):
            middle = "Thị" if female else ""
        return family.surname, middle, given

    def elder(self, ethnicity: str, female: bool) -> tuple[str, str, str]:
        st = self.stock(ethnicity)
        if female:
            return (
                st.surnames.draw(self.rng),
                st.female_middles.draw(self.rng),
                self.rng.choice(st.female_given),
            )
        return st.surnames.draw(self.rng), st.male_middles.draw(self.rng), self.rng.choice(st.male_given)


# -- villages --------------------------------------------------------------------------------

_VILLAGE_FIRST = (
    "Lao",
    "Sín",
    "Tả",
    "Phìn",
    "Lũng",
    "Nậm",
    "Cán",
    "Séo",
    "Choán",
    "Mò",
    "Ngải",
    "Trung",
    "Ngan",
    "Khu",
    "Làng",
    "Bản",
    "Cốc",
    "Mường",
    "Suối",
    "Na",
    "Pờ",
    "Kin",
    "Sảng",
)
_VILLAGE_SECOND = (
    "Chải",
    "Thàng",
    "Hồ",
    "Pô",
    "Ngài",
    "Phìn",
    "Sáng",
    "Sủ",
    "Tiến",
    "Chồ",
    "Dền",
    "Mú",
    "Lầu",
    "Giàng",
    "Pho",
    "Chùa",
    "Pan",
    "Chéng",
    "Xà",
    "Cang",
    "Lìn",
    "Thèn",
    "Vược",
    "Mới",
)


def villages(commune: str, kind: str, rng: random.Random) -> list[str]:
    """Villages (thôn/bản) of a commune; towns and wards have numbered residential groups."""
    if kind in ("thi_tran", "phuong"):
        return [f"Tổ dân phố {n}" for n in range(1, rng.randint(6, 12) + 1)]
    count = rng.randint(6, 14)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        name = f"{rng.choice(_VILLAGE_FIRST)} {rng.choice(_VILLAGE_SECOND)}"
        if fold(name) not in seen:
            seen.add(fold(name))
            out.append(name)
    if rng.random() < 0.3:
        # Villages split in two carry "Thượng"/"Hạ" (upper/lower), a classic near-collision.
        base = out[0]
        out[0] = f"{base} Thượng"
        out.append(f"{base} Hạ")
    return out


# -- noise the police side adds ---------------------------------------------------------------

_TYPO_LETTERS = "aeiouynghtcmsl"


def typo(name: str, rng: random.Random) -> str:
    """One-letter slip: delete, double or replace a letter inside a word (never the first)."""
    positions = [i for i, ch in enumerate(name) if ch.isalpha() and i > 0 and name[i - 1] != " "]
    if not positions:
        return name
    i = rng.choice(positions)
    op = rng.random()
    if op < 0.34:
        return name[:i] + name[i + 1 :]
    if op < 0.67:
        return name[:i] + name[i] + name[i:]
    letter = rng.choice(_TYPO_LETTERS.replace(strip_diacritics(name[i]).lower(), ""))
    return name[:i] + letter + name[i + 1 :]


def drop_middle(parts: tuple[str, str, str]) -> tuple[str, str, str]:
    return parts[0], "", parts[2]
