"""A commune of 200,000+ household records: `police_reconciliation` completes through Airflow's
own `dag.test()`, and the matcher's candidates stay bounded however skewed the surnames are.

The large extract is generated here (never committed): A Mú Sung's small book from the police
tests plus 200,000 people in households whose surnames are as skewed as in the highland
(Giàng alone ~18 %, the top five ~55 %). Their given names are kept more than one letter away from
every name of the scenario's students, so the scenario's verdicts are what the records imply.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from chuyencan.core.schema import case_match, case_verdict, police_extract_current, police_resident
from chuyencan.core.settings import TIMEZONE
from chuyencan.core.text import fold
from chuyencan.police import scoring as sc
from chuyencan.police.blocking import BLOCK_CAP, PAIR_BUDGET, Blocks
from chuyencan.police.matching import TOP_K, best_candidates
from chuyencan.police.names import tokens, within_one_edit
from chuyencan.police.records import Vocabularies, prepare_cases, prepare_residents
from chuyencan.submissions.pipeline import collect_new_files, engine_for
from tests.test_police_dag import FRIDAY_NOON, run_reconciliation, scenario_in_airflow
from tests.test_police_intake import AMS_BOOK, make_settings, write_extract
from tests.test_police_verdicts import EXPECTED, STUDENT_ROWS, key_of

LARGE = 200_000
SURNAMES = {"Giàng": 18, "Vàng": 12, "Sùng": 10, "Lý": 8, "Thào": 7, "Hầu": 5, "Lù": 5, "Má": 5}
SURNAMES |= dict.fromkeys(
    ("Cứ", "Mùa", "Tráng", "Vừ", "Chang", "Sần", "Hạng", "Lầu", "Sình", "Ly", "Phu", "Dương"), 30 / 12
)
MIDDLES = {"M": ("A", "Seo", "Văn", "Mí"), "F": ("Thị", "Mỷ", "Seo")}
GIVEN = [
    "Chứ",
    "Lử",
    "Pàng",
    "Chá",
    "Giống",
    "Mang",
    "Say",
    "Dính",
    "Chơ",
    "Tủa",
    "Lỳ",
    "Sính",
    "Cở",
    "Nủ",
    "Vảng",
    "Tú",
    "Chẩu",
    "Sèng",
    "Hờ",
    "Dìn",
    "Khua",
    "Lềnh",
    "Xá",
    "Thắng",
    "Phìn",
    "Quẩy",
    "Chài",
    "Kiềm",
    "Lở",
    "Sành",
    "Sua",
    "Pà",
    "Chư",
    "Sy",
    "Xúa",
    "Dua",
    "Mẩy",
    "Phù",
    "Kiều",
    "Chạn",
    "Mùi",
    "Dín",
    "Hoa",
    "Lan",
    "Nhung",
]
VILLAGES = ("Lũng Pô", "Pờ Hồ", "Sín Chải", "Ma Quai", "Cán Hồ", "Lao Chải", "Tả Phìn", "Nậm Lư")


def scenario_words() -> set[str]:
    words: set[str] = set()
    for row in [*AMS_BOOK, *STUDENT_ROWS]:
        for key in ("ho_ten", "chu_ho", "full_name", "parent_name"):
            words.update(tokens(row.get(key)))
    return words


def large_book(n: int, seed: int = 16) -> list[dict[str, Any]]:
    """n people of A Mú Sung in households (a head, a spouse, children), skewed surnames."""
    taken = scenario_words()
    given = [g for g in GIVEN if not any(within_one_edit(fold(g), w) for w in taken)]
    rng = random.Random(seed)
    g = np.random.default_rng(seed)
    surnames = list(SURNAMES)
    weights = np.array(list(SURNAMES.values()), dtype=float)
    family = g.choice(len(surnames), n, p=weights / weights.sum())
    rows: list[dict[str, Any]] = []
    serial = 0
    while len(rows) < n:
        surname = surnames[family[len(rows)]]
        village = rng.choice(VILLAGES)
        father_year = rng.randint(1965, 1995)
        head = f"{surname} {rng.choice(MIDDLES['M'])} {rng.choice(given)}"
        members = [(head, father_year, "Nam", "Chủ hộ")]
        members.append(
            (f"{surnames[family[-1 - len(rows)]]} Thị {rng.choice(given)}", father_year + 2, "Nữ", "Vợ")
        )
        for _ in range(rng.randint(1, 5)):
            sex = rng.choice(("Nam", "Nữ"))
            middle = rng.choice(MIDDLES["M" if sex == "Nam" else "F"])
            members.append(
                (f"{surname} {middle} {rng.choice(given)}", rng.randint(father_year + 20, 2022), sex, "Con")
            )
        for name, year, sex, relation in members:
            serial += 1
            # Digit 4: born 1900-1999 male 0 / female 1, from 2000 male 2 / female 3.
            digit = (year >= 2000) * 2 + (sex == "Nữ")
            day = date(year, 1, 1).toordinal() + rng.randrange(365)
            rows.append(
                {
                    "so_dinh_danh": f"010{digit}{year % 100:02d}{serial:06d}" if rng.random() < 0.9 else "",
                    "ho_ten": name,
                    "ngay_sinh": date.fromordinal(day).strftime("%d/%m/%Y")
                    if rng.random() < 0.94
                    else str(year),
                    "gioi_tinh": sex,
                    "xa": "A Mú Sung",
                    "thon": village,
                    "chu_ho": head,
                    "quan_he_chu_ho": relation,
                    "tinh_trang_cu_tru": "Thường trú",
                }
            )
    return rows[:n]


@pytest.mark.airflow
def test_reconciliation_of_a_commune_of_200k_records_completes(
    tmp_path: Path, smtp_sink: Any, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse' / 'warehouse.db'}"
    settings = make_settings(tmp_path, url)
    scenario_in_airflow(settings, smtp_sink.port, monkeypatch)
    assert settings.police_inbox is not None
    # The commune's extract in effect is the large one (received after the scenario's small one).
    write_extract(
        settings.police_inbox / "A-Mu-Sung_2025-03-12.csv",
        [*AMS_BOOK, *large_book(LARGE)],
        received_at=datetime(2025, 3, 12, 16, tzinfo=TIMEZONE),
    )
    assert collect_new_files(settings, now=FRIDAY_NOON)["accepted"] == 2

    assert run_reconciliation(FRIDAY_NOON) == "success"

    with engine_for(url).connect() as conn:
        verdicts = {r.student_key: r.verdict for r in conn.execute(select(case_verdict))}
        current = conn.execute(
            select(police_extract_current.c.extract_id).where(police_extract_current.c.commune == "A Mú Sung")
        ).scalar_one()
        residents = conn.execute(
            select(func.count()).select_from(police_resident).where(police_resident.c.extract_id == current)
        ).scalar_one()
        matched_with = set(
            conn.execute(select(case_match.c.extract_id).where(case_match.c.commune == "A Mú Sung")).scalars()
        )
    # The students were matched against the 200,000-record extract, and their verdicts are what
    # the scenario's records imply.
    assert residents > LARGE
    assert matched_with == {current}
    assert {label: verdicts[key_of(label)] for label in EXPECTED} == EXPECTED


def skewed_frames(n_cases: int, seed: int = 16) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Matcher frames: the large book as records, n_cases of its children as a school writes
    them, and each case's own record row."""
    book = pd.DataFrame(large_book(LARGE, seed))
    dates = pd.to_datetime(book["ngay_sinh"], format="%d/%m/%Y", errors="coerce")
    residents = pd.DataFrame(
        {
            "resident_id": [f"R{i:06d}" for i in range(len(book))],
            "personal_id": book["so_dinh_danh"].replace("", None),
            "full_name": book["ho_ten"],
            "birth_date": dates.dt.date.astype(object).where(dates.notna(), None),
            "birth_year": book["ngay_sinh"].str[-4:].astype(int),
            "sex": np.where(book["gioi_tinh"] == "Nam", "M", "F"),
            "commune": book["xa"],
            "village": book["thon"],
            "household_head": book["chu_ho"],
            "relation": book["quan_he_chu_ho"],
        }
    )
    children = np.flatnonzero((residents["birth_year"] >= 2007).to_numpy() & dates.notna().to_numpy())
    picked = np.random.default_rng(seed).choice(children, n_cases, replace=False)
    chosen = residents.iloc[picked]
    cases = pd.DataFrame(
        {
            "case_id": [f"C{i:06d}" for i in range(n_cases)],
            "personal_id": chosen["personal_id"].to_numpy(),
            "full_name": chosen["full_name"].to_numpy(),
            "birth_date": chosen["birth_date"].to_numpy(),
            "sex": chosen["sex"].to_numpy(),
            "commune": chosen["commune"].to_numpy(),
            "village": chosen["village"].to_numpy(),
            "parent_name": chosen["household_head"].to_numpy(),
        }
    )
    return cases, residents, picked


def test_candidates_per_case_are_bounded_however_skewed_the_surnames() -> None:
    cases, residents, own = skewed_frames(5_000)
    vocab = Vocabularies()
    c, r = prepare_cases(cases, vocab), prepare_residents(residents, vocab)
    blocks = Blocks(c, r)
    per_case = blocks.per_case()
    # Each lookup reaches one block of at most BLOCK_CAP records.
    lookups = np.zeros(c.n, dtype=np.int64)
    for p in blocks.probes:
        assert (p.count <= BLOCK_CAP).all()
        lookups += np.bincount(p.case, minlength=c.n)
    assert (per_case <= BLOCK_CAP * lookups).all()
    # A fifth of the commune shares one surname, yet no case meets more than a few hundred records.
    assert per_case.max() < 2_000
    chunks = list(blocks.chunks(budget=PAIR_BUDGET // 20))
    assert len(chunks) > 1
    assert sum(len(a) for a, _ in chunks) <= per_case.sum()
    pairs, _ = best_candidates(
        c,
        r,
        sc.FuzzyWords(vocab.words.words),
        sc.MemberIndex(r),
        {name: np.full(sc.N_LEVELS[name], 0.5) for name in sc.FIELDS},
    )
    assert np.bincount(pairs.case, minlength=c.n).max() <= TOP_K
    # Every case's own record is among its candidates.
    found = pairs.case.astype(np.int64) * r.n + pairs.resident
    assert np.isin(np.arange(c.n, dtype=np.int64) * r.n + own, found).all()
