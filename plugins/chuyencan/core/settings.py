"""Pipeline settings as plain values, so the package runs without Airflow.

Every default is written here once: the dataclass's field defaults are what an unset Airflow
variable means (`Settings.from_variables`, which `chuyencan.orchestration.adapter` feeds with Airflow's
variables and connection, docs/contracts.md#1-configuration); tests and benchmarks build `Settings` directly. The
times the DAGs run at are here too, as constants, because a schedule is fixed when a DAG file
is parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Every date and time the pipeline works with is local to the district (docs/contracts.md#2-dags).
TIMEZONE_NAME = "Asia/Ho_Chi_Minh"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
# Data and wording shipped with the code: reference data, rules, SQL, templates, catalogues.
INCLUDE_DIR = PROJECT_ROOT / "include"
REFERENCE_DIR = INCLUDE_DIR / "reference"
# Where everything lives when nothing is configured (docs/contracts.md#1-configuration: every
# setting is optional).
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
DISTRICT_KEY = "BAT_XAT"

# Schools must deliver by this time on the Friday that ends the reported week
# (`chuyencan_deadline` changes it for a deployment; the schedule below stays).
DEADLINE = time(10, 0)
# Circular 22/2021 Art. 12: more than this many missed sessions in a school year and a student
# cannot move up a grade (`chuyencan_eligibility_max_sessions`).
ELIGIBILITY_MAX_SESSIONS = 45
# The Friday run closes the week this long after the default deadline (docs/contracts.md#2-dags: after it).
WEEKLY_RUN_AFTER_DEADLINE = timedelta(hours=1)
# The fortnightly report is due at the People's Committee at 15:00 on the report Friday and the
# head of office reviews and signs it first (docs/contracts.md#2-dags): it is produced at
# REPORT_TIME, and at REPORT_DEADLINE `fortnightly_report_deadline` tells the district and the
# engineers if it is not out. The DAGs' schedules read these.
REPORT_TIME = time(13, 30)
REPORT_DEADLINE = time(14, 0)
# Schools without an accepted file for the week are reminded at this time on the Friday, before
# the deadline (`chuyencan_reminder_time` changes the time of day the reminders are due; the
# `school_submission_reminders` DAG's schedule stays, like the weekly run's).
REMINDER_TIME = time(8, 0)
# Delivered documents (lists in the recipients' folders on the share) are deleted this long
# after delivery (`chuyencan_delivery_retention_days`).
DELIVERY_RETENTION_DAYS = 90


def weekly_run_time() -> time:
    """When the Friday run closes the week: the default deadline plus the margin."""
    moment = datetime.combine(date.min, DEADLINE) + WEEKLY_RUN_AFTER_DEADLINE
    return moment.time()


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
    deadline: time = DEADLINE
    # A file modified this recently may still be being copied into the share: leave it for
    # the next run rather than read half a workbook.
    settle_seconds: int = 60
    # The week's run is marked (a failed check) when more than this share of the active schools
    # have no accepted report at the close.
    missing_alert_share: float = 0.25
    # Warn when a class's attendance is this many points below the school's usual.
    attendance_drop_warning: float = 0.20
    eligibility_max_sessions: int = ELIGIBILITY_MAX_SESSIONS
    # Early warning (BRIEF.md: chronic absence is missing >= 10 % of school days).
    risk_chronic_absence_share: float = 0.10
    risk_rising_unexcused_weeks: int = 3  # unexcused absences up for this many weeks in a row
    risk_approaching_sessions: int = 35  # this close to the eligibility limit
    # Household records other than verdicts about matched students are deleted after this.
    police_retention_days: int = 90
    # The office that receives the list of pupils working in karaoke bars, restaurants and
    # guesthouses (a contacts.csv `office` key; after the 2025 reform the province's Sở Nội vụ).
    home_affairs_office: str = "NOI_VU_BAT_XAT"
    # The share where each recipient (school, commune, police post, unit, office) has its own
    # folder for the lists sent to it (docs/delivery.md); None: `<work_dir>/share`.
    delivery_dir: Path | None = None
    delivery_retention_days: int = DELIVERY_RETENTION_DAYS
    reminder_time: time = REMINDER_TIME
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

    @property
    def share_dir(self) -> Path:
        """Root of the recipients' folders (`delivery_dir`, or `<work_dir>/share`)."""
        return self.delivery_dir if self.delivery_dir is not None else self.work_dir / "share"

    def reminder_for(self, week_ending: date) -> datetime:
        """When schools still without an accepted file for the week are reminded."""
        return datetime.combine(week_ending, self.reminder_time, tzinfo=self.timezone)

    def deadline_for(self, week_ending: date) -> datetime:
        return datetime.combine(week_ending, self.deadline, tzinfo=self.timezone)

    @classmethod
    def from_variables(
        cls, variable: Callable[[str], str | None], warehouse_url: Callable[[Path], str]
    ) -> Settings:
        """Settings from configuration variables (`variable(name)` is None when one is unset,
        which leaves the default); `warehouse_url(work_dir)` names the warehouse."""
        values: dict[str, object] = dict(DEFAULT_FOLDERS)
        for name, (field_name, parse) in VARIABLES.items():
            raw = variable(name)
            if raw is not None:
                values[field_name] = parse(raw.strip())
        work_dir = values["work_dir"]
        assert isinstance(work_dir, Path)
        return cls(warehouse_url=warehouse_url(work_dir), **values)  # type: ignore[arg-type]


def _addresses(value: str) -> tuple[str, ...]:
    return tuple(e.strip() for e in value.split(",") if e.strip())


# The configuration variables (docs/contracts.md#1-configuration, `AIRFLOW_VAR_<NAME>`): the field each one sets and
# how its text is read. An unset variable leaves the field's default above.
VARIABLES: dict[str, tuple[str, Callable[[str], object]]] = {
    "chuyencan_inbox": ("inbox", Path),
    "chuyencan_police_inbox": ("police_inbox", Path),
    "chuyencan_work_dir": ("work_dir", Path),
    "chuyencan_district_email": ("district_emails", _addresses),
    "chuyencan_engineer_email": ("engineer_emails", _addresses),
    "chuyencan_reference_dir": ("reference_dir", Path),
    "chuyencan_deadline": ("deadline", time.fromisoformat),
    "chuyencan_settle_seconds": ("settle_seconds", int),
    "chuyencan_eligibility_max_sessions": ("eligibility_max_sessions", int),
    "chuyencan_risk_chronic_absence_share": ("risk_chronic_absence_share", float),
    "chuyencan_risk_rising_unexcused_weeks": ("risk_rising_unexcused_weeks", int),
    "chuyencan_risk_approaching_sessions": ("risk_approaching_sessions", int),
    "chuyencan_police_retention_days": ("police_retention_days", int),
    "chuyencan_missing_alert_share": ("missing_alert_share", float),
    "chuyencan_home_affairs_office": ("home_affairs_office", str),
    "chuyencan_delivery_dir": ("delivery_dir", Path),
    "chuyencan_delivery_retention_days": ("delivery_retention_days", int),
    "chuyencan_reminder_time": ("reminder_time", time.fromisoformat),
}
# The folders a deployment uses when their variables are unset (code that builds `Settings`
# names its own; `police_inbox=None` there means no police extracts).
DEFAULT_FOLDERS = {
    "inbox": DEFAULT_DATA_DIR / "inbox",
    "police_inbox": DEFAULT_DATA_DIR / "police_inbox",
    "work_dir": DEFAULT_DATA_DIR / "work",
}
