"""`make ui`: the Airflow UI on the demo's history, on http://127.0.0.1:8080 (log in admin/admin).

    .venv/bin/python scripts/ui.py [--port 8080]

Runs `airflow standalone` (api-server, scheduler, dag-processor, triggerer on SQLite with the
LocalExecutor) with the demo's Airflow home and the same settings as `make demo`
(scripts/demo.py `demo_environment`): the demo's runs, notes and task logs show, and a run
triggered from the UI reads the demo's inbox and warehouse. Its emails go to a local SMTP sink
that stores them in var/demo/mail/ui/. Times are shown in Asia/Ho_Chi_Minh. DAGs stay paused as
the demo left them: unpause one to let the scheduler run it on the real clock.

`airflow standalone` starts its components by calling `airflow` from PATH, so the venv's bin
goes first on PATH. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT / "devtools"))  # the mail sink

from demo import DEMO, demo_environment, smtp_connection  # noqa: E402 - after the path is set


def ui_environment(port: int, smtp_port: int) -> dict[str, str]:
    home = DEMO / "airflow"
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin"}) + "\n", encoding="utf-8")
    passwords.chmod(0o600)
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        **demo_environment(),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT / "plugins"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        # A demo is not a deployment: nothing starts catching up on the real clock by itself.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW_CONN_SMTP_DEFAULT": smtp_connection(smtp_port),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--smtp-port", type=int, default=0, help="the mail sink's port (default: any free one)"
    )
    args = parser.parse_args()
    if not (DEMO / "airflow" / "airflow.db").is_file():
        raise SystemExit("no demo history yet: run `make demo` first")

    from chuyencan_dev.mail_sink import SmtpSink

    with SmtpSink(DEMO / "mail" / "ui", port=args.smtp_port) as sink:
        env = ui_environment(args.port, sink.port)
        print(
            f"Airflow UI on http://127.0.0.1:{args.port} (admin / admin); chuyencan page: Chuyên cần in the menu"
        )
        print(f"emails go to the SMTP sink on 127.0.0.1:{sink.port}, stored in {DEMO / 'mail' / 'ui'}")
        # Its own process group: standalone's components (and their children) are stopped
        # together, by that group, when this script ends.
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), "standalone"], env=env, start_new_session=True
        )
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            return process.wait()
        except KeyboardInterrupt:
            return _stop(process)
        finally:
            if process.poll() is None:
                _stop(process)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen[bytes]) -> int:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            time.sleep(2)  # the group's other members end with their parent's signal
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # any component that outlived standalone
    return process.returncode if process.returncode is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
