"""Schools' classes, their students, and the households the students live in.

Students come first (a school's classes filled to realistic sizes), then siblings from the same
school and commune are grouped into households, which get parents, younger and older children and
sometimes a grandparent. The police extracts list all of these people, so a case has to be found
among many namesakes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from chuyencan.core.contract import level_of_grade
from chuyencan.core.reference import Commune, Reference, School, SchoolYear
from chuyencan_dev.synth import names as nm

# quan_he_chu_ho as the police write it.
REL_HEAD, REL_WIFE, REL_HUSBAND, REL_CHILD = "Chủ hộ", "Vợ", "Chồng", "Con"
REL_GRANDCHILD, REL_DAUGHTER_IN_LAW, REL_FATHER, REL_MOTHER = "Cháu", "Con dâu", "Bố", "Mẹ"

LEVEL_INDEX = {"TH": 0, "THCS": 1, "THPT": 2}


@dataclass(slots=True)
class Person:
    pid: int
    household: int
    parts: tuple[str, str, str]  # surname, middle name, given name
    female: bool
    birth: date
    relation: str
    student: int = -1  # index into the student arrays
    personal_id: str = ""

    @property
    def full_name(self) -> str:
        return nm.join(*self.parts)


@dataclass(slots=True)
class Household:
    hid: int
    commune: str
    village: str
    ethnicity: str
    members: list[int] = field(default_factory=list)
    head: int = -1
    father: int = -1
    mother: int = -1

    @property
    def household_id(self) -> str:
        return f"HH{self.hid + 1:06d}"


@dataclass(frozen=True)
class ClassInfo:
    school: int
    grade: int
    name: str


@dataclass
class Population:
    year: SchoolYear
    schools: list[School]
    communes: dict[str, Commune]  # communes valid during the year, by canonical name
    villages: dict[str, list[str]]
    classes: list[ClassInfo]
    persons: list[Person]
    households: list[Household]
    # One entry per student (numpy, so the weekly simulation is vectorised).
    st_person: np.ndarray
    st_class: np.ndarray
    st_school: np.ndarray
    st_grade: np.ndarray
    st_level: np.ndarray
    st_overage: np.ndarray
    st_female: np.ndarray
    st_minority: np.ndarray
    st_boarding: np.ndarray
    st_gdtx: np.ndarray
    st_id_known: np.ndarray  # the school has the student's personal ID
    st_registered: np.ndarray  # the household book lists the student (police can find them)

    @property
    def n_students(self) -> int:
        return len(self.st_person)

    def student_id(self, i: int) -> str:
        return f"HS{i + 1:06d}"

    def student(self, i: int) -> Person:
        return self.persons[int(self.st_person[i])]

    def household_of(self, i: int) -> Household:
        return self.households[self.student(i).household]


def _classes_per_grade(school: School, level: str, town: bool, rng: random.Random) -> int:
    if school.kind == "GDTX":
        return rng.randint(2, 3)
    if school.boarding == "noi_tru":
        return rng.randint(2, 3)
    if level == "THPT":
        return rng.randint(3, 5) if school.kind == "THCS&THPT" else rng.randint(6, 9)
    if level == "THCS":
        if school.kind == "TH&THCS":
            return rng.randint(2, 3)
        return rng.randint(3, 5) if town else rng.randint(2, 4)
    if school.kind == "TH&THCS":
        return rng.randint(1, 3)
    # Mountain primary schools are small: one to three classes a grade.
    return rng.randint(2, 4) if town else rng.choice((1, 1, 2, 3))


def _class_size(school: School, level: str, rng: random.Random) -> int:
    low, high = {"TH": (25, 35), "THCS": (30, 40), "THPT": (35, 45)}[level]
    if school.kind == "GDTX":
        low, high = 25, 38
    if school.boarding:
        # Boarding places are limited by the dormitory, so classes run a little smaller.
        low, high = low - 4, high - 4
    return rng.randint(low, high)


def _class_names(school: School, grade: int, count: int, style: int) -> list[str]:
    letters = "ABCDEFGHIK"
    if style == 0 or (grade <= 5 and style != 2):
        return [f"{grade}{letters[i]}" for i in range(count)]
    return [f"{grade}A{i + 1}" for i in range(count)]


def _overage(minority: bool, gdtx: bool, rng: random.Random) -> int:
    if minority:
        age = rng.choices((0, 1, 2, 3, 4), weights=(55, 25, 12, 5, 3))[0]
    else:
        age = rng.choices((0, 1, 2), weights=(92, 7, 1))[0]
    if gdtx:
        age = min(4, age + rng.choice((0, 1, 2)))
    return age


def _random_day(year: int, rng: random.Random) -> date:
    return date(year, 1, 1) + timedelta(days=rng.randrange(366 if year % 4 == 0 else 365))


class _Builder:
    def __init__(self, ref: Reference, year: SchoolYear, schools: list[School], seed: int) -> None:
        self.ref = ref
        self.year = year
        self.schools = schools
        self.rng = random.Random(f"{seed}:population")
        self.names = nm.NameMaker(self.rng)
        self.start_year = year.start.year
        self.communes = {c.name: c for c in ref.communes if c.valid_to is None or c.valid_to >= year.start}
        vrng = random.Random(f"{seed}:villages")
        self.villages = {c.name: nm.villages(c.name, c.kind, vrng) for c in self.communes.values()}
        self.mix = {
            c.name: nm.Weighted.of(nm.commune_mix(c.name, c.district, c.kind)) for c in self.communes.values()
        }
        self.by_district: dict[str, list[str]] = {}
        for c in self.communes.values():
            self.by_district.setdefault(c.district, []).append(c.name)
        self.persons: list[Person] = []
        self.households: list[Household] = []
        self.classes: list[ClassInfo] = []
        self.st: dict[str, list[int]] = {
            k: []
            for k in (
                "person",
                "class",
                "school",
                "grade",
                "level",
                "overage",
                "female",
                "minority",
                "boarding",
                "gdtx",
            )
        }

    # -- where a school's students live --
    def _home_weights(self, school: School) -> tuple[list[str], list[float]]:
        rng = self.rng
        own = school.commune if school.commune in self.communes else None
        district = self.communes[own].district if own else self._district_of_school(school)
        pool = sorted(self.by_district.get(district, list(self.communes)))
        town = own is not None and self.communes[own].kind != "xa"
        wide = own is None or town or school.kind in ("THPT", "GDTX", "THCS&THPT")
        if not wide and own is not None:
            others = [c for c in pool if c != own]
            neighbours = rng.sample(others, k=min(3, len(others)))
            return [own, *neighbours], [88.0, *([12.0 / max(1, len(neighbours))] * len(neighbours))]
        weights = [rng.uniform(0.5, 2.0) for _ in pool]
        if own is not None:
            weights = [
                w + (sum(weights) * 0.5 if c == own else 0.0) for c, w in zip(pool, weights, strict=True)
            ]
        return pool, weights

    def _district_of_school(self, school: School) -> str:
        # A school without a commune: guess its district from a sibling school's code prefix.
        prefix = school.code.split("-")[0]
        for other in self.schools:
            if other.code.split("-")[0] == prefix and other.commune in self.communes:
                return self.communes[other.commune].district
        return next(iter(self.communes.values())).district

    # -- students --
    def add_school(self, s_idx: int, school: School) -> None:
        rng = self.rng
        home_names, home_weights = self._home_weights(school)
        homes = nm.Weighted(tuple(home_names), tuple(home_weights))
        own = self.communes.get(school.commune or "")
        town = own is not None and own.kind != "xa"
        name_style = rng.choice((0, 1, 2))
        students: list[tuple[int, str, str]] = []  # (student index, commune, ethnicity)
        for grade in range(school.grade_min, school.grade_max + 1):
            level = level_of_grade(grade)
            count = _classes_per_grade(school, level, town, rng)
            for class_name in _class_names(school, grade, count, name_style):
                c_idx = len(self.classes)
                self.classes.append(ClassInfo(s_idx, grade, class_name))
                for _ in range(_class_size(school, level, rng)):
                    commune = homes.draw(rng)
                    ethnicity = self.mix[commune].draw(rng)
                    minority = ethnicity in nm.MINORITIES
                    overage = _overage(minority, school.kind == "GDTX", rng)
                    i = len(self.st["person"])
                    st = self.st
                    st["person"].append(-1)
                    st["class"].append(c_idx)
                    st["school"].append(s_idx)
                    st["grade"].append(grade)
                    st["level"].append(LEVEL_INDEX[level])
                    st["overage"].append(overage)
                    st["female"].append(rng.random() < 0.49)
                    st["minority"].append(minority)
                    st["boarding"].append(bool(school.boarding))
                    st["gdtx"].append(school.kind == "GDTX")
                    students.append((i, commune, ethnicity))
        self._households_for(students)

    def _birth_year(self, i: int) -> int:
        return self.start_year - 5 - self.st["grade"][i] - self.st["overage"][i]

    def _households_for(self, students: list[tuple[int, str, str]]) -> None:
        """Group a school's students into households: siblings share commune and ethnicity."""
        rng = self.rng
        groups: dict[tuple[str, str], list[int]] = {}
        for i, commune, ethnicity in students:
            groups.setdefault((commune, ethnicity), []).append(i)
        for (commune, ethnicity), members in sorted(groups.items()):
            rng.shuffle(members)
            free = members
            while free:
                first, rest = free[0], free[1:]
                size = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
                kids = [first]
                years = {self._birth_year(first)}
                leftover: list[int] = []
                for j in rest:
                    if len(kids) < size and self._birth_year(j) not in years and len(leftover) < 30:
                        kids.append(j)
                        years.add(self._birth_year(j))
                    else:
                        leftover.append(j)
                free = leftover
                self._household(commune, ethnicity, kids)

    def _person(self, hh: Household, parts: tuple[str, str, str], female: bool, birth: date, rel: str) -> int:
        pid = len(self.persons)
        self.persons.append(Person(pid, hh.hid, parts, female, birth, rel))
        hh.members.append(pid)
        return pid

    def _household(self, commune: str, ethnicity: str, kids: list[int]) -> None:
        rng = self.rng
        hh = Household(len(self.households), commune, rng.choice(self.villages[commune]), ethnicity)
        self.households.append(hh)
        minority = ethnicity in nm.MINORITIES
        student_years = sorted(self._birth_year(k) for k in kids)
        eldest, youngest = student_years[0], student_years[-1]
        used = set(student_years)

        family, father_parts = self.names.father(ethnicity)
        gap = rng.randint(19, 28) if minority else rng.randint(23, 33)
        father_year = eldest - gap
        mother_year = father_year + rng.randint(0, 5)
        head_kind = rng.choices(("father", "mother", "grandfather"), weights=(88, 7, 5))[0]
        grandparent = head_kind == "grandfather" or rng.random() < 0.25

        rel_kid = REL_GRANDCHILD if head_kind == "grandfather" else REL_CHILD
        if grandparent:
            g_female = head_kind != "grandfather" and rng.random() < 0.6
            g_parts = (
                self.names.elder(ethnicity, True)
                if g_female
                else (family.surname, *self.names.elder(ethnicity, False)[1:])
            )
            g_rel = REL_HEAD if head_kind == "grandfather" else (REL_MOTHER if g_female else REL_FATHER)
            gp = self._person(
                hh, g_parts, g_female, _random_day(father_year - rng.randint(20, 28), rng), g_rel
            )
            if head_kind == "grandfather":
                hh.head = gp
        if head_kind != "mother":
            rel = REL_CHILD if head_kind == "grandfather" else REL_HEAD
            hh.father = self._person(hh, father_parts, False, _random_day(father_year, rng), rel)
            if head_kind == "father":
                hh.head = hh.father
        mother_parts = self.names.spouse(family)
        rel = {"father": REL_WIFE, "mother": REL_HEAD, "grandfather": REL_DAUGHTER_IN_LAW}[head_kind]
        hh.mother = self._person(hh, mother_parts, True, _random_day(mother_year, rng), rel)
        if head_kind == "mother":
            hh.head = hh.mother

        # Older children who left school before this year (often working away), then students.
        if rng.random() < 0.3:
            year = eldest - rng.randint(1, 5)
            if self.start_year - year >= 16 and year not in used and year - mother_year >= 16:
                used.add(year)
                female = rng.random() < 0.5
                self._person(hh, self.names.child(family, female), female, _random_day(year, rng), rel_kid)
        given_names: set[str] = set()
        for k in sorted(kids, key=self._birth_year):
            female = bool(self.st["female"][k])
            parts = self.names.child(family, female)
            for _ in range(3):
                # Parents do not give two children the same name.
                if parts[2] not in given_names:
                    break
                parts = self.names.child(family, female)
            given_names.add(parts[2])
            pid = self._person(
                hh,
                parts,
                female,
                _random_day(self._birth_year(k), rng),
                rel_kid,
            )
            self.persons[pid].student = k
            self.st["person"][k] = pid
        for _ in range(rng.choices((0, 1, 2), weights=(50, 35, 15))[0]):
            year = youngest + rng.randint(1, 4)
            if year > self.start_year or year in used:
                continue
            used.add(year)
            female = rng.random() < 0.5
            self._person(hh, self.names.child(family, female), female, _random_day(year, rng), rel_kid)

    def assign_ids(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Personal IDs for everyone in the population database; unregistered students get none."""
        rng = np.random.default_rng([seed, 11])
        n = len(self.st["person"])
        registered = rng.random(n) >= 0.06
        # Of registered students, about three in four have their ID in the school's records (70 % overall).
        id_known = registered & (rng.random(n) < 0.745)
        unregistered = {self.st["person"][i] for i in np.flatnonzero(~registered)}
        by_prefix: dict[str, list[Person]] = {}
        prov = rng.random(len(self.persons))
        for p in self.persons:
            if p.pid in unregistered:
                continue
            hh = self.households[p.household]
            province = "010"
            if hh.ethnicity == nm.KINH and prov[p.pid] < 0.2:
                # Kinh parents often registered their births in the lowland provinces they came from.
                province = ("001", "015", "025", "030", "036")[int(prov[p.pid] * 25) % 5]
            century = (p.birth.year // 100 - 19) * 2 + int(p.female)
            by_prefix.setdefault(f"{province}{century}{p.birth.year % 100:02d}", []).append(p)
        for prefix in sorted(by_prefix):
            people = by_prefix[prefix]
            serials = rng.choice(1_000_000, size=len(people), replace=False)
            for p, serial in zip(people, serials, strict=True):
                p.personal_id = f"{prefix}{serial:06d}"
        return registered, id_known


def build_population(ref: Reference, year: SchoolYear, seed: int) -> Population:
    weeks = [friday for friday, _ in year.weeks()]
    schools = sorted(
        (s for s in ref.schools.values() if any(s.active_on(f) for f in weeks)), key=lambda s: s.code
    )
    b = _Builder(ref, year, schools, seed)
    for s_idx, school in enumerate(schools):
        b.add_school(s_idx, school)
    registered, id_known = b.assign_ids(seed)
    st = b.st
    return Population(
        year=year,
        schools=schools,
        communes=b.communes,
        villages=b.villages,
        classes=b.classes,
        persons=b.persons,
        households=b.households,
        st_person=np.array(st["person"], dtype=np.int32),
        st_class=np.array(st["class"], dtype=np.int32),
        st_school=np.array(st["school"], dtype=np.int32),
        st_grade=np.array(st["grade"], dtype=np.int8),
        st_level=np.array(st["level"], dtype=np.int8),
        st_overage=np.array(st["overage"], dtype=np.int8),
        st_female=np.array(st["female"], dtype=bool),
        st_minority=np.array(st["minority"], dtype=bool),
        st_boarding=np.array(st["boarding"], dtype=bool),
        st_gdtx=np.array(st["gdtx"], dtype=bool),
        st_id_known=id_known,
        st_registered=registered,
    )
