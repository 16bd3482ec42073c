"""A hand-built fortnight for the report tests: a few schools, four weeks, seventeen students.

Report dated Friday 4 April 2025: weeks ending 28 March (W1) and 4 April (W2); the fortnight's
days are 22 March – 4 April. School year 2024-25: starts 5 Sep 2024, semester 2 from 19 Jan,
Tết break from 24 Jan; no earlier year in the calendar, so "before the previous school year"
means before 6 Sep 2023. By 4 April the calendar has held 282 sessions, 10 % of which is 28.2.

Submissions (14 active schools, 28 school-weeks):
- BX-AMS (TH&THCS, A Mú Sung): on time every week, 14 Mar – 4 Apr, and a file for 11 Apr that
  the 4 April report must not read;
- BX-ALU (TH&THCS, A Lù): W1 on time, W2 late;
- BX-THPT1 (THPT, thị trấn): W1 rejected (never corrected), W2 on time;
- BX-THPT2 (THPT, no commune on record): W2 on time, W1 missing;
- BX-YTY (THCS, Y Tý): only a file for 14 Mar (its list is still its latest);
- the nine other schools: nothing.

Students (S-numbers are the test's names; the files carry invented names):
| id | school, list | grade | status | first day missed | sessions | home commune | verdict | why it is here |
| S1 | AMS W2 | 6 | bo_hoc | 2025-03-25 | 12 | A Mú Sung | left_locality | new, after Tết |
| S2 | AMS W2 | 6 | bo_hoc | 2024-08-20 | 50 | A Mú Sung | in_locality | summer, not eligible |
| S3 | AMS W2 | 1 | bo_hoc | 2024-11-12 | 30 | A Mú Sung | — | hk1; 30 sessions but out since Nov: calendar warning |
| S4 | AMS W2 | 6 | bo_hoc | 2025-01-20 | 40 | A Mú Sung | ambiguous | hk2; reason says "sau Tết": two warnings |
| S5 | AMS W2 | 6 | nguy_co | | 8 | A Mú Sung | | school_flag + sibling of S1 |
| S6 | AMS W2 | 6 | vang_dai_ngay | | 36 | A Mú Sung | | chronic + approaching |
| S7 | AMS 14 Mar..W2 | 6 | vang_dai_ngay | | 6, 9, 12, 15 | A Mú Sung | | rising |
| S8 | AMS W2 | 1 | da_tro_lai | | 10 | A Mú Sung | | returned |
| S9 | AMS W2 | 1 | vang_dai_ngay | | 4 | A Mú Sung | | on the list, no risk |
| S10 | AMS W2 | 6 | vang_dai_ngay | | 33 | "Y Tí" (Y Tý) | | chronic; commune by alias |
| S11 | ALU W2 | 7 | bo_hoc | 2025-04-01 | 6 | A Lù | — | new, after Tết |
| S12 | ALU W1 only | 7 | bo_hoc | 2025-03-10 | 8 | A Lù | | not on the latest list: not counted |
| S13 | THPT1 W2 | 10 | bo_hoc | 2024-10-01 | 60 | Quang Kim | left_locality | hk1, not eligible |
| S14 | THPT1 W2 | 10 | da_tro_lai | | 4 | thị trấn | | returned |
| S15 | YTY 14 Mar | 6 | bo_hoc | 2025-02-17 | 20 | Y Tý | in_locality | after Tết, from an older latest list |
| S16 | YTY 14 Mar | 6 | da_tro_lai | | 5 | Y Tý | | list outside the fortnight: not returned |
| S17 | THPT2 W2 | 11 | bo_hoc | 2023-05-10 | 0 | "TT Bát Xát" | — | summer; before the previous year: warning |
| S18 | AMS 11 Apr | 6 | bo_hoc | 2025-04-08 | 2 | A Mú Sung | | after the report date: not counted |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from chuyencan.core.reference import Reference
from tests.helpers import local
from tests.school_files import ClassRow, SchoolWeek, write_school_file

REPORT_DATE = date(2025, 4, 4)
W0a, W0b, W1, W2, W3 = (
    date(2025, 3, 14),
    date(2025, 3, 21),
    date(2025, 3, 28),
    date(2025, 4, 4),
    date(2025, 4, 11),
)


def student(
    n: int,
    grade: int,
    class_name: str,
    status: str,
    sessions: int,
    *,
    commune: str = "A Mú Sung",
    first_day: date | None = None,
    reason: str | None = None,
    parent: str | None = None,
    village: str = "Lũng Pô",
) -> dict[str, object]:
    # Birth year usual for the grade in school year 2024-25 (2024 - 5 - grade).
    record: dict[str, object] = {
        "full_name": f"Học Sinh Số {n}",
        "birth_date": date(2019 - grade, 1 + n % 12, 10),
        "sex": "Nam" if n % 2 else "Nữ",
        "grade": grade,
        "class_name": class_name,
        "commune": commune,
        "village": village,
        "parent_name": parent or f"Phụ Huynh {n}",
        "status": status,
        "sessions_missed": sessions,
    }
    if first_day is not None:
        record["first_day_missed"] = first_day
    if reason is not None:
        record["reason"] = reason
    return record


S = {
    1: student(
        1, 6, "6A", "bo_hoc", 12, first_day=date(2025, 3, 25), reason="Đi làm ăn xa", parent="Giàng A Sử"
    ),
    2: student(2, 6, "6A", "bo_hoc", 50, first_day=date(2024, 8, 20), reason="Nghỉ hè không đi học lại"),
    3: student(3, 1, "1A", "bo_hoc", 30, first_day=date(2024, 11, 12), reason="Kinh tế"),
    4: student(4, 6, "6A", "bo_hoc", 40, first_day=date(2025, 1, 20), reason="Không ra lớp sau Tết"),
    5: student(5, 6, "6A", "nguy_co", 8, parent="Giang A Su", village="Lung Po"),
    6: student(6, 6, "6A", "vang_dai_ngay", 36),
    8: student(8, 1, "1A", "da_tro_lai", 10),
    9: student(9, 1, "1A", "vang_dai_ngay", 4),
    10: student(10, 6, "6A", "vang_dai_ngay", 33, commune="Y Tí"),
    11: student(11, 7, "7A", "bo_hoc", 6, commune="A Lù", first_day=date(2025, 4, 1), reason="Tảo hôn"),
    12: student(12, 7, "7A", "bo_hoc", 8, commune="A Lù", first_day=date(2025, 3, 10), reason="Kinh tế"),
    13: student(
        13, 10, "10A", "bo_hoc", 60, commune="Quang Kim", first_day=date(2024, 10, 1), reason="Đi làm"
    ),
    14: student(14, 10, "10A", "da_tro_lai", 4, commune="Thị trấn Bát Xát"),
    15: student(15, 6, "6A", "bo_hoc", 20, commune="Y Tý", first_day=date(2025, 2, 17), reason="Gia đình"),
    16: student(16, 6, "6A", "da_tro_lai", 5, commune="Y Tý"),
    17: student(17, 11, "11A", "bo_hoc", 0, commune="TT Bát Xát", first_day=date(2023, 5, 10), reason="Khác"),
    18: student(18, 6, "6A", "bo_hoc", 2, first_day=date(2025, 4, 8), reason="Kinh tế"),
}


def s7(sessions: int) -> dict[str, object]:
    return student(7, 6, "6A", "vang_dai_ngay", sessions)


# AMS classes: 6A (grade 6) and 1A (grade 1); one 6A student left during W2.
AMS_W1 = [ClassRow(6, "6A", 30, 5, 3, 2), ClassRow(1, "1A", 25, 5, 0, 5)]
AMS_W2 = [ClassRow(6, "6A", 29, 5, 4, 6), ClassRow(1, "1A", 25, 5, 1, 0)]
ALU_W1 = [ClassRow(7, "7A", 28, 5, 2, 2)]
ALU_W2 = [ClassRow(7, "7A", 28, 5, 0, 7)]
THPT1_W2 = [ClassRow(10, "10A", 40, 5, 5, 5)]
THPT1_BROKEN = [ClassRow(10, "10A", 40, 5, 150, 90)]  # absences above sĩ số × số ngày học
THPT2_W2 = [ClassRow(11, "11A", 35, 5, 0, 0)]
OLD = [ClassRow(6, "6A", 30, 5, 1, 1)]  # AMS and YTY before the fortnight
AMS_W3 = [ClassRow(6, "6A", 28, 4, 0, 0), ClassRow(1, "1A", 25, 4, 0, 0)]


@dataclass(frozen=True)
class Drop:
    week: SchoolWeek
    name: str
    at: datetime


def drops() -> list[Drop]:
    return [
        Drop(
            SchoolWeek("BX-AMS", W0a, OLD + AMS_W1[1:], [s7(6)]),
            "ams-0314.xlsx",
            local(date(2025, 3, 13), 15),
        ),
        Drop(
            SchoolWeek("BX-AMS", W0b, OLD + AMS_W1[1:], [s7(9)]),
            "ams-0321.xlsx",
            local(date(2025, 3, 20), 15),
        ),
        Drop(SchoolWeek("BX-AMS", W1, AMS_W1, [s7(12), S[6]]), "ams-0328.xlsx", local(date(2025, 3, 27), 15)),
        Drop(
            SchoolWeek(
                "BX-AMS",
                W2,
                AMS_W2,
                [S[i] for i in (1, 2, 3, 4, 5, 6)] + [s7(15)] + [S[i] for i in (8, 9, 10)],
            ),
            "ams-0404.xlsx",
            local(date(2025, 4, 3), 15),
        ),
        Drop(SchoolWeek("BX-AMS", W3, AMS_W3, [S[18]]), "ams-0411.xlsx", local(date(2025, 4, 10), 15)),
        Drop(SchoolWeek("BX-ALU", W1, ALU_W1, [S[12]]), "alu-0328.xlsx", local(date(2025, 3, 28), 8)),
        Drop(SchoolWeek("BX-ALU", W2, ALU_W2, [S[11]]), "alu-0404.xlsx", local(date(2025, 4, 4), 14)),
        Drop(SchoolWeek("BX-THPT1", W1, THPT1_BROKEN), "thpt1-0328.xlsx", local(date(2025, 3, 28), 9)),
        Drop(
            SchoolWeek("BX-THPT1", W2, THPT1_W2, [S[13], S[14]]),
            "thpt1-0404.xlsx",
            local(date(2025, 4, 4), 9),
        ),
        Drop(SchoolWeek("BX-THPT2", W2, THPT2_W2, [S[17]]), "thpt2-0404.xlsx", local(date(2025, 4, 4), 7)),
        Drop(SchoolWeek("BX-YTY", W0a, OLD, [S[15], S[16]]), "yty-0314.xlsx", local(date(2025, 3, 14), 9)),
    ]


def write_drops(ref: Reference, inbox: Path, which: list[Drop] | None = None) -> None:
    for d in which if which is not None else drops():
        write_school_file(ref, d.week, inbox / d.week.school_code / d.name, d.at)


# Police verdicts, by student (restricted.case_verdict, written as the reconciliation would).
VERDICTS = {1: "left_locality", 2: "in_locality", 4: "ambiguous", 13: "left_locality", 15: "in_locality"}
SCHOOL_OF = {1: "BX-AMS", 2: "BX-AMS", 4: "BX-AMS", 13: "BX-THPT1", 15: "BX-YTY"}
