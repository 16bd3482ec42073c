"""A local SMTP server that stores every message it receives as `<n>.eml`: for the demo and tests.

    python -m chuyencan_dev.mail_sink --dir var/mail --port 8025

Point `AIRFLOW_CONN_SMTP_DEFAULT` at it with `disable_ssl` and `disable_tls` set. Nothing is
relayed anywhere; the files are the delivered mail.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)

_EML = re.compile(r"^(\d+)\.eml$")


class _Store:
    """aiosmtpd handler: write each message to the next free number, atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        # Continue after messages a previous run left, never overwrite them.
        self._last = max((_number(p) for p in directory.glob("*.eml")), default=0)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content or envelope.content
        with self._lock:
            self._last += 1
            number = self._last
        # Written under a temporary name, then renamed, so `messages()` never reads half a file.
        tmp = self.directory / f".{number}.eml.tmp"
        tmp.write_bytes(data)
        tmp.replace(self.directory / f"{number}.eml")
        log.info("stored message %d (%d bytes)", number, len(data))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Port 0 lets the OS pick a free port; aiosmtpd would then try to connect to port 0.
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """Context manager: an SMTP server on loopback that saves messages into `directory`."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = Path(directory)
        self.host = host
        self._requested_port = port
        self._controller: _Controller | None = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the SMTP sink is not running")
        return int(self._controller.port)

    def start(self) -> SmtpSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        # aiosmtpd logs senders and recipients at INFO; addresses stay out of our logs.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        controller = _Controller(
            _Store(self.directory),
            hostname=self.host,
            port=self._requested_port,
            # Without it the server resolves its own FQDN, which can stall on machines without DNS.
            server_hostname="chuyencan-sink",
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def paths(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml"), key=_number)

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(p.read_bytes()) for p in self.paths()]


def _number(path: Path) -> int:
    match = _EML.match(path.name)
    return int(match.group(1)) if match else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chuyencan_dev.mail_sink",
        description="Local SMTP sink: stores every received message as <n>.eml in a directory.",
    )
    parser.add_argument("--dir", type=Path, required=True, help="where to store the messages")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on (default 8025)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with SmtpSink(args.dir, host=args.host, port=args.port) as sink:
        log.info("SMTP sink listening on %s:%d, storing messages in %s", args.host, sink.port, args.dir)
        while not stop.wait(1.0):
            pass
    log.info("SMTP sink stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
