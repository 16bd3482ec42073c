"""What a school writes in its weekly file: the class rows and its list of students.

Per-student details a school copies from week to week (whether a parent's name is filled in,
which spelling of the commune) are drawn once per student, so the lists stay stable over weeks.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from chuyencan.core.contract import CLASS_SHEET, STUDENT_SHEET
from chuyencan.core.organisation import Organisation
from chuyencan.core.reference import Commune, School
from chuyencan_dev.synth import names as nm
from chuyencan_dev.synth.attendance import (
    BO_HOC,
    DA_TRO_LAI,
    NGUY_CO,
    REASONS,
    STATUS_CODES,
    VANG_DAI_NGAY,
    DropoutPlan,
    Week,
    WeekResult,
)
from chuyencan_dev.synth.population import Population
from chuyencan_dev.synth.workbooks import (
    Layout,
    Table,
    WorkbookContent,
    reason_text,
    sex_text,
    status_text,
)

_SHORT_ABSENCE_REASONS = ("Ốm", "Ốm", "Nhà có việc", "Đi nương cùng gia đình", "Ốm, có giấy phép")
_RISK_REASONS = ("hoc_luc", "kinh_te", "gia_dinh")
_RISK_TEXTS = ("Hay nghỉ học", "Học lực yếu, hay nghỉ", "Hoàn cảnh khó khăn")
_PROVINCE_RUN = ("THPT", "GDTX", "THCS&THPT")


class ContentBuilder:
    def __init__(
        self,
        pop: Population,
        plan: DropoutPlan,
        communes: list[Commune],
        seed: int,
        org: Organisation | None = None,
    ) -> None:
        self.pop = pop
        self.org = org
        self.plan = plan
        rng = np.random.default_rng([seed, 41])
        n = pop.n_students
        self.mother_named = rng.random(n) < 0.25
        self.no_parent = rng.random(n) < 0.1
        self.old_commune = rng.random(n) < 0.1
        self.no_ethnicity = rng.random(n) < 0.1
        self.destination_known = rng.random(n) < 0.8
        self.pick = rng.integers(0, 1 << 30, n)
        self.classes_by_school: dict[int, list[int]] = {}
        for c_idx, info in enumerate(pop.classes):
            self.classes_by_school.setdefault(info.school, []).append(c_idx)
        # Communes merged before this year: people still write the old name, which stays valid.
        self.predecessors: dict[str, list[str]] = {}
        for c in communes:
            if c.successor in pop.communes and c.valid_to is not None and c.valid_to < pop.year.start:
                self.predecessors.setdefault(c.successor, []).append(c.name)

    def titles(self, school: School, week: date) -> list[str]:
        commune = self.pop.communes.get(school.commune or "")
        unit = self.org.reporting_unit_of_school(school.code, week) if self.org else None
        if unit is not None and unit.kind == "ubnd_xa":
            # After the reform a commune's school heads its report with its People's Committee.
            authority = unit.letterhead.parent_agency
        elif school.kind in _PROVINCE_RUN or commune is None:
            authority = "SỞ GIÁO DỤC VÀ ĐÀO TẠO LÀO CAI"
        else:
            authority = f"PHÒNG GD&ĐT {commune.district.upper()}"
        return [authority, school.name.upper(), f"BÁO CÁO CHUYÊN CẦN TUẦN KẾT THÚC NGÀY {week:%d/%m/%Y}"]

    def commune_text(self, i: int, commune: str, layout: Layout) -> str:
        old = self.predecessors.get(commune)
        if old and self.old_commune[i]:
            return old[0]
        c = self.pop.communes[commune]
        if layout.commune_style == "prefixed":
            return {"xa": f"Xã {commune}", "phuong": f"Phường {commune}"}.get(c.kind, commune)
        if layout.commune_style == "alias" and c.aliases:
            return c.aliases[0]
        return commune

    def build(
        self, s_idx: int, week: Week, result: WeekResult, rows: np.ndarray, layout: Layout
    ) -> WorkbookContent:
        """Content of school s_idx's file for the week; rows are positions in result.listed."""
        pop, plan = self.pop, self.plan
        school = pop.schools[s_idx]
        content = WorkbookContent(school.code, week.friday, self.titles(school, week.friday))
        class_rows = []
        for c_idx in self.classes_by_school.get(s_idx, []):
            info = pop.classes[c_idx]
            class_rows.append(
                {
                    "school_code": school.code,
                    "week_ending": week.friday,
                    "grade": info.grade,
                    "class_name": info.name,
                    "enrolled": int(result.class_enrolled[c_idx]),
                    "school_days": week.school_days,
                    "absent_excused": int(result.class_excused[c_idx]),
                    "absent_unexcused": int(result.class_unexcused[c_idx]),
                }
            )
        content.tables.append(Table(CLASS_SHEET, CLASS_SHEET.names, class_rows))

        spellings_at = s_idx  # each school has its habit for spelling an ethnicity
        student_rows = []
        order = []
        for pos in rows:
            i = int(result.listed[pos])
            st = int(result.status[pos])
            person = pop.student(i)
            hh = pop.households[person.household]
            info = pop.classes[int(pop.st_class[i])]
            code = STATUS_CODES[st]
            pick = int(self.pick[i]) + week.index * 7919
            parent = None
            if layout.parent and not self.no_parent[i]:
                pid = hh.mother if (self.mother_named[i] or hh.father < 0) else hh.father
                parent = pop.persons[pid].full_name
            reason = destination = None
            if st in (BO_HOC, DA_TRO_LAI):
                # One phrasing per student, kept from week to week.
                reason = reason_text(REASONS[plan.reason[i]], layout.reason_style, int(self.pick[i]) // 7)
                if st == BO_HOC and self.destination_known[i] and plan.school_text[i]:
                    destination = plan.school_text[i]
            elif st == VANG_DAI_NGAY and plan.first_day[i] == 0 and pick % 100 < 65:
                reason = _SHORT_ABSENCE_REASONS[pick % len(_SHORT_ABSENCE_REASONS)]
            elif st == NGUY_CO and pick % 100 < 70:
                if layout.reason_style == "text":
                    reason = _RISK_TEXTS[pick % len(_RISK_TEXTS)]
                else:
                    reason = reason_text(_RISK_REASONS[pick % len(_RISK_REASONS)], layout.reason_style)
            village = hh.village
            if layout.village_prefix and not village.startswith("Tổ"):
                village = layout.village_prefix + village
            spellings = nm.ETHNIC_SPELLINGS[hh.ethnicity]
            first = int(result.first_day[pos])
            student_rows.append(
                {
                    "personal_id": person.personal_id if pop.st_id_known[i] else None,
                    "full_name": person.full_name,
                    "birth_date": person.birth,
                    "sex": sex_text(person.female),
                    "ethnicity": None
                    if (not layout.ethnicity or self.no_ethnicity[i])
                    else spellings[spellings_at % len(spellings)],
                    "grade": info.grade,
                    "class_name": info.name,
                    "commune": self.commune_text(i, hh.commune, layout),
                    "village": village,
                    "parent_name": parent,
                    "status": status_text(code, layout.status_style),
                    "first_day_missed": date.fromordinal(first) if first else None,
                    "sessions_missed": int(result.sessions[pos]),
                    "reason": reason,
                    "destination": destination,
                }
            )
            key = (st, info.grade, info.name) if layout.sort_by_status else (info.grade, info.name, st)
            order.append((key, person.parts[2], person.full_name, i))
        ranked = sorted(range(len(student_rows)), key=lambda k: order[k])
        content.tables.append(Table(STUDENT_SHEET, STUDENT_SHEET.names, [student_rows[k] for k in ranked]))
        return content


def school_rows(result: WeekResult, st_school: np.ndarray) -> dict[int, np.ndarray]:
    """Positions in result.listed grouped by school."""
    schools = st_school[result.listed]
    order = np.argsort(schools, kind="stable")
    bounds = np.flatnonzero(np.diff(schools[order])) + 1
    return {int(schools[g[0]]): g for g in np.split(order, bounds) if len(g)}
