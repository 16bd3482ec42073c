"""Commune police household extracts (docs/contracts.md#4-police-extract) and which record is
each case's true match.

Every member of every generated household is listed in their commune's extract: students,
siblings, parents, grandparents. Police records are typed by other people than the schools', so
names lose diacritics, get typos and clan-name variants, birth dates are wrong or a bare year,
villages go missing. A student who left is recorded by the police some days or weeks after
leaving, so an early round may still show them at home.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from chuyencan.core.contract import POLICE_COLUMNS, RESIDENCE_LABELS
from chuyencan.core.text import fold, strip_diacritics
from chuyencan_dev.synth import names as nm
from chuyencan_dev.synth.attendance import DESTINATIONS, DropoutPlan
from chuyencan_dev.synth.population import Population
from chuyencan_dev.synth.submissions import TIMEZONE
from chuyencan_dev.synth.workbooks import save_workbook

XLSX_MAX_ROWS = 3000
_AWAY = (("Bình Dương", "Công ty TNHH giày da"), ("Bắc Ninh", "KCN Yên Phong"), ("Hà Nội", "Làm thuê"))


def police_rounds(first_week: date, last_week: date) -> list[date]:
    """Two extract dates (Tuesdays): one mid-period, one in the last week; the newer supersedes."""
    newer = last_week - timedelta(days=3)
    middle = first_week + timedelta(days=7 * ((last_week - first_week).days // 14)) - timedelta(days=3)
    older = middle if (newer - middle).days >= 13 else newer - timedelta(days=28)
    return [older, newer]


@dataclass
class PoliceOutput:
    files: list[str]
    records: int
    truth: list[dict[str, str]]


def _birth_error(birth: date, rng: random.Random) -> date:
    if birth.day <= 12 and birth.day != birth.month and rng.random() < 0.4:
        return date(birth.year, birth.day, birth.month)  # day and month swapped
    if rng.random() < 0.5:
        return birth.replace(year=birth.year + rng.choice((-1, 1)), day=min(birth.day, 28))
    return birth + timedelta(days=rng.choice((-3, -2, -1, 1, 2, 3)))


def _away_chance(age: int, female: bool) -> float:
    """Young people who left school often work away; fewer parents do, mostly fathers."""
    if 16 <= age <= 25:
        return 0.35
    if 25 < age < 55:
        return 0.04 if female else 0.10
    return 0.0


def _slug(commune: str) -> str:
    return strip_diacritics(commune).replace(" ", "-")


class Registry:
    """How the police database writes each person (stable across rounds)."""

    def __init__(self, pop: Population, plan: DropoutPlan, seed: int) -> None:
        self.pop = pop
        self.plan = plan
        rng = random.Random(f"{seed}:police-noise")
        u = np.random.default_rng([seed, 51]).random((len(pop.persons), 10))
        strip_hh = np.random.default_rng([seed, 52]).random(len(pop.households)) < 0.30
        start_year = pop.year.start.year
        unregistered = {int(pop.st_person[i]) for i in np.flatnonzero(~pop.st_registered)}
        self.listed = np.array([p.pid not in unregistered for p in pop.persons])
        self.name: list[str] = []
        self.birth: list[date | int] = []
        self.pid: list[str] = []
        self.village: list[str] = []
        self.status: list[str] = []
        self.changed: list[date | None] = []
        self.dest: list[tuple[str, str]] = []
        town_kind = {c.name: c.kind for c in pop.communes.values()}
        for p in pop.persons:
            r = u[p.pid]
            hh = pop.households[p.household]
            surname, middle, given = p.parts
            if r[0] < 0.08 and surname in nm.SURNAME_VARIANTS:
                surname = nm.SURNAME_VARIANTS[surname]
            if r[1] < 0.04:
                middle = ""
            text = (
                nm.join(surname, given, middle) if r[2] < 0.02 and middle else nm.join(surname, middle, given)
            )
            if r[3] < 0.05:
                text = nm.typo(text, rng)
            if strip_hh[hh.hid]:
                text = strip_diacritics(text)
            self.name.append(text)
            birth: date | int = _birth_error(p.birth, rng) if r[4] < 0.03 else p.birth
            if r[5] < (0.25 if p.birth.year < 1975 else 0.06):
                birth = birth.year if isinstance(birth, date) else birth
            self.birth.append(birth)
            self.pid.append(p.personal_id if r[6] < 0.92 else "")
            self.village.append("" if r[7] < 0.05 else hh.village)
            age = start_year - p.birth.year
            status, changed, dest = "thuong_tru", None, ("", "")
            if r[8] < (0.10 if town_kind.get(hh.commune) != "xa" else 0.02):
                status, changed = "tam_tru", date(2019, 1, 1) + timedelta(days=int(r[9] * 1800))
            elif age >= 55 and r[9] < 0.10:
                status, changed = "da_chet", pop.year.start - timedelta(days=int(r[8] * 700))
            elif p.student < 0 and r[9] < _away_chance(age, p.female):
                status, changed = "tam_vang", pop.year.start - timedelta(days=int(r[8] * 900))
                dest = _AWAY[int(r[8] * 1000) % len(_AWAY)]
            self.status.append(status)
            self.changed.append(changed)
            self.dest.append(dest)
        self.u = u
        self.head_name = [self.name[pop.households[p.household].head] for p in pop.persons]
        self.school_age = [6 <= start_year - p.birth.year <= 18 for p in pop.persons]


def residence_on(reg: Registry, plan: DropoutPlan, pid: int, student: int, day: date) -> str:
    """The person's true residence status on a day (what a perfectly up-to-date record says)."""
    if student >= 0 and plan.left[student] and plan.left_on[student] <= day.toordinal():
        return "da_chuyen_di" if plan.moved_out[student] else "tam_vang"
    return reg.status[pid]


def _listed_by_commune(reg: Registry) -> dict[str, list[int]]:
    """The people each commune's extract lists, household by household, in village order."""
    by_commune: dict[str, list[int]] = {}
    for hh in sorted(reg.pop.households, key=lambda h: (h.commune, fold(h.village), h.hid)):
        by_commune.setdefault(hh.commune, []).extend(m for m in hh.members if reg.listed[m])
    return by_commune


def _first_town_of_each_district(pop: Population) -> dict[str, str]:
    towns: dict[str, str] = {}
    for c in sorted(pop.communes.values(), key=lambda c: c.name):
        if c.kind != "xa":
            towns.setdefault(c.district, c.name)
    return towns


def _dates(
    birth: date | int,
    changed: date | None,
    checked: date | None,
    as_text: Callable[[date], str] | None,
) -> list[object]:
    """Birth, change and verification dates as the extract writes them: typed in .xlsx (None),
    text in a CSV (a birth year alone stays a number)."""
    if as_text is None:
        return [birth, changed, checked]
    return [
        str(birth) if isinstance(birth, int) else as_text(birth),
        as_text(changed) if changed else "",
        as_text(checked) if checked else "",
    ]


def write_police(
    reg: Registry,
    out_dir: Path,
    rounds: list[date],
    cases: dict[int, dict[str, str]],
    *,
    seed: int,
) -> PoliceOutput:
    """Write police_inbox/<commune>_<round>.csv|.xlsx; return the truth rows for the cases."""
    pop, plan = reg.pop, reg.plan
    inbox = out_dir / "police_inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    by_commune = _listed_by_commune(reg)
    towns = _first_town_of_each_district(pop)
    districts = {c.name: c.district for c in pop.communes.values()}
    student_of = {int(pop.st_person[i]): i for i in cases}
    truth: list[dict[str, str]] = []
    files: list[str] = []
    records = 0
    for r_idx, round_date in enumerate(rounds):
        found: dict[int, tuple[str, int, str]] = {}
        verified = np.random.default_rng([seed, 61, r_idx]).random(len(pop.persons))
        for commune, members in sorted(by_commune.items()):
            rng = random.Random(f"{seed}:police:{commune}:{round_date.isoformat()}")
            # Small communes' clerks export to Excel; big extracts come out of the system as CSV.
            xlsx = rng.random() < 0.15 and len(members) <= XLSX_MAX_ROWS
            labels = rng.random() < 0.55
            lower = labels and rng.random() < 0.3
            iso = not xlsx and rng.random() < 0.3
            xa = rng.choices(
                (
                    commune,
                    strip_diacritics(commune),
                    f"Xã {commune}" if pop.communes[commune].kind == "xa" else commune,
                ),
                weights=(60, 25, 15),
            )[0]
            village_prefix = rng.random() < 0.3
            status_names = {
                code: (label.lower() if lower else label) if labels else code
                for code, label in RESIDENCE_LABELS.items()
            }
            town = towns.get(districts[commune], "Thị trấn")
            as_text = _date_text_iso if iso else _date_text_dmy
            rows: list[list[object]] = []
            left_known = round_date.toordinal()
            for pid in members:
                p = pop.persons[pid]
                status, changed, (dest, work) = reg.status[pid], reg.changed[pid], reg.dest[pid]
                checked: date | None = None
                i = p.student
                if i >= 0 and plan.left[i] and plan.police_knew_on[i] <= left_known:
                    status = "da_chuyen_di" if plan.moved_out[i] else "tam_vang"
                    changed = date.fromordinal(int(plan.left_on[i]))
                    checked = date.fromordinal(int(plan.police_knew_on[i]))
                    if plan.destination[i] >= 0:
                        dest, work = DESTINATIONS[plan.destination[i]][:2]
                        dest = dest.replace("{town}", town)
                        young = pop.year.start.year - p.birth.year < 14
                        work = work if reg.u[pid][8] < 0.6 and not young else ""
                    else:
                        others = sorted(
                            c for c, d in districts.items() if d == districts[commune] and c != commune
                        )
                        dest = f"Xã {others[i % len(others)]}" if others else ""
                        work = ""
                elif verified[pid] < 0.5 and reg.school_age[pid]:
                    checked = round_date - timedelta(days=int(verified[pid] * 20))
                if changed is not None and changed > round_date:
                    status, changed, dest, work = "thuong_tru", None, "", ""
                village = reg.village[pid]
                if village_prefix and village and not village.startswith("Tổ"):
                    village = f"Thôn {village}"
                status_text = status_names[status]
                birth = reg.birth[pid]
                values = _dates(birth, changed, checked, None if xlsx else as_text)
                rows.append(
                    [
                        reg.pid[pid],
                        reg.name[pid],
                        values[0],
                        "Nữ" if p.female else "Nam",
                        xa,
                        village,
                        reg.head_name[pid],
                        p.relation,
                        status_text,
                        values[1],
                        dest,
                        work,
                        values[2],
                    ]
                )
                if pid in student_of:
                    found[pid] = ("", len(rows), status)
            stem = f"{_slug(commune)}_{round_date.isoformat()}"
            path = inbox / f"{stem}.{'xlsx' if xlsx else 'csv'}"
            if xlsx:
                _write_xlsx(path, rows, round_date)
            else:
                _write_csv(path, rows, bom=rng.random() < 0.35, crlf=rng.random() < 0.5)
            rel = path.relative_to(out_dir).as_posix()
            files.append(rel)
            records += len(rows)
            for pid in members:
                if pid in found:
                    found[pid] = (rel, found[pid][1], found[pid][2])
        for i, case in sorted(cases.items()):
            pid = int(pop.st_person[i])
            rel, row, status = found.get(pid, ("", 0, ""))
            truth.append(
                {
                    **case,
                    "round": round_date.isoformat(),
                    "police_file": rel,
                    "police_row": str(row) if row else "",
                    "police_status": status,
                }
            )
    return PoliceOutput(files, records, truth)


def _date_text_dmy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _date_text_iso(day: date) -> str:
    return day.isoformat()


def _write_csv(path: Path, rows: list[list[object]], *, bom: bool, crlf: bool) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(POLICE_COLUMNS)
        writer.writerows(rows)


def _write_xlsx(path: Path, rows: list[list[object]], round_date: date) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(POLICE_COLUMNS)
    for row in rows:
        cells: list[object] = []
        for value in row:
            if isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "dd/mm/yyyy"
                cells.append(cell)
            else:
                cells.append(value)
        ws.append(cells)
    save_workbook(wb, path, datetime.combine(round_date, time(16, 0), tzinfo=TIMEZONE))
