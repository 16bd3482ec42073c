"""`make integration`: the docker-compose deployment's topology, started natively on this machine.

    PYTHONPATH=plugins:devtools .venv/bin/python -m scripts.integration.run [--dags a,b] [--keep]

1. Fresh PostgreSQL databases for Airflow's metadata and two warehouses (A: undisturbed,
   B: disturbed), the project's warehouse roles in both (the pipeline writes as the writer);
   Redis on 127.0.0.1:6379 (a database of its own) as the Celery broker; a local SMTP server.
2. Airflow api-server, scheduler, dag-processor, triggerer and two Celery workers (topology.WORKERS,
   hostnames it-worker-1, it-worker-2 as two worker containers would have) on loopback ports,
   each in a process group of its own, configured through the environment only, like the
   containers (AIRFLOW__*, AIRFLOW_CONN_*, AIRFLOW_VAR_*).
3. A few weeks of district data from chuyencan_dev.synth in the schools' and the police inboxes.
4. Phase A: every DAG of topology.DAG_IDS that is in dags/ triggered through the REST API
   (/api/v2, JWT from /auth/token), one run at a time in a fixed order, each waited for, at the
   local times the schedules read from chuyencan.core.settings (the report at REPORT_TIME); the
   warehouse checked against the generator's ground truth, the emails the SMTP server received
   checked against the broken files and closed weeks. The mapped tasks of the police
   reconciliation (one per commune) and of the fortnightly report (one per reporting unit) are
   checked to have run on both workers (task instance `hostname`); the split printed.
5. Phase B: the same runs against warehouse B, the Celery worker running the first load task
   SIGKILLed (its whole process tree) while it is storing files, a new worker started: the run completes
   through the task's retry, warehouse B equals warehouse A (canonical dump; processing times and
   surrogate keys aside) and the same emails arrive again.
   Phase C: on warehouse B, by the two workers then running, a fortnight after the July 2025
   reform (report Friday POST_REFORM_REPORT, its two weeks generated at the start): its files
   arrive in the inbox, the intake and weekly runs load and close its weeks, and one
   fortnightly report run maps over the ~9 reporting units then in force; that run's per-unit
   tasks must each have run on both workers (the split printed by unit code).
6. Everything started is stopped, the databases and roles dropped, on success, failure or
   Ctrl-C; on failure the logs of the failing component (or all) are printed.
Every wait has a timeout and the whole run a budget (--timeout).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import create_engine, text

from chuyencan.core.settings import DEADLINE, REPORT_DEADLINE, REPORT_TIME, TIMEZONE, weekly_run_time
from scripts.integration import checks, fanout, page, topology
from scripts.integration import environment as envs
from scripts.integration.api import FINISHED, AirflowApi, wait_for
from scripts.integration.dump import compare, dump
from scripts.integration.processes import ComponentDied, Supervisor

FIRST_WEEK, LAST_WEEK = date(2025, 3, 14), date(2025, 4, 4)
FIRST_REPORT_FRIDAY = date(2025, 4, 4)  # docs/contracts.md#2-dags
# Phase C: one report Friday after the July 2025 reform, when Bát Xát's area reports as the
# provincial department plus its commune units (include/reference/reporting_units.csv), so the
# report run maps over enough units that both workers must take some. Its two school weeks only.
POST_REFORM_REPORT = date(2025, 10, 3)
POST_REFORM_WEEKS = [POST_REFORM_REPORT - timedelta(weeks=1), POST_REFORM_REPORT]
POST_REFORM_DAGS = ("school_submissions_intake", "school_submissions_weekly", "fortnightly_report")
SEED = 7
MISTAKE_RATE = 0.15  # enough broken first files that several schools must be told what to fix

# When each DAG runs in the window, as (which Fridays, Vietnam local time of the logical date,
# from the settings the schedules read): "each" every Friday, "report" the fortnightly report
# Fridays, "last" once on the last Friday. A DAG id added to topology.DAG_IDS without an entry
# here runs like "last" at 12:00.
WHEN = {
    "school_submissions_intake": ("last", DEADLINE),
    "school_submissions_weekly": ("each", weekly_run_time()),  # its cron
    "police_extract_intake": ("last", time_of_day(12, 0)),
    "police_reconciliation": ("last", time_of_day(13, 0)),
    "fortnightly_report": ("report", REPORT_TIME),  # its schedule
    "fortnightly_report_deadline": ("report", REPORT_DEADLINE),  # its schedule, after the report
}
LOAD_TASK = ("school_submissions_intake", "collect_new_files")  # where the worker dies


class Failure(RuntimeError):
    """A check failed or a component misbehaved: the run prints why and exits non-zero."""


@dataclass
class Clock:
    budget: float
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self, wanted: float) -> float:
        remaining = self.budget - self.elapsed()
        if remaining <= 0:
            raise TimeoutError(f"the run exceeded its {self.budget:.0f}s budget")
        return min(wanted, remaining)

    def say(self, message: str) -> None:
        print(f"[{self.elapsed():6.1f}s] {message}", flush=True)


@dataclass(frozen=True)
class Step:
    dag_id: str
    logical_date: datetime

    def run_id(self, phase: str) -> str:
        return f"it_{phase}_{self.logical_date:%Y%m%dT%H%M}"

    def __str__(self) -> str:
        return f"{self.dag_id} {self.logical_date:%Y-%m-%d %H:%M}Z"


def fridays() -> list[date]:
    return [FIRST_WEEK + timedelta(weeks=n) for n in range((LAST_WEEK - FIRST_WEEK).days // 7 + 1)]


def report_fridays() -> list[date]:
    return [d for d in fridays() if d >= FIRST_REPORT_FRIDAY and (d - FIRST_REPORT_FRIDAY).days % 14 == 0]


def local_moment(day: date, at: time_of_day) -> datetime:
    """A Vietnam wall-clock time on a day, in UTC (what the REST API is given)."""
    return datetime.combine(day, at, tzinfo=TIMEZONE).astimezone(UTC)


def scenario(
    dag_ids: list[str], weeks: list[date] | None = None, reports: list[date] | None = None
) -> list[Step]:
    """The runs of the given DAGs over the Fridays `weeks` (default: phases A and B's window)."""
    weeks = weeks if weeks is not None else fridays()
    reports = reports if reports is not None else report_fridays()
    steps = []
    for dag_id in dag_ids:
        when, at = WHEN.get(dag_id, ("last", time_of_day(12, 0)))
        days = {"each": weeks, "report": reports}.get(when, weeks[-1:])
        steps += [Step(dag_id, local_moment(d, at)) for d in days]
    return steps


def post_reform_scenario(dag_ids: list[str]) -> list[Step]:
    """Phase C: load the post-reform fortnight's files, close its two weeks, publish its report."""
    if "fortnightly_report" not in dag_ids:
        return []
    return scenario([d for d in POST_REFORM_DAGS if d in dag_ids], POST_REFORM_WEEKS, [POST_REFORM_REPORT])


@dataclass
class Cluster:
    """The running deployment and the means to drive it."""

    ws: envs.Workspace
    ports: envs.Ports
    sup: Supervisor
    api: AirflowApi
    clock: Clock
    workers_started: int = 0
    workers: dict[str, str] = field(default_factory=dict)  # running: hostname -> component name
    hostnames: set[str] = field(default_factory=set)  # every worker hostname of the run

    def start(self) -> None:
        self.sup.start(
            "smtp-sink",
            [
                sys.executable,
                "-m",
                "chuyencan_dev.mail_sink",
                "--dir",
                str(self.ws.mail),
                "--port",
                str(self.ports.smtp),
            ],
            # A development tool: on the sink's path only, never on Airflow's (it is not shipped).
            extra_env={"PYTHONPATH": f"{envs.ROOT / 'plugins'}:{envs.ROOT / 'devtools'}"},
        )
        for service, command in topology.AIRFLOW_COMPONENTS.items():
            if service == "airflow-worker":
                self.start_workers()
            else:
                self.sup.start(service, envs.airflow(*command))

    def start_worker(self, env: dict[str, str] | None = None) -> str:
        """One more Celery worker (a replacement gets a new hostname, as a new container would)."""
        self.workers_started += 1
        hostname = f"it-worker-{self.workers_started}"
        command = [*topology.AIRFLOW_COMPONENTS["airflow-worker"], "--celery-hostname", f"{hostname}@%h"]
        name = f"airflow-worker-{self.workers_started}"
        self.sup.start(name, envs.airflow(*command), {**(env or {}), **envs.worker_env(hostname)})
        self.workers[hostname] = name
        self.hostnames.add(hostname)
        return hostname

    def start_workers(self, env: dict[str, str] | None = None) -> None:
        for _ in range(topology.WORKERS):
            self.start_worker(env)

    def stop_workers(self) -> None:
        """Warm shutdown of every worker."""
        for hostname, name in list(self.workers.items()):
            self.sup.stop(name)
            del self.workers[hostname]

    def kill_worker(self, hostname: str) -> int:
        """SIGKILL one worker's whole process tree; returns how many processes died."""
        return self.sup.kill_tree(self.workers.pop(hostname))

    def alive(self) -> bool:
        self.sup.check_alive()
        return True

    def trigger(self, step: Step, phase: str) -> str:
        run_id = step.run_id(phase)
        self.api.trigger(step.dag_id, run_id, step.logical_date)
        return run_id

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict:
        def finished() -> dict | None:
            self.alive()
            run = self.api.run(dag_id, run_id)
            return run if run["state"] in FINISHED else None

        run = wait_for(f"{dag_id} {run_id}", finished, timeout=self.clock.left(timeout), interval=1.0)
        if run["state"] != "success":
            raise Failure(f"{dag_id} {run_id} ended {run['state']}:\n{self.task_report(dag_id, run_id)}")
        return run

    def task_report(self, dag_id: str, run_id: str) -> str:
        lines = []
        for ti in self.api.task_instances(dag_id, run_id):
            lines.append(f"  {ti['task_id']}: {ti['state']} (try {ti['try_number']})")
            if ti["state"] not in ("success", "skipped", None) and ti["try_number"]:
                log = self.api.task_log(dag_id, run_id, ti["task_id"], ti["try_number"])
                lines.append("    " + "\n    ".join(log.splitlines()[-40:]))
        return "\n".join(lines)


def start_cluster(
    ws: envs.Workspace, ports: envs.Ports, dag_ids: list[str], clock: Clock, sup: Supervisor
) -> Cluster:
    migrate = subprocess.run(
        envs.airflow("db", "migrate"),
        env=sup.env,
        capture_output=True,
        text=True,
        timeout=clock.left(300),
        check=False,
    )
    if migrate.returncode:
        raise Failure(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}")
    envs.write_admin_password(ws)
    clock.say("metadata database migrated")
    cluster = Cluster(
        ws, ports, sup, AirflowApi(f"http://127.0.0.1:{ports.api}", "admin", ws.admin_password), clock
    )
    cluster.start()
    version = wait_for("the api-server", lambda: cluster.alive() and cluster.api.version(), clock.left(120))
    pinned = topology.airflow_version_pinned()
    if version != pinned:
        raise Failure(f"the api-server runs Airflow {version}; requirements.txt pins {pinned}")

    def parsed() -> bool:
        cluster.alive()
        errors = cluster.api.import_errors()
        if errors:
            raise Failure(f"DAG import errors: {[(e['filename'], e['stack_trace'][-800:]) for e in errors]}")
        return all(cluster.api.dag(d) for d in dag_ids)

    wait_for("the dag-processor to parse the DAGs", parsed, clock.left(180))
    for d in dag_ids:
        cluster.api.unpause(d)
    clock.say(
        f"Airflow {version} up ({', '.join(topology.AIRFLOW_COMPONENTS)}); unpaused {', '.join(dag_ids)}"
    )
    return cluster


def submissions_stored(db: str) -> int:
    engine = create_engine(envs.pg_url(db), hide_parameters=True)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT to_regclass('ops.submission')")).scalar():
                return 0
            return int(conn.execute(text("SELECT count(*) FROM ops.submission")).scalar_one())
    finally:
        engine.dispose()


def disturbed_load(cluster: Cluster, step: Step, env_b: dict[str, str]) -> dict[str, Any]:
    """Trigger the load, SIGKILL the worker's tree once the task has stored its first files,
    start a new worker, and wait for the run to finish through the task's retry."""
    dag_id, task_id = LOAD_TASK
    run_id = cluster.trigger(step, "b")

    def storing() -> int:
        cluster.alive()
        state = cluster.api.task_instance(dag_id, run_id, task_id)["state"]
        if state in ("success", "failed", "up_for_retry"):
            raise Failure(f"{task_id} ended ({state}) before the worker could be killed")
        return submissions_stored(cluster.ws.db_b) if state == "running" else 0

    stored = wait_for(f"{task_id} to store its first files", storing, cluster.clock.left(180), interval=0.05)
    host = cluster.api.task_instance(dag_id, run_id, task_id).get("hostname")
    if host not in cluster.workers:
        raise Failure(f"{task_id} runs on {host!r}, not on one of the workers {sorted(cluster.workers)}")
    killed = cluster.kill_worker(host)
    at_kill = submissions_stored(cluster.ws.db_b)
    cluster.clock.say(
        f"SIGKILLed Celery worker {host} ({killed} processes): {stored} files stored, {at_kill} after"
    )
    replacement = cluster.start_worker(env_b)
    cluster.wait_run(dag_id, run_id, timeout=420)
    try_number = cluster.api.task_instance(dag_id, run_id, task_id)["try_number"]
    if try_number < 2:
        raise Failure(f"{task_id} succeeded on try {try_number}: the kill did not hit it")
    retried_on = cluster.api.task_instance(dag_id, run_id, task_id).get("hostname")
    return {
        "stored_at_kill": at_kill,
        "processes_killed": killed,
        "try_number": try_number,
        "killed": host,
        "replacement": replacement,
        "retried_on": retried_on,
    }


def split_across_workers(cluster: Cluster, step: Step, run_id: str, must_spread: bool = False) -> list[str]:
    """The mapped tasks of a fanned-out DAG's run, by the worker that ran them (printed)."""
    if step.dag_id not in fanout.FANNED_OUT:
        return []
    try:
        lines = fanout.worker_split(cluster.api, step.dag_id, run_id, cluster.hostnames, must_spread)
    except fanout.NotSpread as exc:
        raise Failure(f"mapped tasks did not spread across the workers: {exc}") from exc
    for line in lines:
        cluster.clock.say(line)
    return lines


def run_phase_a(cluster: Cluster, steps: list[Step], dag_ids: list[str]) -> list[str]:
    splits: list[str] = []
    for step in steps:
        run_id = cluster.trigger(step, "a")
        cluster.wait_run(step.dag_id, run_id)
        cluster.clock.say(f"A {step}: success")
        splits += split_across_workers(cluster, step, run_id)
    ws = cluster.ws
    summary = checks.check_warehouse(envs.pg_url(ws.db_a), ws.sample, dag_ids, fridays(), report_fridays())
    summary.append(checks.check_mail(checks.read_mail(ws.mail), ws.sample, envs.DISTRICT, fridays()))
    cluster.clock.say("phase A checked against the ground truth")
    if "school_submissions_weekly" in dag_ids:
        summary.append(page.check_run_notes(cluster.api))
        summary.append(page.check_page(cluster.api, envs.pg_url(ws.db_a), ws.logs / "chuyencan-page.png"))
        cluster.clock.say("run notes and the chuyencan page checked")
    return summary + splits


def run_phase_b(cluster: Cluster, steps: list[Step], mail_a: int) -> list[str]:
    ws = cluster.ws
    env_b = envs.pipeline_env(ws, cluster.ports, ws.db_b)
    cluster.stop_workers()  # warm shutdown; the new workers write to warehouse B
    cluster.start_workers(env_b)
    shutil.rmtree(ws.work)
    ws.work.mkdir()
    for step in steps:
        cluster.api.delete_run(step.dag_id, step.run_id("a"))
    disturbance: dict[str, Any] = {}
    for step in steps:
        if step.dag_id == LOAD_TASK[0] and not disturbance:
            disturbance = disturbed_load(cluster, step, env_b)
        else:
            cluster.wait_run(step.dag_id, cluster.trigger(step, "b"))
        cluster.clock.say(f"B {step}: success")
    if not disturbance:
        raise Failure(f"{LOAD_TASK[0]} was not run: nothing was disturbed")

    dump_a, dump_b = (dump(create_engine(envs.pg_url(db), hide_parameters=True)) for db in (ws.db_a, ws.db_b))
    problems = compare(dump_a, dump_b)
    if problems:
        raise Failure(
            "the warehouse after the kill differs from the undisturbed one:\n" + "\n".join(problems)
        )
    messages = checks.read_mail(ws.mail)
    before, after = messages[:mail_a], messages[mail_a:]
    if Counter(map(checks.mail_key, before)) != Counter(map(checks.mail_key, after)):
        raise Failure(
            f"emails differ: {len(before)} in the undisturbed run, {len(after)} in the disturbed one"
        )
    rows = sum(len(t.rows) for t in dump_a.values())
    left_out = sorted({f"{n}.{c}" for n, t in dump_a.items() for c in t.excluded})
    return [
        f"worker {disturbance['killed']} SIGKILLed during {'.'.join(LOAD_TASK)} with "
        f"{disturbance['stored_at_kill']} files stored ({disturbance['processes_killed']} processes); "
        f"replacement {disturbance['replacement']} started; the retry (try {disturbance['try_number']}) "
        f"ran on {disturbance['retried_on']}",
        f"warehouse identical to the undisturbed run: {len(dump_a)} tables, {rows} rows "
        f"(columns left out: {', '.join(left_out)})",
        f"emails identical: {len(after)} again, same recipients, subjects and bodies",
    ]


def run_phase_c(cluster: Cluster, steps: list[Step], sample: Path) -> list[str]:
    """A fortnight after the reform on warehouse B, by the workers phase B left running: its
    files arrive in the inbox, its weeks are loaded and closed, and its report run's per-unit
    mapped tasks must have run on both workers (one unit per instance, the split printed)."""
    if not steps:
        return []
    shutil.copytree(sample / "inbox", cluster.ws.inbox, dirs_exist_ok=True)
    splits: list[str] = []
    for step in steps:
        run_id = cluster.trigger(step, "c")
        cluster.wait_run(step.dag_id, run_id)
        cluster.clock.say(f"C {step}: success")
        if step.dag_id == "fortnightly_report":
            splits += split_across_workers(cluster, step, run_id, must_spread=True)
    return splits


def _one_run_at_a_time(path: Path) -> Any:
    """Hold an exclusive lock for the whole run: two runs would share databases, role names,
    the Redis database and the workspace. Returns the open lock file, or None if taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        print(f"another integration run holds {path} ({handle.read().strip() or 'pid unknown'}); try later")
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dags", help="comma-separated DAG ids (default: those of topology.DAG_IDS in dags/)"
    )
    parser.add_argument("--timeout", type=float, default=1020.0, help="budget for the whole run in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the databases for debugging")
    parser.add_argument("--workspace", type=Path, default=topology.ROOT / "var" / "integration")
    args = parser.parse_args(argv)

    lock = _one_run_at_a_time(args.workspace.with_name(args.workspace.name + ".lock"))
    if lock is None:
        return 2
    clock = Clock(budget=args.timeout)
    dag_ids = args.dags.split(",") if args.dags else topology.landed_dags()
    steps = scenario(dag_ids)
    post_reform_steps = post_reform_scenario(dag_ids)
    ws = envs.Workspace(args.workspace)
    shutil.rmtree(ws.root, ignore_errors=True)
    for folder in (ws.airflow_home, ws.logs, ws.work, ws.mail):
        folder.mkdir(parents=True)
    ports = envs.Ports()
    sup = Supervisor(
        ws.logs, ws.run_id, {**envs.airflow_env(ws, ports), **envs.pipeline_env(ws, ports, ws.db_a)}
    )
    started_redis = False
    summary: list[str] = []
    failed: str | None = None

    def on_sigterm(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_sigterm)
    clock.say(f"DAGs {', '.join(dag_ids)}; workspace {ws.root}; api-server on 127.0.0.1:{ports.api}")
    try:
        if envs.ensure_postgres():
            clock.say("started PostgreSQL")
        started_redis = envs.ensure_redis(clock.left(30))
        envs.create_databases(ws)
        from chuyencan_dev.synth import generate

        made = generate(
            ws.sample,
            seed=SEED,
            scale="district",
            first_week=FIRST_WEEK,
            last_week=LAST_WEEK,
            mistake_rate=MISTAKE_RATE,
        )
        clock.say(
            f"sample data: {made.files} workbooks ({made.rejected_files} broken), {made.police_files} police extracts"
        )
        post_reform = ws.root / "sample_post_reform"
        if post_reform_steps:
            later = generate(
                post_reform,
                seed=SEED,
                scale="district",
                first_week=POST_REFORM_WEEKS[0],
                last_week=POST_REFORM_WEEKS[-1],
                mistake_rate=MISTAKE_RATE,
            )
            clock.say(
                f"post-reform sample (phase C): {later.files} workbooks, weeks {POST_REFORM_WEEKS[0]}..{POST_REFORM_WEEKS[-1]}"
            )
        cluster = start_cluster(ws, ports, dag_ids, clock, sup)
        summary += run_phase_a(cluster, steps, dag_ids)
        summary += run_phase_b(cluster, steps, mail_a=len(checks.read_mail(ws.mail)))
        summary += run_phase_c(cluster, post_reform_steps, post_reform)
    except (Exception, KeyboardInterrupt) as exc:
        failed = f"{type(exc).__name__}: {exc}"
        print(f"\nFAILED: {failed}\n", flush=True)
        if not isinstance(exc, (checks.CheckFailed, Failure)):
            # A component died, hung or answered wrongly: show what it said last.
            died = exc.component.name if isinstance(exc, ComponentDied) else None
            for name in (
                [died]
                if died
                else [*(c for c in sup.components if not c.startswith("airflow-worker")), "airflow-worker"]
            ):
                print(sup.tail(name, 120 if died else 25), flush=True)
    finally:
        stragglers = sup.reap()
        envs.release_redis(stop=started_redis)
        if not args.keep:
            with contextlib.suppress(Exception):
                envs.drop_databases(ws)
        clock.say(f"cleaned up: every process stopped ({stragglers} stragglers), databases and roles dropped")

    if failed:
        print(f"integration FAILED after {clock.elapsed():.0f}s: {failed.splitlines()[0]}")
        return 1
    print(f"\nintegration passed in {clock.elapsed():.0f}s wall time. Covered:")
    print(
        f"- {', '.join(topology.AIRFLOW_COMPONENTS)} ({topology.EXECUTOR}, {topology.WORKERS} workers), "
        "PostgreSQL, Redis, SMTP server"
    )
    print(
        f"- runs triggered through the REST API, in phases A and B each: {dict(Counter(s.dag_id for s in steps))}"
    )
    if post_reform_steps:
        print(
            f"- phase C, report of {POST_REFORM_REPORT} after the reform: "
            f"{dict(Counter(s.dag_id for s in post_reform_steps))}"
        )
    for line in summary:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
