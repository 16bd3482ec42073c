"""The merged province of the sample generator (issue 12): its reference directory is complete
and consistent, has the province's size, gives every school one reporting unit on every day of
both school years, keeps Bát Xát's shipped rows, and the generator is deterministic for a seed
at province scale in both school years."""

from __future__ import annotations

import csv
import filecmp
import itertools
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from chuyencan.core.contacts import validate_contacts
from chuyencan.core.organisation import (
    COMMUNE_SCHOOL_KINDS,
    Organisation,
    load_organisation,
    validate_organisation,
)
from chuyencan.core.reference import Reference, load_reference
from chuyencan.core.runs import engine_for
from chuyencan.core.settings import REFERENCE_DIR, Settings
from chuyencan.submissions.pipeline import close_week, collect_new_files, prepare_warehouse
from chuyencan_dev.synth import SynthSummary, generate
from chuyencan_dev.synth.province import SMALL, write_province_reference
from tests.helpers import query

BEFORE = date(2025, 4, 4)  # a report date of 2024-25, under the districts
AFTER = date(2025, 10, 17)  # a report date of 2025-26, after the reform
LAST_DAY, REFORM = date(2025, 6, 30), date(2025, 7, 1)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("province") / "reference"
    write_province_reference(directory, seed=7)
    return directory


@pytest.fixture(scope="module")
def org(province: Path) -> Organisation:
    return load_organisation(province)


@pytest.fixture(scope="module")
def ref(province: Path) -> Reference:
    return load_reference(province)


def test_the_province_reference_has_every_file_and_validates(province: Path) -> None:
    shipped = sorted(p.name for p in REFERENCE_DIR.iterdir() if p.is_file())
    assert sorted(p.name for p in province.iterdir()) == shipped
    for name in (n for n in shipped if n.endswith(".csv")):
        with (
            (REFERENCE_DIR / name).open(encoding="utf-8") as a,
            (province / name).open(encoding="utf-8") as b,
        ):
            assert a.readline() == b.readline(), f"{name}: the columns differ from include/reference"
    assert validate_organisation(province) == []
    assert validate_contacts(province) == []


def test_the_province_has_its_size(org: Organisation, ref: Reference) -> None:
    communes_after = list(org.communes_of("SO_GDDT_LAO_CAI", AFTER))
    assert 90 <= len(communes_after) <= 110  # NQ 202/2025: 99 communes and wards
    assert {u.kind for u in communes_after} == {"xa", "phuong"}
    pre = [u for u in org.admin_units if u.level == 3 and u.in_force(BEFORE)]
    assert len(pre) >= 150
    assert {u.parent for u in org.admin_units if u.level == 2} == {"10", "15"}  # old Lào Cai and Yên Bái
    kinds = Counter(s.kind for s in ref.schools.values())
    assert sum(kinds.values()) >= 1000
    assert set(kinds) == {"TH", "THCS", "TH&THCS", "THPT", "THCS&THPT", "GDTX"}
    offices = list(org.reporting_units_in_force(BEFORE))
    assert {u.kind for u in offices} == {"phong_gddt"}
    assert len(offices) >= 15
    after = org.reporting_units_in_force(AFTER)
    assert [u.code for u in after if u.kind == "so_gddt"] == ["SO_GDDT_LAO_CAI"]
    assert len([u for u in after if u.kind == "ubnd_xa"]) == len(communes_after)


def test_every_school_has_one_unit_on_each_day_of_both_years(province: Path, ref: Reference) -> None:
    periods: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for row in _csv(province / "school_units.csv"):
        end = date.fromisoformat(row["valid_to"]) if row["valid_to"] else date.max
        periods[row["school_code"]].append((date.fromisoformat(row["valid_from"]), end))
    assert len(ref.years) == 2
    for school in ref.schools.values():
        for year in ref.years:
            # The periods touching the year, in order, must tile it: no gap, no overlap.
            inside = sorted((s, e) for s, e in periods[school.code] if s <= year.end and e >= year.start)
            assert inside, (school.code, year.name)
            assert inside[0][0] <= year.start, (school.code, year.name)
            assert inside[-1][1] >= year.end, (school.code, year.name)
            for (_, end), (start, _) in itertools.pairwise(inside):
                assert start == end + timedelta(days=1), (school.code, year.name)


def test_schools_report_to_their_office_before_and_to_their_manager_after(
    org: Organisation, ref: Reference
) -> None:
    for school in ref.schools.values():
        before = org.reporting_unit_of_school(school.code, LAST_DAY)
        after = org.reporting_unit_of_school(school.code, REFORM)
        assert before is not None
        assert before.kind == "phong_gddt"
        assert after is not None
        if school.kind in COMMUNE_SCHOOL_KINDS:
            assert after.kind == "ubnd_xa", school.code
            commune = org.unit_in_force(school.commune or "", AFTER)
            assert commune is not None, school.code
            assert commune.code == after.admin_unit, school.code
            # The school's district office served the district its commune belonged to.
            old = org.unit_in_force(school.commune or "", LAST_DAY)
            assert old is not None, school.code
            assert old.parent == before.admin_unit, school.code
        else:
            assert after.code == "SO_GDDT_LAO_CAI", school.code


def test_old_names_resolve_to_the_commune_in_force(org: Organisation, ref: Reference) -> None:
    units = {u.admin_unit: u for u in org.reporting_units_in_force(AFTER) if u.kind == "ubnd_xa"}
    absorbed: dict[str, list[str]] = defaultdict(list)
    for commune in ref.communes:
        if commune.valid_to is not None:
            continue
        before, after = org.unit_in_force(commune.name, BEFORE), org.unit_in_force(commune.name, AFTER)
        assert before is not None, commune.name
        assert before.valid_to == LAST_DAY, commune.name
        assert after is not None, commune.name
        assert after.valid_from == REFORM, commune.name
        assert after.code in units, commune.name
        for alias in commune.aliases:
            assert org.unit_in_force(alias, AFTER) == after
        absorbed[after.code].append(commune.name)
    # Every post-reform commune absorbed at least one pre-reform unit; most absorbed several.
    assert set(absorbed) == set(units)
    assert sum(len(names) > 1 for names in absorbed.values()) > len(absorbed) / 2


def test_bat_xat_keeps_its_shipped_rows_and_the_rest_is_marked_unverified(province: Path) -> None:
    for name in (
        "admin_units.csv",
        "reporting_units.csv",
        "school_units.csv",
        "schools.csv",
        "communes.csv",
        "contacts.csv",
    ):
        shipped, written = _csv(REFERENCE_DIR / name), _csv(province / name)
        assert written[: len(shipped)] == shipped, name
        if "verified" in written[0]:
            assert all(r["verified"] == "no" for r in written[len(shipped) :]), name
    sources = [
        r["source"]
        for r in _csv(province / "admin_units.csv")[len(_csv(REFERENCE_DIR / "admin_units.csv")) :]
    ]
    assert all(s.startswith("sample:") for s in sources)


def test_the_reference_is_the_same_for_a_seed(province: Path, tmp_path: Path) -> None:
    write_province_reference(tmp_path / "again", seed=7)
    write_province_reference(tmp_path / "other", seed=8)
    assert not filecmp.dircmp(province, tmp_path / "again").diff_files
    # The organisation does not depend on the seed; the invented schools do.
    assert filecmp.cmp(province / "admin_units.csv", tmp_path / "other" / "admin_units.csv", shallow=False)
    assert not filecmp.cmp(province / "schools.csv", tmp_path / "other" / "schools.csv", shallow=False)


def test_the_small_province_is_bat_xat_and_one_district_of_old_yen_bai(tmp_path: Path) -> None:
    write_province_reference(tmp_path, seed=7, districts=SMALL)
    assert validate_organisation(tmp_path) == []
    org = load_organisation(tmp_path)
    districts = {u.name: u.parent for u in org.admin_units if u.level == 2}
    assert districts == {"Bát Xát": "10", **dict.fromkeys(SMALL, "15")}
    with pytest.raises(ValueError, match="unknown district"):
        write_province_reference(tmp_path / "x", seed=7, districts=("Hà Giang",))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Callable[[date], SynthSummary]:
    """A one-week province-small sample per Friday, generated once for the module."""
    made: dict[date, SynthSummary] = {}

    def sample(week: date) -> SynthSummary:
        if week not in made:
            out = tmp_path_factory.mktemp(f"sample-{week}")
            made[week] = generate(out, seed=5, scale="province-small", first_week=week, last_week=week)
        return made[week]

    return sample


# Early Fridays: the generator simulates the year from its first week.
FIRST_WEEKS = {"2024-25": date(2024, 9, 13), "2025-26": date(2025, 9, 12)}


@pytest.mark.parametrize("week", list(FIRST_WEEKS.values()), ids=list(FIRST_WEEKS))
def test_the_generator_is_deterministic_and_its_truth_splits_by_unit(
    samples: Callable[[date], SynthSummary], tmp_path: Path, week: date
) -> None:
    a = samples(week)
    generate(tmp_path / "b", seed=5, scale="province-small", first_week=week, last_week=week)
    assert _tree(a.out_dir) == _tree(tmp_path / "b")
    assert validate_organisation(a.reference_dir) == []
    org = load_organisation(a.reference_dir)
    # Every school's week goes to exactly one unit in force on the Friday, of the year's kind.
    units = {u.code: u for u in org.reporting_units_in_force(week)}
    enrolled: Counter[str] = Counter()
    total = 0
    for row in _csv(a.truth_dir / "attendance.csv"):
        unit = org.reporting_unit_of_school(row["school_code"], week)
        assert unit is not None
        assert unit.code in units
        assert (unit.kind == "phong_gddt") == (week < REFORM)
        enrolled[unit.code] += int(row["enrolled"])
        total += int(row["enrolled"])
    assert sum(enrolled.values()) == total > 0
    assert len(enrolled) == (2 if week < REFORM else len(units))


def test_a_post_reform_week_goes_through_the_intake_as_the_truth_says(
    samples: Callable[[date], SynthSummary], tmp_path: Path
) -> None:
    """The province's reference drives the unchanged weekly intake: every file ends as the
    generator meant it, every school gets the status it should, and the figures split by unit."""
    week = FIRST_WEEKS["2025-26"]
    sample = samples(week)
    shutil.copytree(sample.inbox, tmp_path / "inbox")
    (tmp_path / "work").mkdir()
    settings = Settings(
        inbox=tmp_path / "inbox",
        work_dir=tmp_path / "work",
        warehouse_url=f"sqlite:///{tmp_path / 'work' / 'warehouse.db'}",
        reference_dir=sample.reference_dir,
        settle_seconds=0,
    )
    later = datetime(2025, 9, 22, 12, tzinfo=UTC)  # after the last late file
    engine_for.cache_clear()
    try:
        prepare_warehouse(settings)
        collect_new_files(settings, now=later)
        close_week(settings, week, now=later)
        outcomes = query(
            settings.warehouse_url, "SELECT outcome, COUNT(*) FROM ops.submission GROUP BY outcome"
        )
        rows = query(
            settings.warehouse_url,
            "SELECT school_code, status, reporting_unit FROM report.submission_status WHERE week_ending = :w",
            w=week,
        )
    finally:
        engine_for.cache_clear()
    files = _csv(sample.truth_dir / "files.csv")
    assert dict(outcomes) == dict(Counter(f["expected_outcome"] for f in files))
    truth = {s["school_code"]: s["expected_status"] for s in _csv(sample.truth_dir / "submissions.csv")}
    assert {school: status for school, status, _ in rows} == truth
    org = load_organisation(sample.reference_dir)
    by_unit: Counter[tuple[str, str]] = Counter()
    for school, status, reporting_unit in rows:
        unit = org.reporting_unit_of_school(school, week)
        assert unit is not None
        assert reporting_unit == unit.code  # the warehouse files the school under its unit
        by_unit[(unit.code, status)] += 1
    assert sum(by_unit.values()) == len(truth)
    assert {code for code, _ in by_unit} == {u.code for u in org.reporting_units_in_force(week)}
