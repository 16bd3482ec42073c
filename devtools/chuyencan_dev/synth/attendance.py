"""The school year as it happens: weekly absences, dropouts, returns, students at risk.

Everything is decided for the whole school year from its first week, whatever window is written,
so a week's file has the same content (cumulative sessions included) whether one week or the
whole year is generated. The dropout plan is per student; the weekly step is vectorised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from chuyencan.core.contract import REASON_LABELS
from chuyencan.core.reference import SchoolYear
from chuyencan_dev.synth.population import Population

# Status codes in the simulation's arrays; the contract's codes by index.
NONE, BO_HOC, VANG_DAI_NGAY, NGUY_CO, DA_TRO_LAI = 0, 1, 2, 3, 4
STATUS_CODES = ("", "bo_hoc", "vang_dai_ngay", "nguy_co", "da_tro_lai")
PERIODS = ("", "summer", "hk1", "hk2", "after_tet")
REASONS = tuple(REASON_LABELS)
NEVER = 10_000  # a week index after any school year

# (police destination, police workplace, what the school writes) for students who left.
DESTINATIONS = (
    ("Bình Dương", "Công ty TNHH Pou Yuen, KCN Sóng Thần", "Đi làm ở Bình Dương"),
    ("Bình Dương", "Xưởng gỗ ở Thuận An", "Đi làm công ty ở Bình Dương"),
    ("Bắc Ninh", "KCN Yên Phong", "Đi làm công ty ở Bắc Ninh"),
    ("Bắc Giang", "KCN Quang Châu", "Đi làm ở Bắc Giang"),
    ("TP Hồ Chí Minh", "Xưởng may quận 12", "Đi làm ở TP Hồ Chí Minh"),
    ("Thái Nguyên", "KCN Yên Bình", "Đi làm ở Thái Nguyên"),
    ("Hà Nội", "Làm thuê", "Đi làm thuê ở Hà Nội"),
    ("{town}", "Quán karaoke", "Làm quán karaoke ở thị trấn"),
    ("{town}", "Nhà hàng", "Làm nhà hàng ở thị trấn"),
    ("TP Lào Cai", "Nhà hàng ở phường Cốc Lếu", "Làm nhà hàng ở thành phố Lào Cai"),
    ("Sa Pa", "Khách sạn", "Làm khách sạn ở Sa Pa"),
    ("Trung Quốc", "", "Sang Trung Quốc làm thuê"),
)
# What a school writes for a student who stayed in the commune, by reason.
IN_LOCALITY_TEXTS = {
    "tao_hon": ("Lấy chồng trong thôn", "Lấy chồng trong xã"),
    "kinh_te": ("Ở nhà làm nương", "Ở nhà phụ giúp gia đình", "Ở nhà trông em"),
    "gia_dinh": ("Ở nhà phụ giúp gia đình", "Ở nhà trông em"),
    "di_lam_an_xa": ("Làm thuê quanh xã",),
    "": ("Ở nhà", "Chăn trâu ở nhà", "Không rõ"),
}


@dataclass(frozen=True)
class Week:
    index: int  # position in the school year
    friday: date
    days: tuple[date, ...]  # school days, Monday to Friday
    days_before: int  # school days in the year before this week

    @property
    def school_days(self) -> int:
        return len(self.days)


def school_year_weeks(year: SchoolYear) -> list[Week]:
    out, before = [], 0
    for i, (friday, count) in enumerate(year.weeks()):
        days = tuple(d for d in (friday - timedelta(days=4 - k) for k in range(5)) if year.is_school_day(d))
        if len(days) != count:
            raise ValueError(f"calendar disagrees with itself for the week ending {friday}")
        out.append(Week(i, friday, days, before))
        before += count
    return out


@dataclass
class DropoutPlan:
    """Per student (arrays of length n_students); day values are date ordinals, 0 = none."""

    first_day: np.ndarray  # first day missed for good (the contract's ngày nghỉ học)
    period: np.ndarray  # index into PERIODS
    declared_week: np.ndarray  # week index from which the school lists the student as bo_hoc
    returned: np.ndarray  # day the student came back
    risk_week: np.ndarray  # week index from which the school lists the student as nguy_co
    reason: np.ndarray  # index into REASONS
    left: np.ndarray  # left the commune (police will, sooner or later, record it)
    left_on: np.ndarray
    police_knew_on: np.ndarray  # day the police recorded the move
    moved_out: np.ndarray  # đã chuyển đi rather than tạm vắng
    destination: np.ndarray  # index into DESTINATIONS, -1 for none
    school_text: list[str]  # what the school writes as nơi đến, per student ("" for most)


def _school_days_between(year: SchoolYear, start: date, end: date) -> list[date]:
    out, day = [], start
    while day <= end:
        if year.is_school_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def _who_drops_out(pop: Population, rng: np.random.Generator) -> np.ndarray:
    """Which students drop out this school year (a boolean per student)."""
    level = pop.st_level.astype(int)
    grade = pop.st_grade.astype(int)
    # Lower secondary and upper secondary lose most; entry grades (6, 10) worst, as the notice says.
    base = np.array([0.0025, 0.026, 0.036])[level]
    mult = np.where(pop.st_minority, 1.3, 0.35) * (1 + 0.35 * pop.st_overage)
    mult *= np.select([grade == 6, grade == 9, grade == 10, grade == 12], [1.3, 1.2, 1.3, 0.7], 1.0)
    mult *= np.where(pop.st_gdtx, 1.5, 1.0) * np.where(pop.st_boarding, 0.8, 1.0)
    for lv in range(3):
        sel = level == lv
        if sel.any():
            mult[sel] /= mult[sel].mean()
    return rng.random(pop.n_students) < np.clip(base * mult, 0, 0.5)


def _when_they_left(
    rng: np.random.Generator,
    *,
    first_school_day: date,
    hk1_days: list[date],
    hk2_days: list[date],
    after_tet: list[date],
    late_days: list[date],
) -> tuple[int, date]:
    """(period 1-4: summer, semester 1, semester 2 before Tết, after Tết; first day missed)."""
    p = int(rng.choice(4, p=[0.14, 0.30, 0.06, 0.50])) + 1
    if p == 1:
        return p, first_school_day
    if p == 2:
        return p, hk1_days[rng.integers(len(hk1_days))]
    if p == 3 and hk2_days:
        return p, hk2_days[rng.integers(len(hk2_days))]
    if rng.random() < 0.6 or not late_days:
        return 4, after_tet[0]  # did not come back after Tết
    return 4, late_days[rng.integers(len(late_days))]


def plan_dropouts(pop: Population, weeks: list[Week], seed: int) -> DropoutPlan:
    rng = np.random.default_rng([seed, 21])
    n = pop.n_students
    year = pop.year
    level = pop.st_level.astype(int)
    grade = pop.st_grade.astype(int)
    dropped = _who_drops_out(pop, rng)

    first_school_day = weeks[0].days[0]
    sem1_end = year.semester_1.end
    tet = year.tet_break
    after_tet = _school_days_between(year, tet.end + timedelta(days=1), year.end)
    hk1_days = _school_days_between(year, first_school_day + timedelta(days=3), sem1_end)
    hk2_days = _school_days_between(year, sem1_end + timedelta(days=1), tet.start)
    late_days = [d for d in after_tet[1:] if d <= year.end - timedelta(days=7)]
    fridays = np.array([w.friday.toordinal() for w in weeks])

    first_day = np.zeros(n, np.int32)
    period = np.zeros(n, np.int8)
    declared = np.full(n, NEVER, np.int32)
    returned = np.zeros(n, np.int32)
    risk = np.full(n, NEVER, np.int32)
    reason = np.full(n, -1, np.int8)
    left = np.zeros(n, bool)
    left_on = np.zeros(n, np.int32)
    police_knew = np.zeros(n, np.int32)
    moved_out = np.zeros(n, bool)
    destination = np.full(n, -1, np.int16)
    school_text = [""] * n
    age = year.start.year - (year.start.year - 5 - grade - pop.st_overage)

    for i in np.flatnonzero(dropped):
        p, d0 = _when_they_left(
            rng,
            first_school_day=first_school_day,
            hk1_days=hk1_days,
            hk2_days=hk2_days,
            after_tet=after_tet,
            late_days=late_days,
        )
        first_day[i], period[i] = d0.toordinal(), p
        if p == 1:
            declared[i] = 0
        else:
            lag = 7 if rng.random() < 0.7 else 14
            later = np.flatnonzero(fridays >= d0.toordinal() + lag)
            declared[i] = later[0] if len(later) else NEVER
            if rng.random() < 0.45:
                d0_week = int(np.searchsorted(fridays, d0.toordinal()))
                risk[i] = max(0, d0_week - int(rng.integers(1, 5)))
        if rng.random() < (0.08 if p == 1 else 0.15):
            options = [d for d in after_tet + hk1_days + hk2_days if 10 <= (d - d0).days <= 70]
            if options:
                returned[i] = sorted(options)[rng.integers(len(options))].toordinal()

        weights = {
            "kinh_te": 20,
            "di_lam_an_xa": (2, 20, 35)[level[i]],
            "tao_hon": 25 if pop.st_female[i] and age[i] >= 14 else 0,
            "hoc_luc": (10, 15, 15)[level[i]],
            "xa_truong": (15, 5, 5)[level[i]],
            "gia_dinh": 12,
            "khac": 6,
        }
        w = np.array([weights[r] for r in REASONS], float)
        reason[i] = int(rng.choice(len(REASONS), p=w / w.sum()))
        code = REASONS[reason[i]]
        p_left = {"di_lam_an_xa": 0.85, "kinh_te": 0.35, "tao_hon": 0.45}.get(code, 0.08)
        if returned[i] == 0 and rng.random() < p_left:
            left[i] = True
            shift = -int(rng.integers(0, 60)) if p == 1 else int(rng.integers(0, 15))
            left_on[i] = d0.toordinal() + shift
            police_knew[i] = left_on[i] + int(rng.integers(3, 46))
            moved_out[i] = rng.random() < (0.7 if code == "tao_hon" else 0.15)
            if code == "tao_hon":
                school_text[i] = "Lấy chồng ở xã khác" if pop.st_female[i] else "Lấy vợ, chuyển sang xã khác"
            else:
                destination[i] = int(rng.integers(len(DESTINATIONS)))
                school_text[i] = DESTINATIONS[destination[i]][2]
                if age[i] < 14:
                    # Young children do not go to work: they follow their parents.
                    text = school_text[i]
                    school_text[i] = f"Theo bố mẹ {text[0].lower()}{text[1:]}"
        elif rng.random() < 0.6:
            texts = IN_LOCALITY_TEXTS.get(code, IN_LOCALITY_TEXTS[""])
            school_text[i] = texts[int(rng.integers(len(texts)))]
    return DropoutPlan(
        first_day,
        period,
        declared,
        returned,
        risk,
        reason,
        left,
        left_on,
        police_knew,
        moved_out,
        destination,
        school_text,
    )


@dataclass
class WeekResult:
    week: Week
    class_enrolled: np.ndarray  # per class
    class_excused: np.ndarray
    class_unexcused: np.ndarray
    listed: np.ndarray  # student indices on the schools' lists this week
    status: np.ndarray  # status index per listed student
    sessions: np.ndarray  # sessions missed this school year so far, per listed student
    first_day: np.ndarray  # date ordinal (0 = none), per listed student


def _season(week: Week, year: SchoolYear, first: Week) -> float:
    """Absence multiplier: the weeks around Tết and the first weeks of the year are worse."""
    tet = year.tet_break
    since = (week.friday - tet.end).days
    if 0 < since <= 7:
        return 4.0
    if 7 < since <= 14:
        return 2.5
    if 14 < since <= 21:
        return 1.7
    if 21 < since <= 28:
        return 1.3
    if tet.start - timedelta(days=6) <= week.friday < tet.end:
        return 1.6
    if (week.friday - first.friday).days <= 7:
        return 1.3
    return 1.0


def simulate(
    pop: Population, plan: DropoutPlan, weeks: list[Week], wanted: set[date], seed: int
) -> Iterator[WeekResult]:
    """Step through the school year; yield the weeks asked for, in order."""
    rng = np.random.default_rng([seed, 31])
    n = pop.n_students
    level = pop.st_level.astype(int)
    p_base = np.array([0.010, 0.012, 0.017])[level]
    p_base = p_base * np.where(pop.st_minority, 1.25, 0.8) * np.where(pop.st_boarding, 0.8, 1.0)
    p_abs = np.clip(p_base * rng.gamma(0.8, 1 / 0.8, n), 0, 0.6)
    q_exc = np.where(pop.st_minority, rng.beta(2.7, 3.3, n), rng.beta(3.0, 2.0, n))
    n_classes = len(pop.classes)
    cls = pop.st_class
    has_d0 = plan.first_day > 0
    d0 = plan.first_day
    ret = plan.returned
    cum = np.zeros(n, np.int32)
    last = max((w.index for w in weeks if w.friday in wanted), default=-1)

    for week in weeks[: last + 1]:
        days = np.array([d.toordinal() for d in week.days])
        n_days = len(days)
        away = np.zeros(n, np.int32)
        for d in days:
            away += has_d0 & (d0 <= d) & ((ret == 0) | (d < ret))
        avail = n_days - away
        p_eff = np.clip(p_abs * _season(week, pop.year, weeks[0]), 0, 0.9)
        normal = rng.binomial(avail, p_eff)
        sick = (rng.random(n) < 0.003) & (avail >= 3)
        normal = np.where(sick, np.maximum(normal, np.minimum(avail, rng.integers(3, 6, n))), normal)
        excused = rng.binomial(normal, np.where(sick, 0.9, q_exc))
        total = away + normal
        cum += total
        first_absent = days[np.minimum(rng.integers(0, n_days - np.minimum(total, n_days) + 1), n_days - 1)]
        if week.friday not in wanted:
            continue

        monday, friday = week.friday.toordinal() - 4, week.friday.toordinal()
        back_by_friday = (ret > 0) & (ret <= friday)
        declared = has_d0 & (plan.declared_week <= week.index) & ~back_by_friday
        back_now = (ret >= monday) & back_by_friday
        in_class = ~declared
        enrolled = np.bincount(cls[in_class], minlength=n_classes)
        exc = np.bincount(cls, weights=excused * in_class, minlength=n_classes).astype(np.int64)
        unexc = np.bincount(cls, weights=(total - excused) * in_class, minlength=n_classes).astype(np.int64)

        so_far = week.days_before + n_days
        chronic = ~has_d0 & (cum >= max(5, 0.1 * so_far))
        at_risk = chronic | (
            has_d0 & (plan.risk_week <= week.index) & (week.index < plan.declared_week) & ~back_by_friday
        )
        status = np.zeros(n, np.int8)
        status[at_risk] = NGUY_CO
        status[(total >= 3) & in_class] = VANG_DAI_NGAY
        status[declared] = BO_HOC
        status[back_now] = DA_TRO_LAI
        listed = np.flatnonzero(status)
        st = status[listed]
        pending = has_d0[listed] & (d0[listed] <= friday) & ~back_by_friday[listed]
        first = np.where(
            (st == BO_HOC) | (st == DA_TRO_LAI) | ((st == VANG_DAI_NGAY) & pending),
            d0[listed],
            np.where(st == VANG_DAI_NGAY, first_absent[listed], 0),
        )
        yield WeekResult(week, enrolled, exc, unexc, listed, st, 2 * cum[listed], first)
