"""The main job on the embedded default: sample term -> Airflow DAG runs on SQLite -> summary.

    .venv/bin/python scripts/demo.py [--weeks 6] [--seed 7]

1. generates a sample term for the district (schools' weekly files, police extracts);
2. replays it Friday by Friday: before each Friday's run, the files the schools had dropped by
   then (by their file time) appear in the inbox, so late files are caught by the next run;
3. runs `school_submissions_weekly` through Airflow (`dag.test`) for each Friday, with a local
   SMTP sink receiving the emails;
4. prints what the district would see.
Everything lands under var/demo/ (recreated on each run).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "var" / "demo"
DISTRICT = "pgd.batxat@example.org"
LAST_FRIDAY = date(2025, 4, 4)  # the first fortnightly report date


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--weeks", type=int, default=6, help="Fridays to replay, ending 4 April 2025")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.monotonic()

    shutil.rmtree(DEMO, ignore_errors=True)
    sample, inbox, work, mail = DEMO / "sample", DEMO / "inbox", DEMO / "work", DEMO / "mail"
    for folder in (inbox, work, mail):
        folder.mkdir(parents=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(DEMO / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__EMAIL__FROM_EMAIL": "chuyencan@example.org",
            # dag.test() streams every task's log to the console; the demo prints its own summary.
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_VAR_CHUYENCAN_INBOX": str(inbox),
            "AIRFLOW_VAR_CHUYENCAN_POLICE_INBOX": str(sample / "police_inbox"),
            "AIRFLOW_VAR_CHUYENCAN_WORK_DIR": str(work),
            "AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL": DISTRICT,
        }
    )
    sys.path.insert(0, str(ROOT / "plugins"))
    sys.path.insert(0, str(ROOT / "devtools"))

    fridays = [LAST_FRIDAY - timedelta(weeks=n) for n in reversed(range(args.weeks))]
    print(
        f"1/4 generating a sample term for Bát Xát: weeks ending {fridays[0]:%d/%m} to {fridays[-1]:%d/%m/%Y}"
    )
    from chuyencan_dev.synth import generate

    summary = generate(sample, seed=args.seed, scale="district", first_week=fridays[0], last_week=fridays[-1])
    print(f"    {summary}")
    _date_police_extracts(sample / "police_inbox")

    print("2/4 preparing Airflow's metadata database (SQLite)")
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True, capture_output=True
    )

    from chuyencan_dev.mail_sink import SmtpSink

    with SmtpSink(mail) as sink:
        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": sink.port,
                "extra": {"disable_ssl": True, "disable_tls": True},
            }
        )
        print(f"3/4 running school_submissions_weekly through Airflow for {len(fridays)} Fridays")
        dag = _dag("school_submissions_weekly")
        for friday in fridays:
            run_at = datetime(friday.year, friday.month, friday.day, 4, 0, tzinfo=UTC)  # 11:00 in Lào Cai
            arrived = _deliver(sample / "inbox", inbox, until=run_at)
            state = dag.test(logical_date=run_at).state
            print(f"    Friday {friday:%d/%m/%Y}: {arrived} new files in the inbox -> run {state}")
            if str(state) != "success":
                raise SystemExit(f"the run for {friday} did not succeed; see the log above")
        # The fortnightly report at 15:00 on the last Friday: it sweeps in files that came after
        # the morning run, reconciles the cases with the police extracts, and publishes.
        _deliver(sample / "inbox", inbox, until=datetime.max.replace(tzinfo=UTC))
        report_dag = _dag("fortnightly_report")
        last = fridays[-1]
        state = report_dag.test(
            logical_date=datetime(last.year, last.month, last.day, 8, 0, tzinfo=UTC)
        ).state
        print(f"    fortnightly_report for {last:%d/%m/%Y} 15:00 -> run {state}")
        if str(state) != "success":
            raise SystemExit("the fortnightly report did not succeed; see the log above")

    print("4/4 what the district sees")
    _print_summary(work, mail, fridays)
    _print_fortnight(work, fridays[-1])
    print(f"\ndone in {time.monotonic() - started:.0f} s")


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
        row = (
            conn.execute(
                text("SELECT * FROM report.fortnight_summary WHERE report_date = :d AND scope = 'district'"),
                {"d": report_date},
            )
            .mappings()
            .first()
        )
    engine.dispose()
    if row is None:
        print("\n    (no fortnightly summary was published)")
        return
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


def _print_summary(work: Path, mail: Path, fridays: list[date]) -> None:
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
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        print(f"      {path.name:>6}  to {message['To']}: {message['Subject']}")
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
