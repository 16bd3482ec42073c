"""Which household records are worth comparing with each case (candidate pairs).

Comparing every case with every record of a commune would be tens of millions of pairs per
commune at province scale. A true record almost always shares, with the case, the commune and a
birth year within one year, plus either the surname's clan group and sex or the given name (in
either word order); or the surname and given name at any age; or the personal ID; or the exact
birth date. Records without any birth year are kept under every year. Pairs are found by
sorting integer keys (numpy), not by joins.
"""

from __future__ import annotations

import numpy as np

from chuyencan.police.records import Side

YEAR_WINDOW = 1
_YEAR_BASE = 1870
_YEAR_SLOTS = 256
_ANY_YEAR = _YEAR_SLOTS - 1  # slot of records whose birth year is unknown


def _year_slot(year: np.ndarray) -> np.ndarray:
    slot = np.clip(year.astype(np.int64) - _YEAR_BASE, 0, _ANY_YEAR - 1)
    return np.where(year < 0, _ANY_YEAR, slot)


def join_keys(probe: np.ndarray, probe_rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (probe row, key row) with probe[i] == keys[j]: sort once, two binary searches."""
    order = np.argsort(keys)
    ordered = keys[order]
    lo = np.searchsorted(ordered, probe, "left")
    hi = np.searchsorted(ordered, probe, "right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left = np.repeat(probe_rows, counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    right = order[starts + np.arange(total)]
    return left.astype(np.int64), right.astype(np.int64)


def _year_window_pairs(
    cases: Side, residents: Side, case_code: np.ndarray, resident_codes: list[np.ndarray], n_codes: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs agreeing on commune and a word code, born within YEAR_WINDOW years (or unknown)."""
    width = np.int64(n_codes + 1)

    def key(commune: np.ndarray, slot: np.ndarray, code: np.ndarray) -> np.ndarray:
        return (commune.astype(np.int64) * _YEAR_SLOTS + slot) * width + code

    usable = (case_code >= 0) & (cases.commune >= 0) & (cases.year >= 0)
    rows = np.flatnonzero(usable)
    base_slot = _year_slot(cases.year[rows])
    slots = [base_slot + d for d in range(-YEAR_WINDOW, YEAR_WINDOW + 1)] + [np.full(len(rows), _ANY_YEAR)]
    probe = np.concatenate([key(cases.commune[rows], s, case_code[rows]) for s in slots])
    probe_rows = np.tile(rows, len(slots))
    out = []
    r_slot = _year_slot(residents.year)
    for codes in resident_codes:
        keep = np.flatnonzero((codes >= 0) & (residents.commune >= 0))
        left, right = join_keys(probe, probe_rows, key(residents.commune[keep], r_slot[keep], codes[keep]))
        out.append((left, keep[right]))
    return out


def candidate_pairs(cases: Side, residents: Side, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (case row, resident row) pairs, sorted by case row then resident row."""
    found: list[tuple[np.ndarray, np.ndarray]] = []

    # Surname and sex: clan surnames are few, so this block is the big one; halve it by sex
    # (a record with a wrong sex is still found by its given name or birth date).
    def surname_sex(side: Side) -> np.ndarray:
        return np.where(side.name.group >= 0, side.name.group.astype(np.int64) * 3 + side.sex + 1, -1)

    found += _year_window_pairs(
        cases, residents, surname_sex(cases), [surname_sex(residents)], 3 * n_words + 3
    )
    found += _year_window_pairs(
        cases, residents, cases.name.given, [residents.name.given, residents.name.alt], n_words
    )
    # Surname and given name at any age: a case without a birth date, or with a wrong year.
    width = np.int64(n_words + 1)

    def full_name(side: Side, given: np.ndarray) -> np.ndarray:
        ok = (side.commune >= 0) & (side.name.group >= 0) & (given >= 0)
        key = (side.commune.astype(np.int64) * width + side.name.group) * width + given
        return np.where(ok, key, -1)

    c_key = full_name(cases, cases.name.given)
    rows = np.flatnonzero(c_key >= 0)
    for given in (residents.name.given, residents.name.alt):
        r_key = full_name(residents, given)
        keep = np.flatnonzero(r_key >= 0)
        left, right = join_keys(c_key[rows], rows, r_key[keep])
        found.append((left, keep[right]))
    has_id = np.flatnonzero(cases.ids.number >= 0)
    r_has_id = np.flatnonzero(residents.ids.number >= 0)
    left, right = join_keys(cases.ids.number[has_id], has_id, residents.ids.number[r_has_id])
    found.append((left, r_has_id[right]))
    dated = np.flatnonzero((cases.daynum >= 0) & (cases.commune >= 0))
    r_dated = np.flatnonzero((residents.daynum >= 0) & (residents.commune >= 0))
    date_key = lambda side, rows: side.commune[rows].astype(np.int64) * 200_000 + side.daynum[rows] + 100_000  # noqa: E731
    left, right = join_keys(date_key(cases, dated), dated, date_key(residents, r_dated))
    found.append((left, r_dated[right]))
    pair = np.concatenate([c * np.int64(residents.n) + r for c, r in found])
    pair.sort()
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if len(pair) else pair
    return pair // residents.n, pair % residents.n
