"""Hostile input at the edges the corpus cannot reach from inside one run (issue 10): a database
error's text, a reader that killed its process, a file replaced while it is taken, files and
folders the pipeline's (non-root) user cannot read, and the names the work dir gets."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, StatementError

from chuyencan.core import schema
from chuyencan.core import warehouse as wh
from chuyencan.core.inbox import (
    NAME_BYTES,
    UNREADABLE_FILE,
    UNREADABLE_FOLDER,
    ReadMarks,
    safe_name,
    scan,
    staging_for,
)
from chuyencan.core.settings import Settings
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.bad_input.school_cases import good

SECRET_NAME = "Giàng Thị Bí Mật"
SECRET_ID = "010209009999"


def _child_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "submission_id": 1,
        "school_code": "BX-AMS",
        "week_ending": date(2025, 3, 14),
        "source_row": 2,
        "student_key": "k",
        "personal_id": SECRET_ID,
        "full_name": SECRET_NAME,
        "birth_date": date(2012, 5, 1),
        "sex": "F",
        "grade": 6,
        "class_name": "6A",
        "commune": "Y Tý",
        "village": "Thôn Bí Mật",
        "status": "bo_hoc",
        "sessions_missed": 3,
    }
    row.update(overrides)
    return row


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_database_error_names_no_child(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    engine = wh.make_engine(url)
    wh.ensure_schema(engine)
    # PostgreSQL refuses the value (an ID longer than its column, an int overflow); SQLite a
    # missing required value. Either way the error's text must not carry the row.
    bad = (
        _child_row(personal_id=SECRET_ID * 3, sessions_missed=10**12)
        if database == "postgresql"
        else _child_row(sex=None)
    )
    with pytest.raises((DBAPIError, StatementError, OverflowError)) as caught, engine.begin() as conn:
        conn.execute(insert(schema.restricted_student_entry), [bad])
    text = str(caught.value) + repr(caught.value)
    assert SECRET_NAME not in text
    assert SECRET_ID not in text
    assert "Bí Mật" not in text
    engine.dispose()


def _settings(root: Path) -> Settings:
    return Settings(
        inbox=root / "inbox",
        work_dir=root / "work",
        warehouse_url=f"sqlite:///{root / 'warehouse' / 'w.db'}",
        settle_seconds=0,
    )


NOW = datetime(2025, 3, 14, 15, tzinfo=UTC)


def _drop(settings: Settings, school: str, week: date, name: str = "bao cao.xlsx") -> Path:
    path = good(school, week).save(settings.inbox / school / name)
    moment = (NOW - timedelta(hours=1)).timestamp()
    os.utime(path, (moment, moment))
    return path


def test_a_file_that_killed_the_reader_twice_is_refused_and_the_others_load(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engine_for.cache_clear()
    prepare_warehouse(settings)
    poison = _drop(settings, "BX-AMS", date(2025, 3, 14))
    _drop(settings, "BX-ALU", date(2025, 3, 14))
    (found,) = [f for f in scan(settings.inbox, settle_seconds=0, now=NOW) if f.path == poison]
    marks = ReadMarks(settings.work_dir / "reading")
    # Two runs died inside the reader on this file (an abort no `except` catches).
    for _ in range(ReadMarks.DEATHS):
        marks.reading(found.sha256).__enter__()

    summary = collect_new_files(settings, now=NOW)

    assert (summary["accepted"], summary["rejected"]) == (1, 1)
    with engine_for(settings.warehouse_url).connect() as conn:
        rules = [r.rule for r in conn.execute(schema.ops_submission_issue.select())]
    assert rules == ["reader_failed"]
    assert not list((settings.work_dir / "reading").glob("*.reading"))


def test_the_kept_copy_is_the_bytes_that_were_judged_even_if_the_file_is_replaced(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    path = _drop(settings, "BX-AMS", date(2025, 3, 14))
    (found,) = scan(settings.inbox, settle_seconds=0, now=NOW)
    staging = staging_for(settings.work_dir)
    taken = staging.take(found)
    original = path.read_bytes()
    path.write_bytes(b"replaced by the school meanwhile")  # the share changes under the run
    target = settings.work_dir / "archive" / "x.xlsx"
    assert staging.keep(taken, target)
    staging.clean()
    assert target.read_bytes() == original
    assert taken.sha256 == found.sha256


def test_files_and_folders_the_pipeline_user_cannot_read_are_reported_not_skipped() -> None:
    """Run the scan as an unprivileged user (as the Airflow worker runs), in a child process."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    root = Path(tempfile.mkdtemp(prefix="chuyencan-perm-"))
    try:
        os.chmod(root, 0o755)
        inbox = root / "inbox"
        (inbox / "BX-AMS").mkdir(parents=True)
        (inbox / "BX-ALU" / "khoa").mkdir(parents=True)
        readable = inbox / "BX-AMS" / "bao cao.xlsx"
        readable.write_bytes(b"PK readable")
        locked = inbox / "BX-AMS" / "bao cao (khoa).xlsx"
        locked.write_bytes(b"PK locked")
        (inbox / "BX-ALU" / "khoa" / "an.xlsx").write_bytes(b"PK hidden")
        for p in (inbox, inbox / "BX-AMS", inbox / "BX-ALU"):
            os.chmod(p, 0o755)
        os.chmod(readable, 0o644)
        os.chmod(locked, 0o000)
        os.chmod(inbox / "BX-ALU" / "khoa", 0o000)
        old = (datetime.now(UTC) - timedelta(hours=1)).timestamp()
        for p in (readable, locked):
            os.utime(p, (old, old))
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: an unprivileged user, as the Airflow worker runs
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                found = scan(inbox, settle_seconds=0)
                out = [(f.relative_path, f.problem) for f in found]
                os.write(write_end, json.dumps(out).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as fh:
            result = json.loads(fh.read() or b"[]")
        os.waitpid(pid, 0)
        assert sorted(map(tuple, result)) == [
            ("BX-ALU/khoa", UNREADABLE_FOLDER),
            ("BX-AMS/bao cao (khoa).xlsx", UNREADABLE_FILE),
            ("BX-AMS/bao cao.xlsx", None),
        ]
    finally:
        for p in root.rglob("*"):
            if not p.is_symlink():
                os.chmod(p, 0o755)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    "name",
    [
        "bao cao.xlsx",
        "../../etc/passwd",
        "..",
        ".",
        "",
        "a\nb\r\tc.xlsx",
        "bao cao\u202excod.xlsx",
        os.fsdecode(b"b\xe1o c\xe1o.xlsx"),
        "Báo cáo chuyên cần " * 14 + ".xlsx",
        "\x00\x01\x7f.xlsx",
    ],
)
def test_stored_names_are_safe(name: str) -> None:
    safe = safe_name(name)
    assert safe
    assert safe not in {".", ".."}
    assert not safe.startswith(".")
    assert "/" not in safe
    assert len(safe.encode("utf-8")) <= NAME_BYTES
    assert safe.isprintable()
    assert all(ch.isalnum() or ch in "-_." for ch in safe)
