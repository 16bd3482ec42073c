"""The few calls of Airflow 3's public REST API (/api/v2) the integration run makes, with a JWT
from the simple auth manager's /auth/token. Every call and every wait has a timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
FINISHED = {"success", "failed"}


class ApiError(RuntimeError):
    pass


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self._client.close()

    def version(self) -> str | None:
        """The server's version, or None while it is not answering (no auth needed)."""
        try:
            response = self._client.get("/api/v2/version", timeout=5)
        except httpx.TransportError:
            return None
        return response.json().get("version") if response.status_code == 200 else None

    def login(self) -> None:
        response = self._client.post("/auth/token", json=self._credentials)
        if response.status_code != 201:
            raise ApiError(f"login failed: {response.status_code} {response.text[:200]}")
        self._token = response.json()["access_token"]

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        if self._token is None:
            self.login()
        for attempt in (1, 2):
            response = self._client.request(
                method, f"/api/v2{path}", headers={"Authorization": f"Bearer {self._token}"}, **kwargs
            )
            if response.status_code == 401 and attempt == 1:
                self.login()  # the token expired: log in again once
                continue
            break
        if response.status_code not in ok:
            raise ApiError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    # --- DAGs and runs ---------------------------------------------------------------------
    def dag(self, dag_id: str) -> dict | None:
        found = self.request("GET", f"/dags/{dag_id}", ok=(200, 404))
        return found if found and found.get("dag_id") == dag_id else None

    def import_errors(self) -> list[dict]:
        return self.request("GET", "/importErrors")["import_errors"]

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, run_id: str, logical_date: datetime) -> dict:
        body = {"dag_run_id": run_id, "logical_date": logical_date.isoformat(), "conf": {}}
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def runs(self, dag_id: str) -> list[dict]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]

    def delete_run(self, dag_id: str, run_id: str) -> None:
        self.request("DELETE", f"/dags/{dag_id}/dagRuns/{run_id}", ok=(204,))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def dag_tasks(self, dag_id: str) -> list[dict]:
        return self.request("GET", f"/dags/{dag_id}/tasks")["tasks"]

    def mapped_task_instances(self, dag_id: str, run_id: str, task_id: str) -> list[dict]:
        """Every mapped instance of one task in a run (paged: a province has ~100 communes)."""
        found: list[dict] = []
        while True:
            page = self.request(
                "GET",
                f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/listMapped",
                params={"limit": 100, "offset": len(found)},
            )
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        found = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            ok=(200, 404),
        )
        if isinstance(found, dict):
            content = found.get("content")
            if isinstance(content, list):
                return "\n".join(str(e.get("event", e)) if isinstance(e, dict) else str(e) for e in content)
            return str(content)
        return str(found)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Call `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
