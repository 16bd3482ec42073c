"""The organisation as reference data (issue 12): the shipped files, resolution by date, and the
checks that catch each kind of broken row (on broken copies of the real files in tmp)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from chuyencan.core.organisation import (
    COMMUNE_SCHOOL_KINDS,
    AdminUnit,
    AmbiguousName,
    Organisation,
    OrganisationError,
    ReportingUnit,
    UnknownUnit,
    load_organisation,
    validate_organisation,
)
from chuyencan.core.reference import commune_key, load_reference
from chuyencan.core.settings import INCLUDE_DIR, REFERENCE_DIR

BEFORE = date(2025, 4, 4)  # a report date of 2024-25, under the district
AFTER = date(2025, 10, 3)  # a report date of 2025-26, after the reform

# Resolution 1673/NQ-UBTVQH15, Article 1 (items 39, 46-52): the post-reform commune that
# absorbed each pre-reform unit of Bát Xát. Written out here, independently of admin_units.csv.
ABSORBED_BY = {
    "Thị trấn Bát Xát": "Bát Xát",
    "Quang Kim": "Bát Xát",
    "Phìn Ngan": "Bát Xát",
    "Bản Qua": "Bát Xát",
    "Bản Vược": "Bát Xát",
    "A Mú Sung": "A Mú Sung",
    "Nậm Chạc": "A Mú Sung",
    "Trịnh Tường": "Trịnh Tường",
    "Cốc Mỳ": "Trịnh Tường",
    "Y Tý": "Y Tý",
    "A Lù": "Y Tý",
    "Dền Sáng": "Dền Sáng",
    "Dền Thàng": "Dền Sáng",
    "Sàng Ma Sáo": "Dền Sáng",
    "Bản Xèo": "Bản Xèo",
    "Pa Cheo": "Bản Xèo",
    "Mường Vi": "Bản Xèo",
    "Mường Hum": "Mường Hum",
    "Nậm Pung": "Mường Hum",
    "Trung Lèng Hồ": "Mường Hum",
    "Tòng Sành": "Cốc San",
}
PROVINCE_SCHOOL_KINDS = {"THPT", "THCS&THPT", "GDTX"}


@pytest.fixture(scope="module")
def org() -> Organisation:
    return load_organisation()


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def test_the_shipped_files_are_consistent():
    assert validate_organisation() == []


# --- names resolve to the unit in force on a date ---


def test_every_pre_reform_commune_resolves_as_the_pipeline_resolves_it(org, ref):
    """Before the reform a name means what Reference.resolve_commune has always said."""
    names = [(c.name, alias) for c in ref.communes for alias in (c.name, *c.aliases)]
    for day in (date(2020, 1, 15), date(2024, 9, 6), BEFORE, date(2025, 6, 30)):
        for _, written in names:
            expected = ref.resolve_commune(written, day)
            unit = org.unit_in_force(written, day)
            assert (unit is None) == (expected is None), (written, day)
            if unit is not None:
                assert commune_key(expected) in unit.keys, (written, day, unit.label)
                assert unit.in_force(day)


@pytest.mark.parametrize(("old", "new"), sorted(ABSORBED_BY.items()))
def test_an_old_commune_name_means_the_commune_that_absorbed_it_after_the_reform(org, old, new):
    before = org.unit_in_force(old, BEFORE)
    after = org.unit_in_force(old, AFTER)
    assert before is not None
    assert commune_key(old) in before.keys
    assert after is not None
    assert (after.name, after.kind) == (new, "xa")
    assert after.valid_from == date(2025, 7, 1) <= AFTER
    assert org.unit_in_force(old, date(2025, 6, 30)) == before
    assert org.unit_in_force(old, date(2025, 7, 1)) == after


def test_aliases_and_spellings_follow_the_merger(org):
    assert org.unit_in_force("A Mù Sung", AFTER).label == "xã A Mú Sung"
    assert org.unit_in_force("Cốc Mì", AFTER).label == "xã Trịnh Tường"
    assert org.unit_in_force("TT Bát Xát", BEFORE).label == "thị trấn Bát Xát"
    assert org.unit_in_force("TT Bát Xát", AFTER).label == "xã Bát Xát"
    assert org.unit_in_force("thi tran bat xat", AFTER).label == "xã Bát Xát"


def test_a_chain_of_mergers_is_followed_to_the_date(org):
    # Ngải Thầu joined A Lù (NQ 896/NQ-UBTVQH14, in force 2020-03-01), A Lù joined Y Tý in 2025.
    assert org.unit_in_force("Ngải Thầu", date(2020, 2, 29)).label == "xã Ngải Thầu"
    assert org.unit_in_force("Ngải Thầu", date(2020, 3, 1)).label == "xã A Lù"
    assert org.unit_in_force("Ngải Thầu", AFTER).label == "xã Y Tý"


def test_names_that_mean_nothing_on_the_date(org):
    assert org.unit_in_force("Hà Nội", AFTER) is None
    assert org.unit_in_force("Cốc San", BEFORE) is None  # the new commune did not exist yet
    assert org.unit_in_force("Bát Xát", BEFORE, level="district").label == "huyện Bát Xát"
    assert (
        org.unit_in_force("huyện Bát Xát", AFTER, level="district") is None
    )  # no districts after 2025-06-30
    assert org.unit_in_force("Yên Bái", AFTER, level="province").label == "tỉnh Lào Cai"
    assert org.unit_in_force("Lào Cai", BEFORE, level="province").code == "10"
    assert org.unit_in_force("tỉnh Lào Cai", AFTER, level="province").code == "15"


def test_no_commune_in_force_on_the_eve_of_the_reform_is_lost(org):
    eve, day = date(2025, 6, 30), date(2025, 7, 1)
    for unit in org.communes_of("082", eve):
        successor = org.unit_in_force(unit.name, day)
        assert successor is not None, unit.label
        assert successor.in_force(day)
        assert successor.name == ABSORBED_BY[unit.name if unit.kind == "xa" else f"Thị trấn {unit.name}"]


def test_a_commune_split_between_successors_is_ambiguous_after_the_split(tmp_path):
    directory = _copy(tmp_path)
    _replace(
        "admin_units.csv",
        "2025-06-30,02683,,NQ 1673/NQ-UBTVQH15 Art. 1 item 52,yes\n02716",
        "2025-06-30,02683|02686,,split,no\n02716",
    )(directory)
    split = load_organisation(directory)
    assert split.unit_in_force("Phìn Ngan", BEFORE).label == "xã Phìn Ngan"
    with pytest.raises(AmbiguousName) as caught:
        split.unit_in_force("Phìn Ngan", AFTER)
    assert caught.value.candidates == ("xã A Mú Sung", "xã Bát Xát")
    # A school in a commune that split must name its new commune: the check says so.
    _replace(
        "admin_units.csv",
        "02734,Quang Kim,xa,082,2000-01-01,2025-06-30,02683,",
        "02734,Quang Kim,xa,082,2000-01-01,2025-06-30,02683|02686,",
    )(directory)
    problems = validate_organisation(directory)
    assert any("'Quang Kim' means more than one unit on 2025-07-01" in p for p in problems), problems


# --- schools' reporting unit ---


def test_each_school_reports_to_the_education_office_before_and_to_its_manager_after(org, ref):
    for school in ref.active_schools(BEFORE):
        assert org.reporting_unit_of_school(school.code, BEFORE).code == "BAT_XAT"
        after = org.reporting_unit_of_school(school.code, AFTER)
        if school.kind in PROVINCE_SCHOOL_KINDS:
            assert (after.kind, after.code) == ("so_gddt", "SO_GDDT_LAO_CAI"), school.code
        else:
            assert school.kind in COMMUNE_SCHOOL_KINDS
            commune = org.unit_in_force(school.commune, AFTER)
            assert (after.kind, after.admin_unit) == ("ubnd_xa", commune.code), school.code
            assert commune.name == ABSORBED_BY[school.commune]
    # The Ngải Thầu school sits in A Lù, which joined Y Tý.
    assert org.reporting_unit_of_school("BX-NTH", AFTER).code == "XA_Y_TY"


def test_every_school_has_exactly_one_unit_on_every_day_of_both_school_years(org, ref):
    for year in ref.years:
        day = year.start
        while day <= year.end:
            for school in ref.active_schools(day):
                units = [a for a in org.assignments if a.school_code == school.code and a.in_force(day)]
                assert len(units) == 1, (school.code, day)
                assert org.reporting_unit_of_school(school.code, day) is not None
            day += timedelta(days=1)


def test_schools_of_a_unit_partition_the_schools(org, ref):
    for day in (BEFORE, AFTER):
        assigned = [s for u in org.reporting_units_in_force(day) for s in org.schools_of(u.code, day)]
        assert sorted(assigned) == sorted(s.code for s in ref.active_schools(day))


# --- reporting units ---


def test_reporting_units_in_force_come_before_their_parent(org):
    assert [u.code for u in org.reporting_units_in_force(BEFORE)] == ["BAT_XAT"]
    after = org.reporting_units_in_force(AFTER)
    codes = [u.code for u in after]
    assert codes[-1] == "SO_GDDT_LAO_CAI"
    for unit in after:
        assert unit.in_force(AFTER)
        if unit.parent:
            assert codes.index(unit.parent) > codes.index(unit.code)
    assert {u.admin_unit for u in after if u.kind == "ubnd_xa"} == {
        c.code for c in org.communes_of("15", AFTER)
    }


def test_communes_of_a_unit(org, ref):
    before = org.communes_of("BAT_XAT", BEFORE)
    district = [
        c for c in ref.communes if c.valid_from <= BEFORE and (c.valid_to is None or c.valid_to >= BEFORE)
    ]
    assert sorted(commune_key(c.name) for c in district) == sorted(commune_key(u.name) for u in before)
    department = org.communes_of("SO_GDDT_LAO_CAI", AFTER)
    per_commune = [
        c
        for u in org.reporting_units_in_force(AFTER)
        if u.kind == "ubnd_xa"
        for c in org.communes_of(u.code, AFTER)
    ]
    assert sorted(c.code for c in per_commune) == sorted(c.code for c in department)
    assert [c.label for c in org.communes_of("XA_Y_TY", AFTER)] == ["xã Y Tý"]


def test_parent_chain(org):
    chain = org.parent_chain("XA_Y_TY", AFTER)
    assert all(isinstance(u, ReportingUnit) for u in chain)
    assert [u.code for u in chain] == ["XA_Y_TY", "SO_GDDT_LAO_CAI"]
    before = org.parent_chain("02692", BEFORE)
    assert all(isinstance(u, AdminUnit) for u in before)
    assert [u.label for u in before] == ["xã A Lù", "huyện Bát Xát", "tỉnh Lào Cai"]
    assert [u.code for u in org.parent_chain("02701", AFTER)] == ["02701", "15"]
    with pytest.raises(UnknownUnit):
        org.parent_chain("082", AFTER)
    with pytest.raises(UnknownUnit):
        org.communes_of("BAT_XAT", AFTER)


# The lines of include/templates/report/issuer.json, the report's letterhead until issue 12 made
# reporting_units.json its only source: Bát Xát's report must keep them exactly.
BAT_XAT_LETTERHEAD = {
    "parent_agency": "UBND HUYỆN BÁT XÁT",
    "office": "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
    "office_name": "Phòng Giáo dục và Đào tạo huyện Bát Xát",
    "place": "Bát Xát",
    "area": "huyện Bát Xát",
    "document_number": "Số:          /BC-PGDĐT",
    "addressee": "Ủy ban nhân dân huyện Bát Xát",
    "signer_title": "TRƯỞNG PHÒNG",
    "recipients": [
        "Thường trực UBND huyện (b/c);",
        "Lãnh đạo Phòng GD&ĐT;",
        "UBND các xã, thị trấn;",
        "Các trường THCS, THPT, TT GDNN-GDTX;",
        "Lưu: VT.",
    ],
}


def test_the_district_unit_keeps_the_reports_letterhead_exactly(org):
    assert org.reporting_unit("BAT_XAT", BEFORE).letterhead.as_dict() == BAT_XAT_LETTERHEAD
    # One source: the report has no letterhead file of its own any more.
    assert not (INCLUDE_DIR / "templates" / "report" / "issuer.json").exists()


def test_each_post_reform_unit_has_its_own_letterhead(org):
    for unit in org.reporting_units_in_force(AFTER):
        area = org.admin_unit(unit.admin_unit, AFTER)
        lines = [*unit.letterhead.as_dict().values()]
        text = json.dumps(lines, ensure_ascii=False)
        assert "{" not in text
        assert "}" not in text
        assert unit.letterhead.area == area.label
        assert unit.letterhead.place == area.name
        assert area.name.upper() in unit.letterhead.parent_agency
        assert unit.schedule == "fortnightly"
        assert all(e.endswith("@example.org") for e in unit.emails)


# --- each kind of broken row is caught, with where it is ---


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, directory)
    return directory


def _replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        path = directory / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def _append(name: str, line: str) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        with (directory / name).open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    return edit


def _letterheads(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        path = directory / "reporting_units.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    return edit


@dataclass(frozen=True)
class At:
    """The problem must name the line of `file` that starts with `row` (in the broken copy)."""

    file: str
    row: str

    def where(self, directory: Path) -> str:
        lines = (directory / self.file).read_text(encoding="utf-8").splitlines()
        return f"{self.file} line {next(n for n, line in enumerate(lines, 1) if line.startswith(self.row))}"


BROKEN: dict[str, tuple[Callable[[Path], None], list[str | At]]] = {
    "overlapping validity of a code": (
        _append("admin_units.csv", "02734,Quang Kim mới,xa,082,2025-01-01,2025-06-30,,,test,no"),
        [At("admin_units.csv", "02734,Quang Kim mới"), "code 02734 is already in force on 2025-01-01"],
    ),
    "missing parent": (
        _replace("admin_units.csv", "02716,Bản Qua,xa,082,", "02716,Bản Qua,xa,083,"),
        [At("admin_units.csv", "02716,"), "parent '083' does not exist"],
    ),
    "parent not in force for the whole validity": (
        _replace(
            "admin_units.csv",
            "02749,Tòng Sành,xa,082,2000-01-01,2025-06-30,02746",
            "02749,Tòng Sành,xa,082,2000-01-01,,",
        ),
        [At("admin_units.csv", "02749,"), "parent '082' is not in force on 2025-07-01"],
    ),
    "parent at the same level": (
        _replace("admin_units.csv", "02716,Bản Qua,xa,082,", "02716,Bản Qua,xa,02734,"),
        [At("admin_units.csv", "02716,"), "parent '02734' is not a higher level"],
    ),
    "missing successor": (
        _replace("admin_units.csv", "2025-06-30,02746,", "2025-06-30,02999,"),
        [At("admin_units.csv", "02749,"), "successor '02999' does not exist"],
    ),
    "successor not in force the day after": (
        _replace(
            "admin_units.csv",
            "02698,Ngải Thầu,xa,082,2000-01-01,2020-02-29,02692",
            "02698,Ngải Thầu,xa,082,2000-01-01,2025-06-30,02692",
        ),
        [At("admin_units.csv", "02698,"), "successor '02692' is not in force on 2025-07-01"],
    ),
    "successors without an end": (
        _replace(
            "admin_units.csv", "02746,Cốc San,xa,15,2025-07-01,,,", "02746,Cốc San,xa,15,2025-07-01,,02683,"
        ),
        [At("admin_units.csv", "02746,"), "has successors but no valid_to"],
    ),
    "ambiguous alias": (
        _replace(
            "admin_units.csv",
            "02743,Phìn Ngan,xa,082,2000-01-01,2025-06-30,02683,,",
            "02743,Phìn Ngan,xa,082,2000-01-01,2025-06-30,02683,Quang Kim,",
        ),
        [At("admin_units.csv", "02743,"), "also means xã Quang Kim", "unambiguous"],
    ),
    "bad date": (
        _replace("admin_units.csv", "02716,Bản Qua,xa,082,2000-01-01", "02716,Bản Qua,xa,082,01/01/2000"),
        [At("admin_units.csv", "02716,"), "valid_from '01/01/2000' is not a date"],
    ),
    "end before start": (
        _replace(
            "admin_units.csv",
            "02716,Bản Qua,xa,082,2000-01-01,2025-06-30",
            "02716,Bản Qua,xa,082,2000-01-01,1999-06-30",
        ),
        [At("admin_units.csv", "02716,"), "valid_to 1999-06-30 is before valid_from 2000-01-01"],
    ),
    "unknown kind": (
        _replace("admin_units.csv", "02716,Bản Qua,xa,", "02716,Bản Qua,village,"),
        [At("admin_units.csv", "02716,"), "kind 'village'"],
    ),
    "commune without parent": (
        _replace("admin_units.csv", "02716,Bản Qua,xa,082,", "02716,Bản Qua,xa,,"),
        [At("admin_units.csv", "02716,"), "a xã needs its parent unit"],
    ),
    "reporting unit on a missing administrative unit": (
        _replace("reporting_units.csv", "ubnd_xa,02701,", "ubnd_xa,02999,"),
        [At("reporting_units.csv", "XA_Y_TY,"), "administrative unit '02999' does not exist"],
    ),
    "reporting unit with a missing parent": (
        _replace("reporting_units.csv", "ubnd_xa,02701,SO_GDDT_LAO_CAI", "ubnd_xa,02701,SO_GDDT_YEN_BAI"),
        [At("reporting_units.csv", "XA_Y_TY,"), "parent 'SO_GDDT_YEN_BAI' does not exist"],
    ),
    "reporting unit outliving its administrative unit": (
        _replace(
            "reporting_units.csv", "phong_gddt,082,,2000-01-01,2025-06-30", "phong_gddt,082,,2000-01-01,"
        ),
        [At("reporting_units.csv", "BAT_XAT,"), "administrative unit '082' is not in force on 2025-07-01"],
    ),
    "reporting unit of the wrong level": (
        _replace("reporting_units.csv", "ubnd_xa,02701,", "ubnd_xa,15,"),
        [At("reporting_units.csv", "XA_Y_TY,"), "a ubnd_xa serves a unit of level 3, not tỉnh Lào Cai"],
    ),
    "overlapping reporting units": (
        _append(
            "reporting_units.csv",
            "XA_Y_TY,Ủy ban nhân dân xã Y Tý,ubnd_xa,02701,SO_GDDT_LAO_CAI,2026-01-01,,fortnightly,,no",
        ),
        [
            At("reporting_units.csv", "XA_Y_TY,Ủy ban nhân dân xã Y Tý,ubnd_xa,02701,SO_GDDT_LAO_CAI,2026"),
            "reporting unit XA_Y_TY is already in force on 2026-01-01",
        ],
    ),
    "parents in a circle": (
        _replace("reporting_units.csv", "so_gddt,15,,", "so_gddt,15,XA_Y_TY,"),
        ["parents go round in a circle"],
    ),
    "unknown schedule": (
        _replace(
            "reporting_units.csv",
            "SO_GDDT_LAO_CAI,2025-07-01,,fortnightly,vhxh.yty",
            "SO_GDDT_LAO_CAI,2025-07-01,,daily,vhxh.yty",
        ),
        [At("reporting_units.csv", "XA_Y_TY,"), "schedule 'daily'"],
    ),
    "bad email": (
        _replace("reporting_units.csv", "vhxh.yty@example.org", "vhxh.yty.example.org"),
        [At("reporting_units.csv", "XA_Y_TY,"), "'vhxh.yty.example.org' is not an email address"],
    ),
    "letterhead line missing": (
        _letterheads(lambda d: d["kinds"]["ubnd_xa"].pop("signer_title")),
        [At("reporting_units.csv", "XA_BAT_XAT,"), "(reporting_units.json)", "letterhead needs"],
    ),
    "letterhead with an unknown placeholder": (
        _letterheads(lambda d: d["kinds"]["so_gddt"].update(place="{city}")),
        [
            At("reporting_units.csv", "SO_GDDT_LAO_CAI,"),
            "(reporting_units.json)",
            "unknown placeholder 'city'",
        ],
    ),
    "letterhead of a unit that does not exist": (
        _letterheads(lambda d: d["units"].update(PGD_SA_PA=d["units"]["BAT_XAT"])),
        ["reporting_units.json", "letterhead for 'PGD_SA_PA'"],
    ),
    "letterhead file not JSON": (
        lambda directory: (directory / "reporting_units.json").write_text("{", encoding="utf-8"),
        ["reporting_units.json", "is not valid JSON"],
    ),
    "assignment of an unknown school": (
        _append("school_units.csv", "BX-XYZ,XA_Y_TY,2025-07-01,,test,no"),
        [At("school_units.csv", "BX-XYZ,"), "school 'BX-XYZ' is not in schools.csv"],
    ),
    "assignment to an unknown unit": (
        _replace("school_units.csv", "BX-YTY,XA_Y_TY,", "BX-YTY,XA_A_LU,"),
        [At("school_units.csv", "BX-YTY,XA_A_LU,"), "reporting unit 'XA_A_LU' does not exist"],
    ),
    "assignment to a unit not yet in force": (
        _replace("school_units.csv", "BX-YTY,BAT_XAT,", "BX-YTY,XA_Y_TY,"),
        [
            At("school_units.csv", "BX-YTY,XA_Y_TY,2000"),
            "reporting unit 'XA_Y_TY' is not in force on 2000-01-01",
        ],
    ),
    "a gap in a school year": (
        _replace(
            "school_units.csv", "BX-THPT2,SO_GDDT_LAO_CAI,2025-07-01,", "BX-THPT2,SO_GDDT_LAO_CAI,2025-10-01,"
        ),
        ["school BX-THPT2 has no reporting unit on 2025-09-05 (school year 2025-2026)"],
    ),
    "two units at once": (
        _append("school_units.csv", "BX-THPT2,XA_BAT_XAT,2026-01-01,,test,no"),
        [At("school_units.csv", "BX-THPT2,XA_BAT_XAT,"), "school BX-THPT2 is already in force on 2026-01-01"],
    ),
    "an upper-secondary school under a commune": (
        _replace("school_units.csv", "BX-THPT1,SO_GDDT_LAO_CAI,", "BX-THPT1,XA_BAT_XAT,"),
        [
            At("school_units.csv", "BX-THPT1,XA_BAT_XAT,"),
            "BX-THPT1 is a THPT school: a commune (XA_BAT_XAT) does not manage it",
        ],
    ),
    "a school under another commune's unit": (
        _replace("school_units.csv", "BX-AMS,XA_A_MU_SUNG,", "BX-AMS,XA_Y_TY,"),
        ["BX-AMS is in A Mú Sung (xã A Mú Sung on 2025-07-01), not in XA_Y_TY's commune"],
    ),
    "communes.csv disagrees": (
        _replace(
            "communes.csv",
            "Cốc Mỳ,xa,Bát Xát,2000-01-01,,,Cốc Mì,no",
            "Cốc Mỳ,xa,Bát Xát,2000-01-01,,,Cốc Mì|Cốc My Hạ,no",
        ),
        ["communes.csv Cốc Mỳ", "aliases Cốc My Hạ are missing in admin_units.csv"],
    ),
    "a missing column": (
        _replace("school_units.csv", "school_code,reporting_unit,", "school,reporting_unit,"),
        ["school_units.csv", "missing column(s) school_code"],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_row_is_reported_with_where_it_is(tmp_path, case):
    edit, parts = BROKEN[case]
    directory = _copy(tmp_path)
    edit(directory)
    expected = [p.where(directory) if isinstance(p, At) else p for p in parts]
    with pytest.raises(OrganisationError) as caught:
        load_organisation(directory)
    problems = caught.value.problems
    assert any(all(part in p for part in expected) for p in problems), problems
    assert validate_organisation(directory) == list(problems)


def test_every_problem_is_listed_at_once(tmp_path):
    directory = _copy(tmp_path)
    for case in ("missing parent", "bad email", "a gap in a school year"):
        BROKEN[case][0](directory)
    problems = validate_organisation(directory)
    for case in ("missing parent", "bad email", "a gap in a school year"):
        expected = [p.where(directory) if isinstance(p, At) else p for p in BROKEN[case][1]]
        assert any(all(part in p for part in expected) for p in problems), (case, problems)
