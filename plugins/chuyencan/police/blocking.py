"""Which household records are worth comparing with each case (candidate pairs), bounded.

A true record shares with the case, whatever single slip the clerk made, at least one of these
keys (all but the ID inside the commune):

- `name_year`: surname clan group, given name, birth year within one year (the record's second
  word counts as its given name too: "surname given middle" typed by the police);
- `family_village`, `given_village`: surname group and sex with the village and the birth year
  within one year, or the given name with the village and the birth year (a slip in the other
  name of a record with only a birth year, or with a wrong year);
- `middle_given`: middle and given name, birth year (a misspelt surname, the record has only a
  birth year);
- `name_day`: surname clan group, given name, birth month and day, any year (a wrong year);
- `given_month`: given name, birth month, birth year within one year (a misspelt surname);
- `date`: the exact birth date, or its day and month swapped (a misspelt given name, a name
  typed in another order);
- `bag`, `outer`: the name's words sorted, clan spellings grouped, or (for a record of two
  words) its first and last words sorted, and the birth year (a name typed given-name first,
  "Páo Giàng A", or "Páo Giàng" with the middle name dropped);
- `name_any`: surname group and given name at any age, for cases without a birth year;
- `id`, `id_head`, `id_tail`: the personal ID, and the ID with its last or middle three
  serial digits masked (one mistyped digit).

Records whose birth year is unknown are filed under an "any year" slot that every case probes.
No key joins on the surname alone: a surname shared by a fifth of a commune would make a block
of tens of thousands. Every key combines rarer values, and a block larger than `BLOCK_CAP` is
not used at all (its case still has its other keys), so a case has at most
`BLOCK_CAP × probes` candidates however skewed the names are. Pairs are produced in chunks of
cases holding at most `PAIR_BUDGET` pairs (counted before anything is materialised), so the
memory of blocking is bounded by the budget, not by the size of a commune.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from chuyencan.police.records import Side, take

YEAR_WINDOW = 1
BLOCK_CAP = 200  # records in one block, above which the block is not used
PAIR_BUDGET = 2_000_000  # candidate pairs materialised at once (before de-duplication)
_ANY_YEAR = -7  # year slot of records whose birth year is unknown
_MULT = np.uint64(0x9E3779B97F4A7C15)


def _key(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of integer columns, and whether every column is known (>= 0, except the
    year slot, whose unknown value is _ANY_YEAR). A collision only adds a spurious candidate,
    which the comparison then scores like any other."""
    key = np.zeros(len(columns[0]), dtype=np.uint64)
    ok = np.ones(len(columns[0]), dtype=bool)
    with np.errstate(over="ignore"):
        for i, column in enumerate(columns):
            col = column.astype(np.int64)
            ok &= (col >= 0) | (col == _ANY_YEAR)
            key = (key + np.uint64(i + 1)) * _MULT + (col + 16).astype(np.uint64)
            key ^= key >> np.uint64(29)
    return key, ok


@dataclass
class _Index:
    """A block index over one resident key: sorted keys and the rows behind them."""

    keys: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, key: np.ndarray, ok: np.ndarray) -> _Index:
        rows = np.flatnonzero(ok).astype(np.int32)
        order = np.argsort(key[rows])  # the order inside a block does not matter
        return cls(key[rows][order], rows[order])

    def ranges(self, probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo = np.searchsorted(self.keys, probe, "left")
        hi = np.searchsorted(self.keys, probe, "right")
        count = hi - lo
        count[count > BLOCK_CAP] = 0
        return lo, count


@dataclass
class _Probes:
    """Every (case row, key) a case looks up in one index, sorted by case row."""

    index: _Index
    case: np.ndarray
    lo: np.ndarray
    count: np.ndarray


def _year_slots(year: np.ndarray) -> np.ndarray:
    return np.where(year >= 0, year.astype(np.int64), _ANY_YEAR)


def _probes(index: _Index, cases: list[tuple[np.ndarray, np.ndarray]]) -> _Probes:
    """cases: (key, known) arrays over all case rows, one per way the case looks the key up."""
    rows = np.concatenate([np.flatnonzero(ok) for _, ok in cases])
    keys = np.concatenate([key[ok] for key, ok in cases])
    order = np.argsort(rows, kind="stable")
    rows, keys = rows[order], keys[order]
    lo, count = index.ranges(keys)
    live = count > 0
    return _Probes(index, rows[live], lo[live], count[live])


class Blocks:
    """All blocking keys of residents (built once) and the cases' lookups into them."""

    def __init__(self, cases: Side, residents: Side, *, prune: bool = False) -> None:
        """prune, for a few cases (one commune's) against many records: the keys that contain
        the commune are computed for the records of the cases' communes only, and every index
        holds only the records whose key some case looks up. A block a case probes keeps every
        record it has, so the pairs are the same (unless a record of another commune had a
        64-bit key equal to a probed one: the one call would add it as a spurious candidate)."""
        self.n_cases, self.n_residents = cases.n, residents.n
        self.probes: list[_Probes] = []
        c, r = cases, residents
        local: np.ndarray | None = None  # the rows of `r` in the full residents (pruned only)
        if prune:
            local = np.flatnonzero(np.isin(residents.commune, np.unique(cases.commune)))
            r = take(residents, local)
        c_comm, r_comm = c.commune, r.commune
        c_year, r_slot = c.year.astype(np.int64), _year_slots(r.year)
        c_known_year = c.year >= 0
        any_year = np.full(c.n, _ANY_YEAR)
        r_month, r_day = r.month.astype(np.int64), r.day.astype(np.int64)
        r_dated = r.daynum >= 0
        c_month, c_day = c.month.astype(np.int64), c.day.astype(np.int64)
        c_dated = c.daynum >= 0

        def add(resident_keys: list[tuple[np.ndarray, np.ndarray]], case_keys, *, rows=local) -> None:
            """rows: the full residents' row of each key's position (None: the same)."""
            wanted = np.unique(np.concatenate([key[ok] for key, ok in case_keys])) if prune else None
            for key, known in resident_keys:
                ok = known & _among(key, wanted) if wanted is not None else known
                index = _Index.of(key, ok)
                if rows is not None:
                    index = _Index(index.keys, rows[index.rows].astype(np.int32))
                self.probes.append(_probes(index, case_keys))

        def with_mask(pair: tuple[np.ndarray, np.ndarray], mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return pair[0], pair[1] & mask

        def years(*columns: np.ndarray, window: int) -> list[tuple[np.ndarray, np.ndarray]]:
            """The case's key with each birth year within `window`, and with "any year"."""
            shifts = [c_year + d for d in range(-window, window + 1)] + [any_year]
            return [with_mask(_key(*columns, y), c_known_year) for y in shifts]

        # Surname group, given name (or second word), birth year within one year.
        r_given_keys = [r.name.given, r.name.alt]
        add(
            [_key(r_comm, r.name.group, g, r_slot) for g in r_given_keys],
            years(c_comm, c.name.group, c.name.given, window=YEAR_WINDOW),
        )
        # The family and the village, or the given name and the village, and the birth year (a
        # slip in the other name of a record that has only a birth year).
        add(
            [_key(r_comm, r.village, r.name.group, r.sex, r_slot)],
            years(c_comm, c.village, c.name.group, c.sex, window=YEAR_WINDOW),
        )
        add(
            [_key(r_comm, r.village, g, r_slot) for g in r_given_keys],
            years(c_comm, c.village, c.name.given, window=0),
        )
        # Middle and given name, birth year (a misspelt surname on a record with only a year).
        add(
            [_key(r_comm, r.name.middle, r.name.given, r_slot)],
            years(c_comm, c.name.middle, c.name.given, window=0),
        )
        # Surname group, given name, month and day, any year.
        add(
            [with_mask(_key(r_comm, r.name.group, g, r_month, r_day), r_dated) for g in r_given_keys],
            [with_mask(_key(c_comm, c.name.group, c.name.given, c_month, c_day), c_dated)],
        )
        # Given name, birth month and year within one year.
        add(
            [with_mask(_key(r_comm, g, r_month, r_slot), r_dated) for g in r_given_keys],
            years(c_comm, c.name.given, c_month, window=YEAR_WINDOW),
        )
        # The exact birth date, or the case's with day and month swapped.
        swap_ok = c_dated & (c.day <= 12) & (c.day != c.month)
        add(
            [with_mask(_key(r_comm, r.daynum), r_dated)],
            [
                with_mask(_key(c_comm, c.daynum), c_dated),
                with_mask(_key(c_comm, c.daynum + _swap_shift(c)), swap_ok),
            ],
        )
        # The name's words in any order, birth year.
        add([_key(r_comm, r.name.bag, r_slot)], years(c_comm, c.name.bag, window=0))
        two_words = (r.name.middle < 0) & (r.name.alt < 0)
        add([with_mask(_key(r_comm, r.name.outer, r_slot), two_words)], years(c_comm, c.name.outer, window=0))
        # Cases without a birth year: surname group and given name at any age.
        add(
            [_key(r_comm, r.name.group, g) for g in r_given_keys],
            [with_mask(_key(c_comm, c.name.group, c.name.given), ~c_known_year)],
        )
        # The personal ID, and the ID with three serial digits masked (one mistyped digit).
        # Not inside the commune: every record (an ID may point to another commune's).
        r_id, c_id = residents.ids.number, c.ids.number
        add([_key(r_id)], [_key(c_id)], rows=None)
        for masked in (lambda i: i // 1_000, lambda i: i // 1_000_000 * 1_000 + i % 1_000):
            add(
                [_key(np.where(r_id >= 0, masked(r_id), -1))],
                [_key(np.where(c_id >= 0, masked(c_id), -1))],
                rows=None,
            )

    def per_case(self) -> np.ndarray:
        """Candidate pairs of each case before de-duplication (the bound the chunks respect)."""
        total = np.zeros(self.n_cases, dtype=np.int64)
        for p in self.probes:
            total += np.bincount(p.case, weights=p.count, minlength=self.n_cases).astype(np.int64)
        return total

    def chunks(self, budget: int = PAIR_BUDGET) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Unique (case row, resident row) pairs, sorted by case row then resident row, in
        chunks of consecutive cases holding at most `budget` pairs (a single case may exceed it
        only if BLOCK_CAP × its probes does)."""
        per_case = self.per_case()
        bounds = [0]
        running = 0
        for i, n in enumerate(per_case.tolist()):
            if running + n > budget and i > bounds[-1]:
                bounds.append(i)
                running = 0
            running += n
        bounds.append(self.n_cases)
        for start, stop in itertools.pairwise(bounds):
            left_parts, right_parts = [], []
            for p in self.probes:
                a, b = np.searchsorted(p.case, [start, stop])
                count = p.count[a:b]
                total = int(count.sum())
                if total == 0:
                    continue
                left_parts.append(np.repeat(p.case[a:b], count))
                first = np.repeat(p.lo[a:b] - np.cumsum(count) + count, count)
                right_parts.append(p.index.rows[first + np.arange(total)])
            if not left_parts:
                continue
            pair = np.concatenate(left_parts).astype(np.int64) * np.int64(self.n_residents) + np.concatenate(
                right_parts
            )
            pair.sort()
            pair = pair[np.r_[True, pair[1:] != pair[:-1]]]
            yield pair // self.n_residents, pair % self.n_residents


def _among(key: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """key[i] in `wanted` (sorted, unique): a binary search per record, no sort of the records."""
    if len(wanted) == 0:
        return np.zeros(len(key), dtype=bool)
    pos = np.minimum(np.searchsorted(wanted, key), len(wanted) - 1)
    return wanted[pos] == key


def _swap_shift(c: Side) -> np.ndarray:
    """Day numbers from each case's birth date to the same date with day and month swapped."""
    year = np.maximum(c.year.astype(np.int64), 1900)
    month = np.clip(c.month.astype(np.int64), 1, 12)
    day = np.clip(c.day.astype(np.int64), 1, 12)
    swapped = ((year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (day - 1)).astype(
        "datetime64[D]"
    ) + (month - 1)
    return swapped.astype(np.int64) - c.daynum.astype(np.int64)
