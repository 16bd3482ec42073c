"""The police matcher on hand-built households, one kind of noise or trap per household.

A seeded background commune (a few hundred households named like Bát Xát's, chuyencan_dev.synth
names) gives the matcher realistic name frequencies; each scenario household lives in a village
of its own and its police record carries exactly the noise the test is about. Expected outcomes
come from the construction: which record is the student, which is a sibling, who is absent.
No personal value is printed: assertions compare decisions and record ids of synthetic people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from chuyencan.core.text import strip_diacritics
from chuyencan.police import matching
from chuyencan.police.names import split_name, surname_groups, within_one_edit
from chuyencan.police.records import personal_ids
from chuyencan_dev.synth import names as nm

COMMUNE = "Y Tý"
CASE_COLUMNS = [
    "case_id",
    "personal_id",
    "full_name",
    "birth_date",
    "sex",
    "commune",
    "village",
    "parent_name",
]
RESIDENT_COLUMNS = [
    "resident_id",
    "personal_id",
    "full_name",
    "birth_date",
    "birth_year",
    "sex",
    "commune",
    "village",
    "household_head",
    "relation",
]


def pid(birth: date, female: bool, serial: int) -> str:
    """A well-formed ID: Lào Cai 010, century/sex digit, two-digit year, serial."""
    return f"010{(birth.year // 100 - 19) * 2 + int(female)}{birth.year % 100:02d}{serial:06d}"


class Who(NamedTuple):
    name: str
    birth: date | None  # None: the police know only the year
    female: bool = False


@dataclass
class Book:
    """Residents and cases under construction."""

    residents: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    serial: int = 500_000

    def next_id(self, birth: date, female: bool) -> str:
        self.serial += 1
        return pid(birth, female, self.serial)

    def resident(
        self,
        rid: str,
        who: Who,
        *,
        village: str | None,
        head: str,
        relation: str,
        year: int | None = None,
        personal_id: str | None = None,
    ) -> str:
        self.residents.append(
            {
                "resident_id": rid,
                "personal_id": personal_id,
                "full_name": who.name,
                "birth_date": who.birth,
                "birth_year": year if year is not None else (who.birth.year if who.birth else None),
                "sex": "F" if who.female else "M",
                "commune": COMMUNE,
                "village": village,
                "household_head": head,
                "relation": relation,
            }
        )
        return rid

    def case(
        self,
        case_id: str,
        who: Who,
        *,
        village: str | None,
        parent: str | None,
        personal_id: str | None = None,
    ) -> str:
        self.cases.append(
            {
                "case_id": case_id,
                "personal_id": personal_id,
                "full_name": who.name,
                "birth_date": who.birth,
                "sex": "F" if who.female else "M",
                "commune": COMMUNE,
                "village": village,
                "parent_name": parent,
            }
        )
        return case_id


def background(book: Book, households: int, seed: int) -> list[str]:
    """Random households of the commune; returns the villages used."""
    rng = random.Random(seed)
    maker = nm.NameMaker(rng)
    villages = nm.villages(COMMUNE, "xa", rng)
    mix = nm.Weighted.of(nm.commune_mix(COMMUNE, "Bát Xát", "xa"))
    for h in range(households):
        village = rng.choice(villages)
        family, father = maker.father(mix.draw(rng))
        father_birth = date(rng.randint(1970, 1995), rng.randint(1, 12), rng.randint(1, 28))
        head = nm.join(*father)
        book.resident(f"B{h}F", Who(head, father_birth), village=village, head=head, relation="Chủ hộ")
        mother = Who(
            nm.join(*maker.spouse(family)), father_birth + timedelta(days=rng.randint(0, 1500)), True
        )
        book.resident(f"B{h}M", mother, village=village, head=head, relation="Vợ")
        for k in range(rng.randint(1, 4)):
            female = rng.random() < 0.5
            birth = date(father_birth.year + rng.randint(20, 35), rng.randint(1, 12), rng.randint(1, 28))
            if birth.year > 2024:
                continue
            with_id = book.next_id(birth, female) if rng.random() < 0.9 else None
            kid = Who(nm.join(*maker.child(family, female)), birth, female)
            book.resident(f"B{h}C{k}", kid, village=village, head=head, relation="Con", personal_id=with_id)
    return villages


@dataclass
class Family:
    """A scenario household: a father (head), a mother and the children added to it."""

    book: Book
    tag: str
    village: str
    father: str

    @classmethod
    def of(
        cls, book: Book, tag: str, *, village: str, father: str, mother: str, father_birth: date
    ) -> Family:
        book.resident(f"{tag}F", Who(father, father_birth), village=village, head=father, relation="Chủ hộ")
        wife = Who(mother, father_birth + timedelta(days=700), True)
        book.resident(f"{tag}M", wife, village=village, head=father, relation="Vợ")
        return cls(book, tag, village, father)

    def child(
        self,
        k: int,
        who: Who,
        *,
        year: int | None = None,
        village: str | bool | None = True,
        personal_id: str | None = None,
    ) -> str:
        """A child's police record; village=True: the family's village."""
        where = self.village if village is True else (village or None)
        return self.book.resident(
            f"{self.tag}C{k}",
            who,
            village=where,
            head=self.father,
            relation="Con",
            year=year,
            personal_id=personal_id,
        )


# case id -> the resident id it must be matched to
EXPECT_MATCH: dict[str, str] = {}
# case id -> the record it must not be matched to
NOT_CONFIDENTLY: dict[str, str] = {}


def build() -> tuple[Book, list[str]]:
    book = Book()
    taken = background(book, households=450, seed=11)
    base = next(v for v in ("Phìn Hồ", "Mò Phìn", "Sín Chải", "Tả Giàng") if v not in taken)
    # Each scenario household has a village of its own.
    villages = iter(f"{base} {n}" for n in range(1, 100))

    def fam(tag: str, surname: str, father_given: str, mother: str) -> Family:
        father = f"{surname} Seo {father_given}"
        return Family.of(
            book, tag, village=next(villages), father=father, mother=mother, father_birth=date(1982, 3, 9)
        )

    def case(case_id: str, who: Who, f: Family, personal_id: str | None = None) -> str:
        return book.case(case_id, who, village=f.village, parent=f.father, personal_id=personal_id)

    born = date(2011, 4, 17)

    # -- the personal ID --
    f = fam("ID1", "Thào", "Dinh", "Vàng Thị Mai")
    rid = f.child(0, Who("Thao A Sử", born), personal_id=pid(born, False, 7001))
    f.child(1, Who("Thào Thị Dợ", date(2013, 8, 2), True), personal_id=pid(date(2013, 8, 2), True, 7002))
    EXPECT_MATCH[case("id_correct", Who("Thào A Sử", born), f, pid(born, False, 7001))] = rid

    # The school typed an older brother's ID: it points at a real record that is not the student.
    f = fam("ID2", "Hầu", "Chứ", "Lý Thị Pà")
    brother_birth, own_birth = date(2010, 1, 20), date(2012, 6, 5)
    brother = f.child(0, Who("Hầu A Páo", brother_birth), personal_id=pid(brother_birth, False, 7003))
    rid = f.child(1, Who("Hầu Seo Lồng", own_birth), personal_id=pid(own_birth, False, 7004))
    cid = case("id_brother", Who("Hầu Seo Lồng", own_birth), f, pid(brother_birth, False, 7003))
    EXPECT_MATCH[cid] = rid
    NOT_CONFIDENTLY[cid] = brother

    # Twins: the school copied the brother's ID (same birth date, so the ID's digits fit).
    f = fam("ID6", "Lý", "Chơ", "Thào Thị Dung")
    twins = date(2011, 2, 14)
    twin = f.child(0, Who("Lý A Vừ", twins), personal_id=pid(twins, False, 7007))
    rid = f.child(1, Who("Lý A Chính", twins), personal_id=pid(twins, False, 7008))
    cid = case("id_twin", Who("Lý A Chính", twins), f, pid(twins, False, 7007))
    EXPECT_MATCH[cid] = rid
    NOT_CONFIDENTLY[cid] = twin

    # Twin sisters whose names differ by one letter; the case carries the other one's ID.
    f = fam("ID7", "Má", "Sang", "Hầu Thị Ca")
    twins = date(2011, 9, 11)
    other = f.child(0, Who("Má Thị Mai", twins, True), personal_id=pid(twins, True, 7009))
    f.child(1, Who("Má Thị Mỉ", twins, True), personal_id=pid(twins, True, 7010))
    NOT_CONFIDENTLY[case("id_twin_one_letter", Who("Má Thị Mỉ", twins, True), f, pid(twins, True, 7009))] = (
        other
    )

    # The school left the birth date blank: the name still finds the student, never the brother.
    f = fam("ID8", "Vàng", "Lử", "Thào Thị Xí")
    f.child(0, Who("Vàng A Tráng", date(2010, 3, 3)))
    rid = f.child(1, Who("Vàng A Giống", date(2012, 12, 12)))
    EXPECT_MATCH[case("no_birth_date", Who("Vàng A Giống", None), f)] = rid

    # One digit mistyped: the ID points at nobody; the rest of the record still finds the student.
    f = fam("ID3", "Mùa", "Vừ", "Giàng Thị Say")
    rid = f.child(0, Who("Mùa A Thề", born), personal_id=pid(born, False, 7005))
    EXPECT_MATCH[case("id_typo", Who("Mùa A Thề", born), f, pid(born, False, 7095))] = rid

    # An ID pointing at a stranger in another household (another name; born the same year,
    # so the ID's digits fit the student).
    f = fam("ID4", "Cứ", "Sình", "Sùng Thị Mỷ")
    stranger_birth = date(2009, 2, 2)
    stranger = f.child(0, Who("Cứ A Khua", stranger_birth), personal_id=pid(stranger_birth, False, 7006))
    g = fam("ID5", "Lù", "Dùng", "Thào Thị Chi")
    rid = g.child(0, Who("Lù Seo Tráng", date(2009, 11, 30)))
    cid = case("id_stranger", Who("Lù Seo Tráng", date(2009, 11, 30)), g, pid(stranger_birth, False, 7006))
    EXPECT_MATCH[cid] = rid
    NOT_CONFIDENTLY[cid] = stranger

    # -- one kind of noise per household (no IDs: names and dates must do it) --
    def noisy(
        tag: str,
        surname: str,
        names: tuple[str, str],
        births: tuple[date, date | None] = (born, born),
        *,
        year: int | None = None,
        village: str | bool | None = True,
        parent: bool = True,
    ) -> None:
        """names / births: (school's, police's)."""
        f = fam(tag, surname, "Pó", "Sùng Thị Súa")
        rid = f.child(0, Who(names[1], births[1]), year=year, village=village)
        f.child(1, Who(f"{surname} Thị Chở", date(2014, 9, 9), True))  # a sister
        cid = book.case(
            f"noise_{tag}", Who(names[0], births[0]), village=f.village, parent=f.father if parent else None
        )
        EXPECT_MATCH[cid] = rid

    noisy("diacritics", "Giàng", ("Giàng A Chư", "Giang A Chu"))
    noisy("typo", "Sùng", ("Sùng A Dế", "Sùng A Dếe"))
    noisy("ly", "Lý", ("Lý Seo Tủa", "Ly Seo Tủa"))
    noisy("giang", "Giàng", ("Giàng Seo Cở", "Giang Seo Cở"))
    noisy("phan", "Phàn", ("Phàn Láo San", "Bàn Láo San"))
    noisy("order", "Vàng", ("Vàng Seo Sì", "Vàng Sì Seo"))
    noisy("swap", "Thào", ("Thào A Pó", "Thào A Pó"), (date(2011, 4, 7), date(2011, 7, 4)))
    noisy("year_plus", "Má", ("Má A Dìn", "Má A Dìn"), (born, date(2012, 4, 17)))
    noisy("year_minus", "Lù", ("Lù A Nủ", "Lù A Nủ"), (born, date(2010, 4, 17)))
    noisy("year_only", "Cứ", ("Cứ A Sang", "Cứ A Sang"), (born, None), year=2011)
    noisy("no_village", "Hầu", ("Hầu A Sà", "Hầu A Sà"), village=None)
    noisy("no_parent", "Mùa", ("Mùa Seo Mua", "Mùa Seo Mua"), parent=False)
    noisy("moved_village", "Sùng", ("Sùng Seo Giống", "Sùng Seo Giống"), village="Ngải Thầu Hạ")

    # -- twins with their own names, born the same day in one household --
    f = fam("TW", "Thào", "Lềnh", "Giàng Thị Vá")
    twin_birth = date(2012, 10, 1)
    for k, name in enumerate(("Thào A Chính", "Thào A Khua")):
        rid = f.child(k, Who(name, twin_birth))
        EXPECT_MATCH[case(f"twin_{k}", Who(name, twin_birth), f)] = rid
    return book, taken


BOOK, BACKGROUND_VILLAGES = build()
NAMESAKE_VILLAGE = "Phìn Hồ Trên"


def namesakes(book: Book) -> tuple[str, list[str]]:
    """Two "Giàng A Páo" born in 2011 (year only on record) in one village, different fathers;
    the school gives no parent: nothing tells them apart."""
    records = []
    for n, father in enumerate(("Giàng Seo Dùng", "Giàng A Sình")):
        book.resident(
            f"NS{n}F", Who(father, date(1985, 1, 1)), village=NAMESAKE_VILLAGE, head=father, relation="Chủ hộ"
        )
        records.append(
            book.resident(
                f"NS{n}C0",
                Who("Giàng A Páo", None),
                village=NAMESAKE_VILLAGE,
                head=father,
                relation="Con",
                year=2011,
            )
        )
    cid = book.case("namesakes", Who("Giàng A Páo", date(2011, 3, 3)), village=NAMESAKE_VILLAGE, parent=None)
    return cid, records


NAMESAKE_CASE, NAMESAKE_RECORDS = namesakes(BOOK)
# Not in the household books: a stranger, and a child whose brother and parents are listed.
BOOK.case(
    "absent_stranger", Who("Lò Văn Quyết", date(2010, 12, 12)), village="Khu Mới", parent="Lò Văn Tuyến"
)
ABSENT_FAMILY = Family.of(
    BOOK,
    "AB",
    village="Phìn Hồ Dưới",
    father="Tẩn Vần Lở",
    mother="Chảo Mẩy Nái",
    father_birth=date(1980, 5, 5),
)
ABSENT_FAMILY.child(0, Who("Tẩn Vần Chài", date(2009, 5, 5)))
# ... and a Hà Nhì boy whose given name is another boy's middle name (Hà Nhì children carry
# their father's given name as middle name): "Chu Sơ Lé", son of "Chu Gơ Sơ", is not "Chu Mò Sơ"
# written in another word order.
HA_NHI = Family.of(
    BOOK, "HN", village="Phìn Hồ Cao", father="Chu Gơ Sơ", mother="Lỳ Thị Xé", father_birth=date(1983, 6, 6)
)
HA_NHI.child(0, Who("Chu Sơ Lé", date(2012, 2, 20)))
BOOK.case("absent_ha_nhi", Who("Chu Mò Sơ", date(2012, 2, 20)), village=HA_NHI.village, parent="Chu Chà Mò")
# ... and a twin not in the books whose twin brother is (same day, same household).
ABSENT_TWINS = Family.of(
    BOOK,
    "AT",
    village="Phìn Hồ Giữa",
    father="Lục Văn Phong",
    mother="Vương Thị Sen",
    father_birth=date(1984, 2, 2),
)
ABSENT_TWIN_LISTED = ABSENT_TWINS.child(0, Who("Lục Văn Sáng", date(2014, 5, 2)))
BOOK.case(
    "absent_twin",
    Who("Lục Văn Dũng", date(2014, 5, 2)),
    village=ABSENT_TWINS.village,
    parent=ABSENT_TWINS.father,
)
BOOK.case(
    "absent_brother_listed",
    Who("Tẩn Vần Phin", date(2011, 8, 8)),
    village=ABSENT_FAMILY.village,
    parent=ABSENT_FAMILY.father,
)


@pytest.fixture(scope="module")
def result() -> pd.DataFrame:
    cases = pd.DataFrame(BOOK.cases, columns=CASE_COLUMNS)
    residents = pd.DataFrame(BOOK.residents, columns=RESIDENT_COLUMNS)
    residents["birth_year"] = residents["birth_year"].astype("Int64")
    return matching.match_cases(cases, residents).set_index("case_id")


def test_the_answer_does_not_depend_on_row_order(result: pd.DataFrame) -> None:
    """A database returns rows in any order; the same rows must give the same answer, in the
    order the cases were given."""
    cases = pd.DataFrame(BOOK.cases, columns=CASE_COLUMNS).sample(frac=1, random_state=11)
    residents = pd.DataFrame(BOOK.residents, columns=RESIDENT_COLUMNS).sample(frac=1, random_state=12)
    residents["birth_year"] = residents["birth_year"].astype("Int64")
    shuffled = matching.match_cases(cases, residents)
    assert list(shuffled["case_id"]) == list(cases["case_id"])
    assert shuffled.set_index("case_id").loc[result.index].to_dict("index") == result.to_dict("index")


def test_one_row_per_case_in_the_agreed_shape(result: pd.DataFrame) -> None:
    assert sorted(result.index) == sorted(c["case_id"] for c in BOOK.cases)
    assert list(result.reset_index().columns) == list(matching.OUTPUT_COLUMNS)
    assert set(result["decision"]) <= {"match", "ambiguous", "no_match"}
    for row in result.itertuples():
        assert isinstance(row.candidates, list)
        assert isinstance(row.agreed, list)
        assert isinstance(row.disagreed, list)
        assert row.score is None or 0.0 <= row.score <= 1.0
        assert (row.resident_id is not None) == (row.decision == "match")
        assert (len(row.candidates) > 0) == (row.decision == "ambiguous")


@pytest.mark.parametrize("case_id", sorted(EXPECT_MATCH))
def test_the_student_is_matched_to_their_own_record(result: pd.DataFrame, case_id: str) -> None:
    row = result.loc[case_id]
    assert row.decision == "match", f"{case_id}: {row.decision}"
    assert row.resident_id == EXPECT_MATCH[case_id], case_id


@pytest.mark.parametrize("case_id", sorted(NOT_CONFIDENTLY))
def test_an_id_pointing_at_someone_else_never_matches_them(result: pd.DataFrame, case_id: str) -> None:
    row = result.loc[case_id]
    assert not (row.decision == "match" and row.resident_id == NOT_CONFIDENTLY[case_id]), case_id
    assert "personal_id" not in row.agreed, case_id


def test_the_correct_id_is_reported_as_agreeing(result: pd.DataFrame) -> None:
    assert "personal_id" in result.loc["id_correct"].agreed


def test_namesakes_born_the_same_year_in_one_village_go_to_review(result: pd.DataFrame) -> None:
    row = result.loc[NAMESAKE_CASE]
    assert row.decision == "ambiguous"
    assert sorted(row.candidates[:2]) == sorted(NAMESAKE_RECORDS)


def test_a_student_not_in_the_books_is_not_matched(result: pd.DataFrame) -> None:
    assert result.loc["absent_stranger"].decision == "no_match"
    assert result.loc["absent_stranger"].agreed == []
    # The brother shares surname, parents, village and (nearly) age, but not the given name.
    assert result.loc["absent_brother_listed"].decision != "match"
    # A twin agrees on everything but the given name: never matched without a person.
    assert result.loc["absent_twin"].decision != "match"
    assert result.loc["absent_ha_nhi"].decision != "match"


def test_agreed_and_disagreed_fields_name_what_happened(result: pd.DataFrame) -> None:
    clean = result.loc["noise_diacritics"]
    assert {
        "surname",
        "given_name",
        "middle_name",
        "birth_date",
        "sex",
        "commune",
        "village",
        "parent",
    } <= set(clean.agreed)
    assert clean.disagreed == []
    moved = result.loc["noise_moved_village"]
    assert moved.disagreed == ["village"]
    no_village = result.loc["noise_no_village"]
    assert "village" not in no_village.agreed
    assert "village" not in no_village.disagreed
    no_parent = result.loc["noise_no_parent"]
    assert "parent" not in no_parent.agreed + no_parent.disagreed
    assert "birth_date" in result.loc["noise_swap"].agreed


@pytest.mark.parametrize(
    ("kind", "agreed"),
    [
        ("diacritics", {"surname", "given_name", "middle_name"}),
        ("typo", {"given_name"}),
        ("ly", {"surname"}),
        ("giang", {"surname"}),
        ("phan", {"surname"}),
        ("order", {"given_name", "middle_name"}),
        ("swap", {"birth_date"}),
        ("year_plus", {"birth_date"}),
        ("year_minus", {"birth_date"}),
        ("year_only", {"birth_date"}),
    ],
)
def test_each_kind_of_noise_still_counts_as_agreement(
    result: pd.DataFrame, kind: str, agreed: set[str]
) -> None:
    row = result.loc[f"noise_{kind}"]
    assert agreed <= set(row.agreed), kind
    assert row.disagreed == [], kind


def test_twins_are_told_apart_by_their_given_names(result: pd.DataFrame) -> None:
    assert result.loc["twin_0"].resident_id != result.loc["twin_1"].resident_id


def test_empty_inputs() -> None:
    cases = pd.DataFrame(BOOK.cases[:3], columns=CASE_COLUMNS)
    residents = pd.DataFrame(BOOK.residents, columns=RESIDENT_COLUMNS)
    none = matching.match_cases(cases.iloc[:0], residents)
    assert len(none) == 0
    assert list(none.columns) == list(matching.OUTPUT_COLUMNS)
    nobody = matching.match_cases(cases, residents.iloc[:0])
    assert list(nobody["decision"]) == ["no_match"] * 3
    assert nobody["score"].isna().all()


def test_with_many_ids_m_is_learnt_from_id_confirmed_pairs() -> None:
    """Enough cases with a correct ID: the model's m comes from them, not from the prior."""
    kids = [r for r in BOOK.residents if r["personal_id"] and r["relation"] == "Con"][
        : matching.MIN_ANCHORS + 20
    ]
    cases = pd.DataFrame(
        [
            {
                "case_id": f"K{i}",
                "personal_id": r["personal_id"],
                "full_name": strip_diacritics(r["full_name"]),
                "birth_date": r["birth_date"],
                "sex": r["sex"],
                "commune": COMMUNE,
                "village": r["village"],
                "parent_name": r["household_head"],
            }
            for i, r in enumerate(kids)
        ],
        columns=CASE_COLUMNS,
    )
    residents = pd.DataFrame(BOOK.residents, columns=RESIDENT_COLUMNS)
    out = matching.match_cases(cases, residents)
    assert (out["resident_id"].to_numpy() == np.array([r["resident_id"] for r in kids], dtype=object)).all()


# -- the small parts -----------------------------------------------------------------------------


def test_id_digits_are_checked_against_birth_year_and_sex() -> None:
    birth = date(2011, 4, 17)
    boy = pid(birth, False, 1)
    rows = [
        (boy, 2011, 0, True),
        (boy, 2011, 1, False),  # a girl with a boy's ID
        (pid(date(2010, 4, 17), False, 1), 2011, 0, False),  # the ID says 2010
        (pid(date(1911, 4, 17), False, 1), 2011, 0, False),  # the ID says 1911
        (boy, -1, 0, True),  # no birth year to check against
        (boy, 2011, -1, True),  # no sex to check against
        ("010 211 000 001", 2011, 0, True),  # typed with spaces
        ("12345", 2011, 0, False),
        ("không có", 2011, 0, False),
        (None, 2011, 0, False),
    ]
    checked = personal_ids(
        pd.Series([r[0] for r in rows]),
        np.array([r[1] for r in rows], dtype=np.int16),
        np.array([r[2] for r in rows], dtype=np.int8),
    )
    assert checked.consistent.tolist() == [r[3] for r in rows]
    assert (checked.number >= 0).tolist() == [True] * 7 + [False] * 3


def test_names_fold_group_and_split() -> None:
    groups = surname_groups()
    assert groups["ban"] == groups["phan"]
    assert groups["xung"] == groups["sung"]
    assert split_name("Bàn  Láo-San", groups) == ("ban", "phan", "lao", "san", "lao")
    assert split_name("Giàng Páo", groups) == ("giang", "giang", "", "pao", "")
    assert split_name(None, groups) == ("", "", "", "", "")


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("pao", "pao", True),
        ("pao", "pa", True),
        ("pao", "paoo", True),
        ("pao", "pau", True),
        ("pao", "poa", True),
        ("pao", "sua", False),
        ("pao", "po", True),
        ("chinh", "chin", True),
        ("chinh", "chi", False),
    ],
)
def test_one_letter_slips(a: str, b: str, near: bool) -> None:
    assert within_one_edit(a, b) is near
    assert within_one_edit(b, a) is near
