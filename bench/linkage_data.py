"""Cases and police household records with ground truth, for bench/linkage.py.

    generate(n_cases, n_residents, seed) -> LinkageData

Communes of about 13,000 people with the ethnic mix of Bát Xát's highland communes
(chuyencan_dev.synth.names); households of a father, a mother, children (siblings share surname,
father and village; a few twins), sometimes a grandparent as head. Cases are school-age
children as the school writes them (correct spelling; a personal ID for 70 %, 3 % of those
mistyped and 1 % the sibling's; the father's name for 65 %, the mother's for 25 %, none for
10 %). Police records carry the noise: diacritics dropped in 30 % of households, one-letter typos
(5 %), clan-name variants (8 % of variant-prone surnames), dropped middle names (4 %), word order
(2 %), wrong birth dates (3 %: day/month swapped, ±1 year, a few days off), year-only birth dates
(6 %, 25 % of people born before 1975), missing villages (5 %) and IDs (8 %). 5 % of the cases'
students are not in the household books at all.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devtools"))

from chuyencan.core.text import strip_diacritics
from chuyencan.police.match_step import MATCHER_CASE_COLUMNS, MATCHER_RESIDENT_COLUMNS
from chuyencan_dev.synth import names as nm

COMMUNE_SIZE = 13_000
SCHOOL_YEAR = 2024
ABSENT_SHARE = 0.05
CASE_ID_SHARE = 0.70
CASE_ID_TYPO = 0.03
CASE_ID_SIBLING = 0.01
TWIN_SHARE = 0.015
REL_HEAD, REL_WIFE, REL_CHILD, REL_GRANDCHILD = "Chủ hộ", "Vợ", "Con", "Cháu"
REL_DAUGHTER_IN_LAW, REL_FATHER, REL_MOTHER = "Con dâu", "Bố", "Mẹ"


@dataclass
class LinkageData:
    cases: pd.DataFrame
    residents: pd.DataFrame
    truth: pd.Series  # case_id -> resident_id, None when the student is not in the books


def _commune_names(count: int, rng: random.Random) -> list[str]:
    known = [c for c in nm._BAT_XAT_MIX if c != "Thị trấn Bát Xát"]
    out = known[:count]
    seen = set(out)
    while len(out) < count:
        name = f"{rng.choice(nm._VILLAGE_FIRST)} {rng.choice(nm._VILLAGE_SECOND)}"
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


class _People:
    """Column lists of every generated person (true values)."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str, str]] = []
        self.female: list[bool] = []
        self.birth: list[date] = []
        self.relation: list[str] = []
        self.household: list[int] = []
        self.commune: list[str] = []
        self.village: list[str] = []
        self.ethnicity: list[str] = []
        # per household
        self.head: list[int] = []
        self.father: list[int] = []
        self.mother: list[int] = []
        self.members: list[list[int]] = []

    def add(
        self, hh: int, parts, female: bool, birth: date, relation: str, *, home: tuple[str, str, str]
    ) -> int:
        self.parts.append(parts)
        self.female.append(female)
        self.birth.append(birth)
        self.relation.append(relation)
        self.household.append(hh)
        commune, village, eth = home
        self.commune.append(commune)
        self.village.append(village)
        self.ethnicity.append(eth)
        self.members[hh].append(len(self.parts) - 1)
        return len(self.parts) - 1


def _day(year: int, rng: random.Random) -> date:
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _household(p: _People, home: tuple[str, str, str], names: nm.NameMaker, rng: random.Random) -> None:
    """One household at home = (commune, village, ethnicity)."""
    eth = home[2]
    hh = len(p.members)
    p.members.append([])
    family, father_parts = names.father(eth)
    father_year = rng.randint(1962, 2000)
    mother_year = father_year + rng.randint(0, 5)
    head_kind = rng.choices(("father", "mother", "grandfather"), weights=(88, 7, 5))[0]
    kid_rel = REL_GRANDCHILD if head_kind == "grandfather" else REL_CHILD
    head = -1
    if head_kind == "grandfather" or rng.random() < 0.2:
        g_female = head_kind != "grandfather" and rng.random() < 0.6
        g_parts = names.elder(eth, True) if g_female else (family.surname, *names.elder(eth, False)[1:])
        g_rel = REL_HEAD if head_kind == "grandfather" else (REL_MOTHER if g_female else REL_FATHER)
        g = p.add(hh, g_parts, g_female, _day(father_year - rng.randint(20, 28), rng), g_rel, home=home)
        if head_kind == "grandfather":
            head = g
    f_rel = REL_CHILD if head_kind == "grandfather" else (REL_HEAD if head_kind == "father" else "Chồng")
    father = p.add(hh, father_parts, False, _day(father_year, rng), f_rel, home=home)
    m_rel = {"father": REL_WIFE, "mother": REL_HEAD, "grandfather": REL_DAUGHTER_IN_LAW}[head_kind]
    mother = p.add(hh, names.spouse(family), True, _day(mother_year, rng), m_rel, home=home)
    head = {"father": father, "mother": mother}.get(head_kind, head)
    first = mother_year + rng.randint(18, 24)
    count = rng.choices((1, 2, 3, 4, 5), weights=(20, 30, 25, 15, 10))[0]
    years = sorted({min(first + rng.randint(0, 16), SCHOOL_YEAR) for _ in range(count)})
    given_seen: set[str] = set()
    for year in years:
        female = rng.random() < 0.49
        births = [_day(year, rng)]
        if rng.random() < TWIN_SHARE:
            births.append(births[0])  # twins: same day, their own names
        for birth in births:
            parts = names.child(family, female)
            for _ in range(5):
                if parts[2] not in given_seen:
                    break
                parts = names.child(family, female)
            given_seen.add(parts[2])
            p.add(hh, parts, female, birth, kid_rel, home=home)
    p.head.append(head)
    p.father.append(father)
    p.mother.append(mother)


def _population(n_people: int, seed: int) -> _People:
    rng = random.Random(f"{seed}:linkage-population")
    names = nm.NameMaker(rng)
    n_communes = max(1, round(n_people / COMMUNE_SIZE))
    communes = _commune_names(n_communes, rng)
    people = _People()
    for i, commune in enumerate(communes):
        villages = nm.villages(commune, "xa", rng)
        mix = nm.Weighted.of(nm.commune_mix(commune, "Bát Xát", "xa"))
        target = n_people * (i + 1) // n_communes
        while len(people.parts) < target:
            _household(people, (commune, rng.choice(villages), mix.draw(rng)), names, rng)
    return people


def _personal_ids(p: _People, seed: int) -> np.ndarray:
    """Unique structured IDs: province 010, century/sex digit, two-digit year, serial."""
    rng = np.random.default_rng([seed, 71])
    year = np.array([b.year for b in p.birth])
    female = np.array(p.female, dtype=np.int64)
    prefix = 10_000 + ((year // 100 - 19) * 2 + female) * 100 + year % 100  # '010' + digit + yy
    ids = np.zeros(len(year), dtype=np.int64)
    for value in np.unique(prefix):
        rows = np.flatnonzero(prefix == value)
        ids[rows] = value * 1_000_000 + rng.choice(1_000_000, size=len(rows), replace=False)
    return np.array([f"{v:012d}" for v in ids], dtype=object)


def _mistype(pid: str, rng: random.Random) -> str:
    digits = list(pid)
    if rng.random() < 0.3:
        i = rng.randrange(len(digits) - 1)
        if digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            return "".join(digits)
    i = rng.randrange(3, len(digits))
    digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
    return "".join(digits)


def _birth_error(birth: date, rng: random.Random) -> date:
    if birth.day <= 12 and birth.day != birth.month and rng.random() < 0.4:
        return date(birth.year, birth.day, birth.month)
    if rng.random() < 0.5:
        return birth.replace(year=birth.year + rng.choice((-1, 1)), day=min(birth.day, 28))
    return birth + timedelta(days=rng.choice((-3, -2, -1, 1, 2, 3)))


def _police_names(p: _People, seed: int) -> list[str]:
    rng = random.Random(f"{seed}:linkage-police-names")
    u = np.random.default_rng([seed, 72]).random((len(p.parts), 4))
    stripped = np.random.default_rng([seed, 73]).random(len(p.members)) < 0.30
    out = []
    for i, (true_surname, true_middle, given) in enumerate(p.parts):
        r = u[i]
        surname, middle = true_surname, true_middle
        if r[0] < 0.08 and surname in nm.SURNAME_VARIANTS:
            surname = nm.SURNAME_VARIANTS[surname]
        if r[1] < 0.04:
            middle = ""
        text = nm.join(surname, given, middle) if r[2] < 0.02 and middle else nm.join(surname, middle, given)
        if r[3] < 0.05:
            text = nm.typo(text, rng)
        if stripped[p.household[i]]:
            text = strip_diacritics(text)
        out.append(text)
    return out


def generate(n_cases: int, n_residents: int, seed: int = 7) -> LinkageData:
    n_absent = round(n_cases * ABSENT_SHARE)
    p = _population(n_residents + n_absent, seed)
    n = len(p.parts)
    rng = random.Random(f"{seed}:linkage-cases")
    ids = _personal_ids(p, seed)
    u = np.random.default_rng([seed, 74]).random((n, 4))

    # Cases: school-age children (6-18 at the start of the school year).
    age = SCHOOL_YEAR - np.array([b.year for b in p.birth])
    pool = np.flatnonzero((age >= 6) & (age <= 18))
    if len(pool) < n_cases:
        raise ValueError("population too small for the number of cases")
    chosen = np.random.default_rng([seed, 75]).choice(pool, size=n_cases, replace=False)
    absent = set(chosen[:n_absent].tolist())

    police_name = _police_names(p, seed)
    rows = []
    for i in range(n):
        if i in absent:
            continue
        birth: date | None = p.birth[i]
        if u[i, 0] < 0.03:
            birth = _birth_error(p.birth[i], rng)
        year = birth.year
        if u[i, 1] < (0.25 if p.birth[i].year < 1975 else 0.06):
            birth = None
        hh = p.household[i]
        rows.append(
            (
                f"R{i:07d}",
                ids[i] if u[i, 2] < 0.92 else None,
                police_name[i],
                birth,
                year,
                "F" if p.female[i] else "M",
                p.commune[i],
                p.village[i] if u[i, 3] >= 0.05 else None,
                police_name[p.head[hh]],
                p.relation[i],
            )
        )
    residents = pd.DataFrame(rows, columns=MATCHER_RESIDENT_COLUMNS)
    residents["birth_year"] = residents["birth_year"].astype("Int64")

    c_rows = []
    truth = {}
    for k, i in enumerate(chosen.tolist()):
        case_id = f"C{k:07d}"
        hh = p.household[i]
        pid = None
        if rng.random() < CASE_ID_SHARE:
            pid = ids[i]
            roll = rng.random()
            siblings = [j for j in p.members[hh] if j != i and abs(p.birth[j].year - p.birth[i].year) < 8]
            if roll < CASE_ID_SIBLING and siblings:
                pid = ids[rng.choice(siblings)]  # the school copied a brother's or sister's ID
            elif roll < CASE_ID_SIBLING + CASE_ID_TYPO:
                pid = _mistype(pid, rng)
        roll = rng.random()
        parent = p.parts[p.father[hh]] if roll < 0.65 else p.parts[p.mother[hh]] if roll < 0.90 else None
        c_rows.append(
            (
                case_id,
                pid,
                nm.join(*p.parts[i]),
                p.birth[i],
                "F" if p.female[i] else "M",
                p.commune[i],
                p.village[i],
                nm.join(*parent) if parent else None,
            )
        )
        truth[case_id] = None if i in absent else f"R{i:07d}"
    cases = pd.DataFrame(c_rows, columns=MATCHER_CASE_COLUMNS)
    return LinkageData(cases, residents, pd.Series(truth, name="resident_id"))


# --- scenario "large communes, skewed surnames" ------------------------------------------------
#
# Written apart from chuyencan_dev.synth (its own name lists, rates and household shapes), so the
# matcher is measured on data it was not tuned on. Communes of about 220,000 people (the merged
# communes and wards after the 2025 reform), a highland name stock (Mông, Dao, Giáy, Tày) whose
# surnames are very skewed: Giàng alone ~18 %, the top five ~55 %. Police-side noise: diacritics
# dropped, clan spellings, names typed given-name first ("Páo Giàng A"), one-letter typos,
# day/month swaps, year-only dates, missing IDs and villages; the school side mistypes or copies
# IDs and leaves many out.

SKEWED_COMMUNE_SIZE = 220_000
_SKEWED_VILLAGES = 40
_SKEWED_SURNAMES = (
    "Giàng 18, Vàng 12, Sùng 10, Lý 8, Thào 7, Hầu 4, Lù 4, Má 3, Cứ 3, Mùa 2.5, Triệu 2.5, "
    "Bàn 2, Đặng 2, Phàn 2, Tẩn 2, Chảo 1.5, Lò 1.5, Hoàng 1.5, Nông 1.5, Lương 1, Vừ 1, "
    "Tráng 1, Chang 1, Sần 1, Ly 1, Hạng 1, Sình 0.5, Lầu 0.5, Dương 0.5, Mã 0.5, Phu 0.5, Pờ 0.5"
)
# Spelling drift of the police side: the clan variants every agency knows, and spellings that
# fold to the same letters.
_SKEWED_VARIANTS = {
    "Giàng": "Giang", "Vàng": "Vàn", "Sùng": "Xùng", "Lý": "Ly", "Thào": "Thao", "Phàn": "Bàn",
    "Bàn": "Phàn", "Tẩn": "Tần", "Chảo": "Chào", "Lò": "Lồ", "Hầu": "Hâu", "Vừ": "Vư",
}  # fmt: skip
_SKEWED_MIDDLE = {
    "M": "A 38, Seo 28, Văn 14, Mí 6, Chẩn 4, Vần 3, - 7",
    "F": "Thị 55, Mỷ 12, Seo 8, Mí 5, - 20",
}
_SKEWED_GIVEN = {
    "M": "Páo Sử Chứ Dế Lử Pàng Chá Giống Mang Say Dính Chơ Phử Tủa Lỳ Sính Cở Nủ Vảng Tú Chẩu "
    "Sèng Hờ Dìn Khua Lềnh Xá Thắng Phìn Quẩy Tả Chài Kiềm Lở Sành Phúc Minh Hùng Dũng Tiến Nam "
    "Hải Long Quân Tuấn Kiên Vương Chiến Thào Tỉnh Cáo Giàng Của Sang Chúng Phong Khánh Lâm",
    "F": "Mỷ Sua Dợ Mai Pà Chư Sy Xúa Dua Ly Sính Chá Vá Ko Dinh Mẩy Phù Kiều Chạn Mùi Tả Dín "
    "Hoa Lan Hương Nga Thu Hằng Linh Thảo Trang Nhung Yến Vân Hiền Quyên Xuân Nhàn",
}
_VILLAGE_PARTS = [
    "Lao Chải",
    "Sín Chải",
    "Tả Phìn",
    "Ma Quai",
    "Cán Hồ",
    "Nậm Lư",
    "Pờ Hồ",
    "Sảng Chải",
    "Séo Lử Thẩn",
    "Phìn Hồ",
    "Tả Giàng Phình",
    "Lùng Phình",
    "Sín Chéng",
    "Nàn Sán",
    "Cốc Ly",
    "Hầu Thào",
    "Ý Lình Hồ",
    "Suối Thầu",
    "Xà Phìn",
    "Mào Phìn",
]


def _skewed_weighted(spec: str) -> tuple[np.ndarray, np.ndarray]:
    names, weights = [], []
    for item in spec.split(","):
        name, weight = item.strip().rsplit(maxsplit=1)
        names.append("" if name == "-" else name)
        weights.append(float(weight))
    w = np.array(weights)
    return np.array(names, dtype=object), w / w.sum()


def _zipf(words: str) -> tuple[np.ndarray, np.ndarray]:
    """Given names: a few common ones, a long tail (weight ~ 1 / rank^0.8)."""
    names = np.array(words.split(), dtype=object)
    w = 1.0 / np.arange(1, len(names) + 1) ** 0.8
    return names, w / w.sum()


def _skewed_typo(name: str, rng: random.Random) -> str:
    """Delete, double or replace one letter inside a word (never a word's first letter)."""
    positions = [i for i, ch in enumerate(name) if ch.isalpha() and i > 0 and name[i - 1] != " "]
    if not positions:
        return name
    i = rng.choice(positions)
    op = rng.random()
    if op < 0.3:
        return name[:i] + name[i + 1 :]
    if op < 0.5:
        return name[:i] + name[i] + name[i:]
    return name[:i] + rng.choice("aeiounghtcpslmv".replace(name[i].lower(), "")) + name[i + 1 :]


def _skewed_population(n_people: int, seed: int) -> pd.DataFrame:
    """People in households (vectorised): father, mother, 1-6 children, a grandparent in 20 %."""
    g = np.random.default_rng([seed, 161])
    n_hh = int(n_people / 5.06) + 1  # 2.2 adults and 2.86 children on average
    n_communes = max(1, round(n_people / SKEWED_COMMUNE_SIZE))
    surnames, s_w = _skewed_weighted(_SKEWED_SURNAMES)
    hh_commune = np.sort(g.integers(0, n_communes, n_hh))
    hh_village = g.integers(0, _SKEWED_VILLAGES, n_hh)
    hh_surname = g.choice(len(surnames), n_hh, p=s_w)
    father_year = g.integers(1962, 2001, n_hh)
    kids = g.choice(np.arange(1, 7), n_hh, p=[0.18, 0.28, 0.24, 0.15, 0.10, 0.05])
    grand = g.random(n_hh) < 0.20
    # Roles: 0 grandparent, 1 father, 2 mother, 3 child.
    hh = np.concatenate(
        [np.flatnonzero(grand), np.arange(n_hh), np.arange(n_hh), np.repeat(np.arange(n_hh), kids)]
    )
    role = np.concatenate(
        [np.zeros(grand.sum(), int), np.ones(n_hh, int), np.full(n_hh, 2), np.full(int(kids.sum()), 3)]
    )
    order = np.lexsort((role, hh))
    hh, role = hh[order], role[order]
    n = len(hh)
    female = np.where(role == 1, False, np.where(role == 2, True, g.random(n) < 0.49))
    mother_year = father_year + g.integers(0, 6, n_hh)
    year = np.select(
        [role == 0, role == 1, role == 2],
        [father_year[hh] - g.integers(20, 30, n), father_year[hh], mother_year[hh]],
        np.minimum(mother_year[hh] + g.integers(18, 40, n), SCHOOL_YEAR),
    )
    day_of_year = g.integers(0, 365, n)
    surname = np.where(role == 2, g.choice(len(surnames), n, p=s_w), hh_surname[hh])
    middle = np.empty(n, dtype=object)
    given = np.empty(n, dtype=object)
    for sex, is_f in (("M", False), ("F", True)):
        rows = np.flatnonzero(female == is_f)
        m_names, m_w = _skewed_weighted(_SKEWED_MIDDLE[sex])
        middle[rows] = m_names[g.choice(len(m_names), len(rows), p=m_w)]
        g_names, g_w = _zipf(_SKEWED_GIVEN[sex])
        pick = g.choice(len(g_names), len(rows), p=g_w)
        # Brothers (sisters) get different given names.
        frame = pd.DataFrame({"hh": hh[rows], "pick": pick})
        for _ in range(6):
            dup = frame.duplicated(["hh", "pick"]).to_numpy()
            if not dup.any():
                break
            frame.loc[dup, "pick"] = (frame.loc[dup, "pick"] + 1 + g.integers(0, 5, dup.sum())) % len(g_names)
        given[rows] = g_names[frame["pick"].to_numpy()]
    head_role = np.where(grand & (g.random(n_hh) < 0.5), 0, np.where(g.random(n_hh) < 0.08, 2, 1))
    is_head = role == head_role[hh]
    head_row = np.full(n_hh, -1)
    head_row[hh[is_head]] = np.flatnonzero(is_head)
    births = (np.array([f"{y}-01-01" for y in range(1900, SCHOOL_YEAR + 1)], dtype="datetime64[D]")[year - 1900]
              + np.minimum(day_of_year, 364))  # fmt: skip
    return pd.DataFrame(
        {
            "hh": hh,
            "role": role,
            "female": female,
            "birth": births,
            "surname": surnames[surname],
            "middle": middle,
            "given": given,
            "commune": hh_commune[hh],
            "village": hh_village[hh],
            "head": head_row[hh],
        }
    )


def _skewed_ids(birth: np.ndarray, female: np.ndarray, seed: int) -> np.ndarray:
    g = np.random.default_rng([seed, 162])
    year = birth.astype("datetime64[Y]").astype(int) + 1970
    prefix = 11_000 + ((year // 100 - 19) * 2 + female) * 100 + year % 100  # '011' + digit + yy
    ids = np.zeros(len(year), dtype=np.int64)
    for value in np.unique(prefix):
        rows = np.flatnonzero(prefix == value)
        ids[rows] = value * 1_000_000 + g.choice(1_000_000, size=len(rows), replace=False)
    return np.array([f"{v:012d}" for v in ids], dtype=object)


def generate_skewed(n_cases: int, n_residents: int, seed: int = 7) -> LinkageData:
    """The 'large communes, skewed surnames' scenario (see the comment above)."""
    n_absent = round(n_cases * ABSENT_SHARE)
    p = _skewed_population(n_residents + n_absent, seed)
    n = len(p)
    g = np.random.default_rng([seed, 163])
    rng = random.Random(f"{seed}:skewed")
    communes = [f"Xã {a}" for a in _VILLAGE_PARTS][: p["commune"].max() + 1]
    villages = np.array(
        [f"Thôn {v}" for v in _VILLAGE_PARTS] + [f"Bản {v}" for v in _VILLAGE_PARTS], dtype=object
    )
    commune = np.array(communes, dtype=object)[p["commune"].to_numpy()]
    village = villages[p["village"].to_numpy()]
    ids = _skewed_ids(p["birth"].to_numpy(), p["female"].to_numpy().astype(int), seed)
    surname, middle, given = (p[c].to_numpy(dtype=object) for c in ("surname", "middle", "given"))
    true_name = np.array(
        [nm.join(s, m, gv) for s, m, gv in zip(surname, middle, given, strict=True)], dtype=object
    )

    # The police's spelling of every person.
    u = g.random((n, 8))
    p_surname = surname.copy()
    variant = (u[:, 0] < 0.10) & np.isin(surname, list(_SKEWED_VARIANTS))
    p_surname[variant] = [_SKEWED_VARIANTS[s] for s in surname[variant]]
    p_middle = np.where(u[:, 1] < 0.03, "", middle)
    given_first = u[:, 2] < 0.03
    police = np.array(
        [
            nm.join(gv, s, m) if first else nm.join(s, m, gv)
            for s, m, gv, first in zip(p_surname, p_middle, given, given_first, strict=True)
        ],
        dtype=object,
    )
    for i in np.flatnonzero(u[:, 3] < 0.05):
        police[i] = _skewed_typo(police[i], rng)
    stripped = g.random(int(p["hh"].max()) + 1) < 0.40
    for i in np.flatnonzero(stripped[p["hh"].to_numpy()]):
        police[i] = strip_diacritics(police[i])

    birth = p["birth"].to_numpy()
    year = birth.astype("datetime64[Y]").astype(int) + 1970
    month = birth.astype("datetime64[M]").astype(int) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(int) + 1
    p_birth = birth.copy()
    swap = (u[:, 4] < 0.02) & (day <= 12) & (day != month)
    p_birth[swap] = [
        np.datetime64(f"{y}-{d:02d}-{m:02d}")
        for y, m, d in zip(year[swap], month[swap], day[swap], strict=True)
    ]
    shifted = (u[:, 4] >= 0.02) & (u[:, 4] < 0.025)
    p_birth[shifted] += g.choice(np.array([-3, -2, -1, 1, 2, 3]), shifted.sum()).astype("timedelta64[D]")
    year_off = (u[:, 4] >= 0.025) & (u[:, 4] < 0.03) & (day <= 28)
    p_birth[year_off] = [
        np.datetime64(f"{y + d}-{m:02d}-{dd:02d}")
        for y, m, dd, d in zip(
            year[year_off], month[year_off], day[year_off], g.choice([-1, 1], year_off.sum()), strict=True
        )
    ]
    year_only = u[:, 5] < np.where(year < 1975, 0.25, 0.06)
    p_year = p_birth.astype("datetime64[Y]").astype(int) + 1970

    chosen = g.choice(
        np.flatnonzero((SCHOOL_YEAR - year >= 6) & (SCHOOL_YEAR - year <= 18)), n_cases, replace=False
    )
    kept = np.ones(n, dtype=bool)
    kept[chosen[:n_absent]] = False
    head = p["head"].to_numpy()
    birth_obj = pd.Series(p_birth).dt.date.to_numpy(dtype=object).copy()
    birth_obj[year_only] = None
    residents = pd.DataFrame(
        {
            "resident_id": [f"R{i:07d}" for i in range(n)],
            "personal_id": np.where(u[:, 6] < 0.90, ids, None),
            "full_name": police,
            "birth_date": birth_obj,
            "birth_year": p_year,
            "sex": np.where(p["female"], "F", "M"),
            "commune": commune,
            "village": np.where(u[:, 7] < 0.03, None, village),
            "household_head": police[head],
            "relation": np.select(
                [p["role"] == 0, p["role"] == 1, p["role"] == 2], ["Bố", "Chồng", "Vợ"], "Con"
            ).astype(object),
        }
    )
    residents.loc[head == np.arange(n), "relation"] = "Chủ hộ"
    residents = residents[kept].reset_index(drop=True)
    residents["birth_year"] = residents["birth_year"].astype("Int64")

    # Cases: the school's spelling (correct, accents kept for 85 %), ID for 60 % of them.
    hh = p["hh"].to_numpy()
    role = p["role"].to_numpy()
    father = np.full(hh.max() + 1, -1)
    mother = np.full(hh.max() + 1, -1)
    father[hh[role == 1]] = np.flatnonzero(role == 1)
    mother[hh[role == 2]] = np.flatnonzero(role == 2)
    hh_start = np.searchsorted(hh, np.arange(hh.max() + 2))  # rows are sorted by household
    c_rows, truth = [], {}
    for k, i in enumerate(chosen.tolist()):
        case_id = f"C{k:07d}"
        pid = None
        if rng.random() < 0.60:
            pid = ids[i]
            roll = rng.random()
            siblings = [j for j in range(hh_start[hh[i]], hh_start[hh[i] + 1]) if j != i and role[j] == 3]
            if roll < 0.01 and siblings:
                pid = ids[rng.choice(siblings)]
            elif roll < 0.04:
                pid = _mistype(pid, rng)
        name = true_name[i] if rng.random() < 0.85 else strip_diacritics(true_name[i])
        roll = rng.random()
        parent = father[hh[i]] if roll < 0.65 else mother[hh[i]] if roll < 0.90 else -1
        c_rows.append(
            (
                case_id,
                pid,
                name,
                birth[i].astype(object),
                "F" if p["female"].iat[i] else "M",
                commune[i],
                village[i],
                true_name[parent] if parent >= 0 else None,
            )
        )
        truth[case_id] = None if k < n_absent else f"R{i:07d}"
    cases = pd.DataFrame(c_rows, columns=MATCHER_CASE_COLUMNS)
    return LinkageData(cases, residents, pd.Series(truth, name="resident_id"))


SCENARIOS = {"default": generate, "skewed": generate_skewed}
