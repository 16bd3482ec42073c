"""Pipeline settings as plain values, so the package runs without Airflow.

`chuyencan.orchestration.adapter.settings_from_airflow()` fills these from Airflow variables and
connections (docs/contracts.md#1-configuration); tests and benchmarks build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from chuyencan.core.reference import REFERENCE_DIR

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PROJECT_ROOT = Path(__file__).resolve().parents[3]
# Where everything lives when nothing is configured (docs/contracts.md#1-configuration: every
# setting is optional).
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
DISTRICT_KEY = "BAT_XAT"


@dataclass(frozen=True)
class Settings:
    inbox: Path
    work_dir: Path
    warehouse_url: str
    police_inbox: Path | None = None
    district_emails: tuple[str, ...] = ()
    # Data engineers, told with the district when the fortnightly report misses its deadline.
    engineer_emails: tuple[str, ...] = ()
    reference_dir: Path = REFERENCE_DIR
    # Schools must deliver by this time on the Friday that ends the reported week.
    deadline: time = time(10, 0)
    # A file modified this recently may still be being copied into the share: leave it for
    # the next run rather than read half a workbook.
    settle_seconds: int = 60
    # Warn when a class's attendance is this many points below the school's usual.
    attendance_drop_warning: float = 0.20
    # Circular 22/2021 Art. 12: more than this many missed sessions in a school year and a
    # student cannot move up a grade.
    eligibility_max_sessions: int = 45
    # Early warning (BRIEF.md: chronic absence is missing >= 10 % of school days).
    risk_chronic_absence_share: float = 0.10
    risk_rising_unexcused_weeks: int = 3  # unexcused absences up for this many weeks in a row
    risk_approaching_sessions: int = 35  # this close to the eligibility limit
    # Household records other than verdicts about matched students are deleted after this.
    police_retention_days: int = 90
    timezone: ZoneInfo = field(default=TIMEZONE)

    @property
    def archive_dir(self) -> Path:
        return self.work_dir / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.work_dir / "quarantine"

    @property
    def templates_dir(self) -> Path:
        return self.work_dir / "templates"

    def deadline_for(self, week_ending: date) -> datetime:
        return datetime.combine(week_ending, self.deadline, tzinfo=self.timezone)
