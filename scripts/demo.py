"""The main job on the embedded default: sample term -> Airflow DAG runs on SQLite -> summary.

    .venv/bin/python scripts/demo.py [--weeks 6] [--seed 7]
    .venv/bin/python scripts/demo.py --province [--weeks 2] [--seed 7]     # make demo-province

1. generates a sample term for the district (schools' weekly files, police extracts); with
   `--province`, a post-reform fortnight (report date 17 October 2025, school year 2025-26) for
   the merged Lào Cai province (~1,200 schools, ~100 communes; chuyencan_dev.synth
   `--scale province`), whose reference directory (organisation included) the DAGs are pointed
   at through `chuyencan_reference_dir`;
2. replays it Friday by Friday: before each Friday's run, the files the schools had dropped by
   then (by their file time) appear in the inbox, so late files are caught by the next run;
3. runs `school_submissions_weekly` through Airflow (`dag.test`) for each Friday, with a local
   SMTP sink receiving the emails;
4. prints what the district would see.
Everything lands under var/demo/ (var/demo-province/ with `--province`; recreated on each run).
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "var" / "demo"
DISTRICT = "pgd.batxat@example.org"
ENGINEERS = "data.engineers@example.org"
LAST_FRIDAY = date(2025, 4, 4)  # the first fortnightly report date


@dataclass(frozen=True)
class Profile:
    """What a demo replays: where it lives, which sample, which Fridays, who gets the report."""

    folder: Path
    scale: str
    area: str  # for the console and the Airflow UI's title
    last_friday: date
    weeks: int
    recipient: str
    own_reference: bool  # the sample writes its own reference/ (province scales)


BAT_XAT = Profile(DEMO, "district", "Bát Xát", LAST_FRIDAY, 6, DISTRICT, own_reference=False)
# After the reform: a report date of 2025-26 (report Fridays run every 14 days from 4 April 2025).
PROVINCE = Profile(
    ROOT / "var" / "demo-province",
    "province",
    "Lào Cai (merged province)",
    date(2025, 10, 17),
    2,
    "sogddt.laocai@example.org",
    own_reference=True,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--province",
        action="store_true",
        help="a post-reform fortnight (report date 17/10/2025) for the merged Lào Cai province, in var/demo-province",
    )
    parser.add_argument(
        "--weeks",
        type=int,
        help="Fridays to replay, ending on the report date (default 6; 2 with --province)",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    profile = PROVINCE if args.province else BAT_XAT
    weeks = args.weeks or profile.weeks
    started = time.monotonic()

    demo = profile.folder
    shutil.rmtree(demo, ignore_errors=True)
    sample, inbox, work, mail = demo / "sample", demo / "inbox", demo / "work", demo / "mail"
    for folder in (inbox, work, mail):
        folder.mkdir(parents=True)
    os.environ.update(demo_environment(profile))
    # dag.test() streams every task's log to the console; the demo prints its own summary (the
    # task logs are kept for the UI, see record_task_logs).
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    sys.path.insert(0, str(ROOT / "plugins"))
    sys.path.insert(0, str(ROOT / "devtools"))

    fridays = [profile.last_friday - timedelta(weeks=n) for n in reversed(range(weeks))]
    print(
        f"1/4 generating a sample term for {profile.area}: weeks ending {fridays[0]:%d/%m} to {fridays[-1]:%d/%m/%Y}"
    )
    from chuyencan_dev.synth import generate

    summary = generate(
        sample, seed=args.seed, scale=profile.scale, first_week=fridays[0], last_week=fridays[-1]
    )
    print(f"    {summary}")
    if profile.own_reference:
        _keep_latest_extracts(sample / "police_inbox")
    _date_police_extracts(sample / "police_inbox")

    print("2/4 preparing Airflow's metadata database (SQLite)")
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True, capture_output=True
    )

    from chuyencan.core.settings import REPORT_TIME, TIMEZONE
    from chuyencan_dev.mail_sink import SmtpSink

    with SmtpSink(mail) as sink:
        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = smtp_connection(sink.port)
        print(f"3/4 running school_submissions_weekly through Airflow for {len(fridays)} Fridays")
        dag = _dag("school_submissions_weekly")
        from chuyencan.core.settings import REPORT_TIME, TIMEZONE, weekly_run_time

        for friday in fridays:
            run_at = datetime.combine(friday, weekly_run_time(), tzinfo=TIMEZONE).astimezone(UTC)
            arrived = _deliver(sample / "inbox", inbox, until=run_at)
            state, failed = _run(dag, run_at)
            print(f"    Friday {friday:%d/%m/%Y}: {arrived} new files in the inbox -> run {state}")
            if failed == ["check_schools_reported"]:
                # The week is marked (too many schools without a report), as it should be.
                print("      marked red: too many schools without an accepted report at the close")
            elif state != "success":
                raise SystemExit(f"the run for {friday} failed at {', '.join(failed)}; see the log above")
        # The fortnightly report at its time on the last Friday (the first report date: there is no
        # previous report to compare with): it sweeps in files that came after
        # the morning run, reconciles the cases with the police extracts, and publishes.
        _deliver(sample / "inbox", inbox, until=datetime.max.replace(tzinfo=UTC))
        report_dag = _dag("fortnightly_report")
        last = fridays[-1]
        report_at = datetime.combine(last, REPORT_TIME, tzinfo=TIMEZONE).astimezone(UTC)
        state, _ = _run(report_dag, report_at)
        print(f"    fortnightly_report for {last:%d/%m/%Y} {REPORT_TIME:%H:%M} -> run {state}")
        if state != "success":
            raise SystemExit("the fortnightly report did not succeed; see the log above")

    print("4/4 what the district sees" if profile is BAT_XAT else "4/4 what the province sees")
    _print_summary(work, mail, fridays, emails_listed=None if profile is BAT_XAT else 12)
    _print_fortnight(work, fridays[-1])
    print(f"\ndone in {time.monotonic() - started:.0f} s")


def demo_environment(profile: Profile = BAT_XAT) -> dict[str, str]:
    """Airflow's and the pipeline's settings for the demo; `make ui` (scripts/ui.py) uses the
    same, so the UI shows the demo's runs and a run triggered there reads the demo's inbox."""
    demo = profile.folder
    own = (
        {"AIRFLOW_VAR_CHUYENCAN_REFERENCE_DIR": str(demo / "sample" / "reference")}
        if profile.own_reference
        else {}
    )
    return {
        "AIRFLOW_HOME": str(demo / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "AIRFLOW__API__INSTANCE_NAME": f"chuyencan · {profile.area} (demo)",
        "AIRFLOW__EMAIL__FROM_EMAIL": "chuyencan@example.org",
        "AIRFLOW_VAR_CHUYENCAN_INBOX": str(demo / "inbox"),
        "AIRFLOW_VAR_CHUYENCAN_POLICE_INBOX": str(demo / "sample" / "police_inbox"),
        "AIRFLOW_VAR_CHUYENCAN_WORK_DIR": str(demo / "work"),
        "AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL": profile.recipient,
        "AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL": ENGINEERS,
        **own,
    }


def smtp_connection(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True},
        }
    )


def _run(dag, logical_date: datetime) -> tuple[str, list[str]]:
    """One dag.test() run recorded as the UI shows scheduler runs: the task logs written where
    the api-server reads them, and the run's start the first task's start (dag.test() records
    the logical date, which made a 2025 run last 600 days). Returns the state and failed tasks."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with record_task_logs(Path(os.environ["AIRFLOW_HOME"]) / "logs"):
        run = dag.test(logical_date=logical_date)
    with create_session() as session:
        stored = session.get(DagRun, run.id)
        tis = stored.get_task_instances(session=session)
        starts = [ti.start_date for ti in tis if ti.start_date]
        if starts:
            stored.start_date = min(starts)
            stored.queued_at = min(starts)
        failed = sorted(ti.task_id for ti in tis if str(ti.state) in ("failed", "upstream_failed"))
        state = str(stored.state)
    return state, failed


@contextlib.contextmanager
def record_task_logs(folder: Path) -> Iterator[None]:
    """While dag.test() runs tasks in this process, each task's log records also go to
    `<folder>/dag_id=…/run_id=…/task_id=…/attempt=N.log` as JSON lines, the file and format the
    api-server serves as the task's log (FileTaskHandler's default template).

    dag.test() has no hook for this: its per-task function is wrapped for the duration (the
    demo only; a scheduler's runs write these files themselves)."""
    import airflow.sdk.definitions.dag as sdk_dag

    original = sdk_dag._run_task
    root = logging.getLogger()

    def run_task(*, ti, task, run_triggerer=False):
        path = folder / f"dag_id={ti.dag_id}" / f"run_id={ti.run_id}" / f"task_id={ti.task_id}"
        path.mkdir(parents=True, exist_ok=True)
        handler = _JsonLines(path / f"attempt={ti.try_number}.log")
        # INFO into the file, the console as quiet as the demo asked (WARNING).
        console = [(h, h.level) for h in root.handlers]
        for h, level in console:
            h.setLevel(max(level, logging.WARNING))
        level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(handler)
        try:
            return original(ti=ti, task=task, run_triggerer=run_triggerer)
        finally:
            root.removeHandler(handler)
            handler.close()
            root.setLevel(level)
            for h, old in console:
                h.setLevel(old)

    sdk_dag._run_task = run_task
    try:
        yield
    finally:
        sdk_dag._run_task = original


class _JsonLines(logging.FileHandler):
    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")
        self.setLevel(logging.INFO)

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "logger": record.name,
        }
        if record.exc_info:
            line["error_detail"] = logging.Formatter().formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def _dag(dag_id: str):  # an airflow.sdk DAG; imported late, after the environment is set
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag(dag_id)
    if dag is None:
        raise SystemExit(f"{dag_id} did not load; run `make test` to see why")
    return dag


def _date_police_extracts(folder: Path) -> None:
    """The generator writes the extracts now; date each at its round (the date in its name), as
    if the commune police had dropped it then, so the settle guard does not hold it back."""
    for path in folder.iterdir():
        try:
            day = date.fromisoformat(path.stem.rsplit("_", 1)[-1])
        except ValueError:
            continue
        stamp = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC).timestamp()
        os.utime(path, (stamp, stamp))


def _keep_latest_extracts(folder: Path) -> None:
    """Each commune's latest police extract only (the newer supersedes the older anyway): at
    province scale the older round would double the demo's slowest step, reading 2.7 million
    household records instead of 1.3 million."""
    latest: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        commune = path.stem.rsplit("_", 1)[0]
        if commune in latest:
            latest[commune].unlink()  # sorted: the same commune's earlier round came first
        latest[commune] = path


def _deliver(source: Path, inbox: Path, until: datetime) -> int:
    """Copy into the inbox the files whose file time is before `until`, keeping their times."""
    count = 0
    for path in sorted(source.rglob("*")):
        target = inbox / path.relative_to(source)
        if not path.is_file() or target.exists():
            continue
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) <= until:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            count += 1
    return count


def _print_fortnight(work: Path, report_date: date) -> None:
    from sqlalchemy import text

    from chuyencan.core import warehouse as wh

    engine = wh.make_engine(f"sqlite:///{work / 'warehouse.db'}")
    with engine.connect() as conn:
        # The district's row (one report), or, once reports are per reporting unit, each
        # unit's own row (scope 'unit').
        rows = (
            conn.execute(
                text(
                    "SELECT * FROM report.fortnight_summary WHERE report_date = :d AND scope IN ('district', 'unit')"
                ),
                {"d": report_date},
            )
            .mappings()
            .all()
        )
    engine.dispose()
    if not rows:
        print("\n    (no fortnightly summary was published)")
        return
    if len(rows) > 1:
        _print_units(rows, report_date)
        return
    row = rows[0]
    print(f"\n    Fortnightly report {report_date:%d/%m/%Y} (report.fortnight_summary, district):")
    print(
        f"      attendance {row['attendance_rate']:.1%}; open dropouts {row['dropouts_open']} "
        f"(summer {row['dropouts_summer']}, semester 1 {row['dropouts_hk1']}, semester 2 {row['dropouts_hk2']}, "
        f"after Tết {row['dropouts_after_tet']}); new {row['dropouts_new']}; returned {row['returned']}"
    )
    print(
        f"      left the locality {row['left_locality']}, still there {row['in_locality']}, "
        f"unverified {row['unverified']}; eligible to continue {row['eligible_to_continue']}, "
        f"not eligible {row['not_eligible']}; at risk {row['at_risk']}"
    )


def _print_units(rows, report_date: date) -> None:
    """One line per reporting unit's report, the largest first (the department rolls up all)."""
    ordered = sorted(rows, key=lambda r: (-(r["dropouts_open"] or 0), str(r.get("reporting_unit"))))
    print(f"\n    Fortnightly reports {report_date:%d/%m/%Y}: {len(rows)} units (report.fortnight_summary)")
    for row in ordered[:12]:
        rate = f"{row['attendance_rate']:.1%}" if row["attendance_rate"] is not None else "-"
        print(
            f"      {row.get('reporting_unit', '?'):<24} attendance {rate:>6}; open dropouts {row['dropouts_open']:>4}, "
            f"new {row['dropouts_new']:>3}, returned {row['returned']:>3}, at risk {row['at_risk']:>4}"
        )
    if len(rows) > 12:
        print(f"      … and {len(rows) - 12} more")


def _print_summary(work: Path, mail: Path, fridays: list[date], emails_listed: int | None = None) -> None:
    from sqlalchemy import text

    from chuyencan.core import warehouse as wh

    engine = wh.make_engine(f"sqlite:///{work / 'warehouse.db'}")
    with engine.connect() as conn:
        print("\n    Reporting by week (schools):  on time  late  missing  rejected")
        for friday in fridays:
            counts = dict(
                conn.execute(
                    text(
                        "SELECT status, COUNT(*) FROM report.submission_status WHERE week_ending = :w GROUP BY status"
                    ),
                    {"w": friday},
                ).all()
            )
            print(
                f"    {friday:%d/%m/%Y}                    {counts.get('on_time', 0):>7}  {counts.get('late', 0):>4}"
                f"  {counts.get('missing', 0):>7}  {counts.get('rejected', 0):>8}"
            )
        print("\n    Attendance by level (student-days present / scheduled):")
        rows = conn.execute(
            text(
                "SELECT week_ending, level, 1.0 - SUM(absent_excused + absent_unexcused) * 1.0 "
                "/ SUM(student_days_scheduled) FROM report.attendance_weekly "
                "GROUP BY week_ending, level ORDER BY week_ending, level"
            )
        ).all()
        levels = sorted({r[1] for r in rows})
        print("    week         " + "".join(f"{lv:>8}" for lv in levels))
        by_week: dict[str, dict[str, float]] = {}
        for week, level, rate in rows:
            by_week.setdefault(str(week), {})[level] = rate
        for week, rates in by_week.items():
            print(f"    {week}   " + "".join(f"{rates.get(lv, 0):>8.1%}" for lv in levels))
        files = dict(
            conn.execute(text("SELECT outcome, COUNT(*) FROM ops.submission GROUP BY outcome")).all()
        )
    engine.dispose()
    reports = sorted((work / "quarantine").rglob("*.errors.txt"))
    print(f"\n    Files: {files.get('accepted', 0)} accepted, {files.get('rejected', 0)} rejected")
    print(f"    Warehouse (SQLite):      {work / 'warehouse.db'} (+ .report.db, .restricted.db … beside it)")
    print(f"    Quarantine reports:      {len(reports)} in {work / 'quarantine'}")
    if reports:
        print(f"      e.g. {reports[0]}")
    messages = sorted(mail.glob("*.eml"), key=lambda p: int(p.stem))
    print(f"    Emails received:         {len(messages)} in {mail} (open the .eml files)")
    for path in messages[:emails_listed]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        print(f"      {path.name:>6}  to {message['To']}: {message['Subject']}")
    if emails_listed is not None and len(messages) > emails_listed:
        print(f"      … and {len(messages) - emails_listed} more")
    print(f"    Next week's templates:   {work / 'templates'}")
    reports = sorted((work / "reports").glob("bao_cao_chuyen_can_*.xlsx"))
    public = sorted((work / "reports").glob("bao_cao_cong_khai_*.xlsx"))
    print(f"    Fortnightly report:      {reports[-1] if reports else '(none)'} (+ .md, .html twins)")
    print(
        f"    Public report:           {public[-1] if public else '(none)'} (+ .csv; counts under 5 hidden)"
    )
    print(f"    Principals' lists:       {work / 'reports' / 'restricted'} (restricted, mode 0600)")
    print(f"    Police review list:      {work / 'police' / 'review'} (restricted)")


if __name__ == "__main__":
    main()
