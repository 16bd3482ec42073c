"""When a personal ID may decide a match, and when it is wrong.

The ID is the best evidence there is, when it is right. Schools mistype IDs, and sometimes copy
a brother's or sister's; a mistyped ID can be another real person's. So an equal ID counts only
when the record it points to has the student's name, birth year and sex, and no other candidate
record fits the student's name better with a birth date at least as good (twins whose names
differ by one letter, one carrying the other's ID). Otherwise the case's ID is dropped: a wrong
ID is evidence neither for nor against anyone, and the other fields decide.
"""

from __future__ import annotations

import numpy as np

from chuyencan.police import scoring as sc


def vouched(levels: dict[str, np.ndarray], *, strict: bool) -> np.ndarray:
    """Does the record have the student's name, birth year and sex?

    strict: the given name agrees exactly (diacritics, clan spelling and word order aside);
    otherwise one letter may differ.
    """
    given_ok = levels["given_name"] >= (sc.NAME_VARIANT if strict else sc.NAME_ONE_EDIT)
    surname_ok = levels["surname"] != sc.NAME_OTHER
    birth_ok = levels["birth_date"] != sc.BIRTH_FAR
    sex_ok = levels["sex"] != 0
    return given_ok & surname_ok & birth_ok & sex_ok


def _outdone(levels: dict[str, np.ndarray], case: np.ndarray, target: np.ndarray) -> np.ndarray:
    """For each pair in `target`: does another pair of the same case agree better on the given
    name and at least as well on surname, birth date and sex?"""
    by_case = np.full(int(case.max(initial=-1)) + 1, -1, dtype=np.int64)
    by_case[case[target]] = target
    rival_of = by_case[case]  # the target pair of each pair's case, -1 when none
    rivals = np.flatnonzero((rival_of >= 0) & (rival_of != np.arange(len(case))))
    t = rival_of[rivals]
    better = levels["given_name"][rivals] > levels["given_name"][t]
    for name in ("surname", "birth_date", "sex"):
        better &= levels[name][rivals] >= levels[name][t]
    outdone = np.zeros(len(case), dtype=bool)
    outdone[t[better]] = True
    return outdone[target]


def drop_wrong_ids(levels: dict[str, np.ndarray], case: np.ndarray, n_cases: int) -> int:
    """Set the ID level of every pair of a case with a wrong ID to NULL; returns how many cases.

    `case` is each pair's case row, pairs sorted by case.
    """
    ids = levels["personal_id"]
    exact = np.flatnonzero(ids == sc.ID_EXACT)
    if len(exact) == 0:
        return 0
    wrong = exact[~vouched({k: v[exact] for k, v in levels.items()}, strict=False)]
    trusted = np.setdiff1d(exact, wrong)
    if len(trusted):
        wrong = np.union1d(wrong, trusted[_outdone(levels, case, trusted)])
    if len(wrong) == 0:
        return 0
    bad_case = np.zeros(n_cases, dtype=bool)
    bad_case[case[wrong]] = True
    ids[bad_case[case]] = sc.NULL
    return int(bad_case.sum())
