"""Processes the integration run starts: each in its own session, logged to a file, and all of
them found again at the end, orphans included.

Airflow's task supervisor puts each task process in a process group of its own, so killing a
worker's process group leaves the task running: `kill_tree` kills the whole tree the way a
container dying would. Every process started here carries a marker in its environment, which
`reap` uses to find anything left behind, whatever its parent or group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

MARKER = "CHUYENCAN_INTEGRATION_RUN"


@dataclass
class Component:
    name: str
    popen: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


class Supervisor:
    def __init__(self, log_dir: Path, run_id: str, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.run_id = run_id
        self.env = {**env, MARKER: run_id}
        self.components: dict[str, Component] = {}
        self._generation: dict[str, int] = {}

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Component:
        self._generation[name] = self._generation.get(name, 0) + 1
        suffix = "" if self._generation[name] == 1 else f".{self._generation[name]}"
        log = self.log_dir / f"{name}{suffix}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**self.env, **(extra_env or {})},
                start_new_session=True,
            )
        component = Component(name, popen, log)
        self.components[name] = component
        return component

    def check_alive(self) -> None:
        dead = [c for c in self.components.values() if not c.alive()]
        if dead:
            raise ComponentDied(dead[0])

    def stop(self, name: str, timeout: float = 30.0) -> None:
        """Warm shutdown: SIGTERM to the group, then whatever is left of the tree is killed."""
        component = self.components.pop(name)
        tree = _tree(component.pid)
        _signal_group(component.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            component.popen.wait(timeout=timeout)
        _kill_all(tree)
        component.popen.wait(timeout=10)

    def kill_tree(self, name: str) -> int:
        """SIGKILL the component's process group and every descendant (task processes sit in
        groups of their own): what a worker machine or container dying looks like. Returns
        how many processes were killed."""
        component = self.components.pop(name)
        tree = _tree(component.pid)
        _signal_group(component.pid, signal.SIGKILL)
        killed = _kill_all(tree)
        component.popen.wait(timeout=10)
        return killed

    def reap(self, grace: float = 10.0) -> int:
        """Stop everything this run started: components first, then any process still carrying
        the run's marker. Returns how many stragglers had to be killed."""
        for name in list(self.components):
            # Cleanup goes on whatever one component does.
            with contextlib.suppress(Exception):
                self.stop(name, timeout=grace)
        stragglers = [p for p in psutil.process_iter() if _marked(p, self.run_id)]
        return _kill_all(stragglers)

    def tail(self, name: str, lines: int = 60) -> str:
        candidates = sorted(self.log_dir.glob(f"{name}*.log"))
        if not candidates:
            return f"(no log for {name})"
        out = []
        for path in candidates:
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            out.append(f"--- {path.name} (last {min(lines, len(text))} of {len(text)} lines) ---")
            out.extend(line[:400] for line in text[-lines:])
        return "\n".join(out)


class ComponentDied(RuntimeError):
    def __init__(self, component: Component) -> None:
        super().__init__(f"{component.name} exited with code {component.popen.returncode}")
        self.component = component


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # The component leads its own session, so its group id is its pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _kill_all(processes: list[psutil.Process]) -> int:
    killed = 0
    for p in processes:
        try:
            # A group leader takes its group along: Airflow's task processes lead their own.
            if os.getpgid(p.pid) == p.pid:
                os.killpg(p.pid, signal.SIGKILL)
            else:
                p.kill()
            killed += 1
        except (psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            pass
    psutil.wait_procs(processes, timeout=10)
    return killed


def _marked(process: psutil.Process, run_id: str) -> bool:
    if process.pid == os.getpid():
        return False
    try:
        return process.environ().get(MARKER) == run_id
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
