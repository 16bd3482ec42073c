"""Police verification rounds as reference data (`include/reference/police_rounds.csv`).

A round is a date by which a reporting unit expects each commune police post to send its
household-record extract: the district notice of 26/3/2025 asks the commune police to report
"trước ngày 01/4/2025", so its one round opens on 2025-03-26 and is due on 2025-03-31. Rounds
are only what the unit sets: no round per fortnight is assumed. A deployment without the file
has no rounds (nothing is checked).

Columns: `unit` (a reporting unit's code, `reporting_units.csv`), `round` (the round's code),
`communes` (`all`: every commune of the reference in force on the due date; else names
`|`-separated, spellings as in `communes.csv`), `opens_on` (an extract received before it
answers an earlier request), `due_on` (the last day, inclusive), `source`, `verified`.
`load_police_rounds` lists every problem of the file at once (`PoliceRoundsError`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chuyencan.core.reference import Reference, commune_key

FILE_NAME = "police_rounds.csv"
COLUMNS = ("unit", "round", "communes", "opens_on", "due_on", "source", "verified")
ALL_COMMUNES = "all"


@dataclass(frozen=True)
class PoliceRound:
    unit: str
    round: str
    communes: tuple[str, ...] | None  # None: every commune in force on the due date
    opens_on: date
    due_on: date
    source: str
    verified: bool

    def communes_due(self, ref: Reference) -> list[str]:
        """The communes (names as in the reference, in force on the due date) the round asks."""
        if self.communes is None:
            names = {
                c.name
                for c in ref.communes
                if c.valid_from <= self.due_on and (c.valid_to is None or self.due_on <= c.valid_to)
            }
        else:
            names = {ref.resolve_commune(name, self.due_on) or name for name in self.communes}
        return sorted(names, key=commune_key)


class PoliceRoundsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("police_rounds.csv: " + "; ".join(problems))
        self.problems = problems


def load_police_rounds(directory: Path, ref: Reference) -> list[PoliceRound]:
    """The rounds of `<directory>/police_rounds.csv` (none when the file is absent), checked:
    dates, opens_on <= due_on, communes known on the due date, the unit a reporting unit of
    `reporting_units.csv` (when the directory has one), each (unit, round) once."""
    path = directory / FILE_NAME
    if not path.is_file():
        return []
    reporting_units = _reporting_units(directory / "reporting_units.csv")
    problems: list[str] = []
    rounds: list[PoliceRound] = []
    seen: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise PoliceRoundsError([f"missing column(s) {', '.join(missing)}"])
        for row in reader:
            where = f"line {reader.line_num}"
            values = {k: (v or "").strip() for k, v in row.items() if k}
            parsed = _parse(where, values, ref, reporting_units, problems)
            if parsed is None:
                continue
            if (parsed.unit, parsed.round) in seen:
                problems.append(f"{where}: round {parsed.round!r} of {parsed.unit} is listed twice")
                continue
            seen.add((parsed.unit, parsed.round))
            rounds.append(parsed)
    if problems:
        raise PoliceRoundsError(problems)
    return sorted(rounds, key=lambda r: (r.due_on, r.unit, r.round))


def _reporting_units(path: Path) -> frozenset[str] | None:
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return frozenset((row.get("code") or "").strip() for row in csv.DictReader(fh))


def _parse(
    where: str,
    row: dict[str, str],
    ref: Reference,
    reporting_units: frozenset[str] | None,
    problems: list[str],
) -> PoliceRound | None:
    before = len(problems)
    for column in ("unit", "round", "communes"):
        if not row[column]:
            problems.append(f"{where}: {column} is empty")
    dates: dict[str, date] = {}
    for column in ("opens_on", "due_on"):
        try:
            dates[column] = date.fromisoformat(row[column])
        except ValueError:
            problems.append(f"{where}: {column} {row[column]!r} is not a date (YYYY-MM-DD)")
    if row["verified"].lower() not in ("yes", "no"):
        problems.append(f"{where}: verified must be yes or no, not {row['verified']!r}")
    if reporting_units is not None and row["unit"] and row["unit"] not in reporting_units:
        problems.append(f"{where}: unit {row['unit']!r} is not in reporting_units.csv")
    if len(dates) == 2 and dates["due_on"] < dates["opens_on"]:
        problems.append(f"{where}: due_on {dates['due_on']} is before opens_on {dates['opens_on']}")
    communes: tuple[str, ...] | None = None
    if row["communes"] and row["communes"].lower() != ALL_COMMUNES:
        communes = tuple(c.strip() for c in row["communes"].split("|") if c.strip())
        if "due_on" in dates:
            for name in communes:
                if ref.resolve_commune(name, dates["due_on"]) is None:
                    problems.append(f"{where}: commune {name!r} is not in force on {dates['due_on']}")
    if len(problems) > before:
        return None
    return PoliceRound(
        unit=row["unit"],
        round=row["round"],
        communes=communes,
        opens_on=dates["opens_on"],
        due_on=dates["due_on"],
        source=row["source"],
        verified=row["verified"].lower() == "yes",
    )
