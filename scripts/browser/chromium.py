"""Debian's headless Chromium driven over the DevTools protocol: open a page as a logged-in
Airflow user, read its DOM, take a screenshot.

No browser download and no WebDriver client: Selenium's current releases need a newer
`certifi` than the pinned environment has, and the DevTools protocol needs only the
`websockets` client Airflow already brings. `chromium` comes from apt
(`apt-get install chromium chromium-driver`); `ensure_chromium()` installs it when the machine
allows (root, like CI) or says why the browser checks are skipped.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "chromium"


def ensure_chromium() -> str | None:
    """The chromium binary's path, installing Debian's package if missing and allowed; None
    (with the reason printed) when there is no way to get it."""
    found = shutil.which(CHROMIUM)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print("    chromium is not installed and cannot be installed here (needs root and apt-get): skipped")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"],
    ):
        if subprocess.run(command, check=False, env=env, capture_output=True).returncode != 0:
            print(f"    `{' '.join(command)}` failed: browser checks skipped")
            return None
    return shutil.which(CHROMIUM)


class Page:
    """One tab, spoken to over its DevTools websocket."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        request_id = next(self._ids)
        self._socket.send(json.dumps({"id": request_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=60))
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str, *, settle: float = 1.0) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.evaluate("document.readyState") == "complete":
                break
            time.sleep(0.2)
        time.sleep(settle)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> Any:
        """Poll a JavaScript expression until it is truthy (SPAs render after the load event)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.5)
        raise TimeoutError(f"still false after {timeout:.0f} s: {expression}")

    def set_token(self, base_url: str, token: str) -> None:
        """Log in as Airflow's UI does: the JWT in the `_token` cookie of the api-server's host."""
        self.call("Network.enable")
        self.call("Network.setCookie", name="_token", value=token, url=base_url, path="/")

    def screenshot(
        self, path: Path, *, width: int = 1400, height: int = 900, full_page: bool = False
    ) -> Path:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": width,
                "height": max(height, size["height"]),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def headless(
    binary: str, *, width: int = 1400, height: int = 900, timezone: str = "Asia/Ho_Chi_Minh"
) -> Iterator[Page]:
    """A headless Chromium with a throw-away profile, in the given time zone (Airflow's UI shows
    times in the browser's); stopped (by its own pid) on exit."""
    from websockets.sync.client import connect

    profile = Path(tempfile.mkdtemp(prefix="chuyencan-chromium-"))
    process = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",  # CI containers run as root, where Chromium's sandbox cannot start
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TZ": timezone},
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = [t for t in json.load(response) if t.get("type") == "page"]
        with connect(targets[0]["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024) as socket:
            page = Page(socket)
            page.call("Page.enable")
            page.call("Runtime.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)
