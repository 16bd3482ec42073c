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
from chuyencan.police.match_step import MATCHER_RESIDENT_COLUMNS
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
    cases = pd.DataFrame(
        c_rows,
        columns=[
            "case_id",
            "personal_id",
            "full_name",
            "birth_date",
            "sex",
            "commune",
            "village",
            "parent_name",
        ],
    )
    return LinkageData(cases, residents, pd.Series(truth, name="resident_id"))
