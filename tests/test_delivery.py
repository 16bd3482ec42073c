"""Contacts as reference data and delivery into the recipients' folders (issue 13, items 7-8):
real warehouses (SQLite and PostgreSQL), real files and modes, the notices through a real SMTP
server on loopback."""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from chuyencan.core import warehouse as wh
from chuyencan.core.contacts import (
    ContactsError,
    contact_gaps,
    load_contacts,
    validate_contacts,
    write_contacts,
)
from chuyencan.core.delivery import (
    FILE_MODE,
    PASS_THROUGH_MODE,
    RECIPIENT_DIR_MODE,
    Delivery,
    deliver_file,
    purge_expired_deliveries,
    recipient_folder,
    summarise,
)
from chuyencan.core.mail.outbox import send_pending
from chuyencan.core.reference import load_reference
from chuyencan.core.schema import delivery, ops_email_outbox, ref_contact
from chuyencan.core.settings import REFERENCE_DIR, Settings
from chuyencan.orchestration.smtp import airflow_smtp_sender
from chuyencan_dev.mail_sink import SmtpSink
from tests.helpers import body, smtp_conn

PERIOD = date(2025, 4, 4)
NOW = datetime(2025, 4, 4, 8, 0, tzinfo=UTC)  # 15:00 in Bát Xát, the report Friday
CHILD = "Giàng Thị Mỷ"  # written into every delivered list: must never reach an email


@pytest.fixture
def setup(tmp_path: Path, warehouse_url: str) -> Iterator[dict[str, Any]]:
    settings = Settings(inbox=tmp_path / "inbox", work_dir=tmp_path / "work", warehouse_url=warehouse_url)
    settings.work_dir.mkdir()
    engine = wh.make_engine(warehouse_url)
    wh.ensure_schema(engine)
    yield {"settings": settings, "engine": engine, "tmp": tmp_path}
    engine.dispose()


@pytest.fixture
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "mail") as running:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_conn(running.port, timeout=5))
        yield running


def a_list(folder: Path, name: str, content: str) -> Path:
    """A stand-in for a restricted list: bytes with a child's name in them."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{CHILD}\n{content}\n", encoding="utf-8")
    return path


def to_a_mu_sung(
    engine: Engine,
    settings: Settings,
    source: Path,
    *,
    document_kind: str = "principal_list",
    now: datetime = NOW,
    recipient_name: str | None = None,
) -> Delivery:
    """Deliver `source` to the school BX-AMS for the report date PERIOD."""
    return deliver_file(
        engine,
        settings,
        recipient_kind="school",
        recipient_key="BX-AMS",
        document_kind=document_kind,
        source=source,
        period=PERIOD,
        now=now,
        recipient_name=recipient_name,
    )


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(delivery).order_by(delivery.c.delivery_id))]


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(select(ops_email_outbox).order_by(ops_email_outbox.c.email_id))
        ]


# --- contacts ------------------------------------------------------------------------------------


def test_the_shipped_contacts_cover_every_recipient_of_the_sample() -> None:
    assert validate_contacts() == []
    ref = load_reference()
    contacts = load_contacts(REFERENCE_DIR, ref)
    before_reform, after_reform = date(2025, 3, 14), date(2025, 10, 3)
    for school in ref.active_schools(before_reform):
        assert contacts.emails_for("school", school.code, before_reform), school.code
        # The rejection emails' address (school_contacts.csv) is one of them.
        assert school.email in contacts.emails_for("school", school.code, before_reform)
    for commune in (c for c in ref.communes if c.valid_to is None):
        for kind in ("commune", "police"):
            assert contacts.emails_for(kind, commune.name, before_reform), (kind, commune.name)
    assert contacts.emails_for("unit", "BAT_XAT", before_reform) == ["pgd.batxat@example.org"]
    assert contacts.for_recipient("office", "NOI_VU_BAT_XAT", before_reform)[0].role.startswith(
        "Trưởng phòng Nội vụ"
    )
    # The district's offices end with the district; the merged communes take over.
    assert contacts.for_recipient("unit", "BAT_XAT", after_reform) == []
    assert contacts.emails_for("commune", "Quang Kim", after_reform) == []
    assert contacts.emails_for("commune", "Bát Xát", after_reform) == ["ubnd.xabatxat@example.org"]
    # A commune is found under any of its spellings.
    assert contacts.emails_for("police", "A Mù Sung", before_reform) == contacts.emails_for(
        "police", "A Mú Sung", before_reform
    )
    assert all(not c.verified for c in contacts.contacts)  # placeholders until checked
    assert all(e.endswith("@example.org") for c in contacts.contacts for e in c.emails)


def test_every_problem_of_the_contacts_file_is_listed_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, folder)
    with (folder / "contacts.csv").open("a", encoding="utf-8") as fh:
        fh.write("school,BX-NOPE,Hiệu trưởng,x@example.org,2025-01-01,,no\n")
        fh.write("village,Lũng Pô,Trưởng thôn,y@example.org,2025-01-01,,no\n")
        fh.write("commune,Quang Kim,,not-an-address,2025-13-01,,maybe\n")
        fh.write("unit,BAT_XAT,Trưởng phòng,z@example.org,2025-05-01,2025-04-01,no\n")
    (folder / "school_contacts.csv").write_text(
        (folder / "school_contacts.csv").read_text(encoding="utf-8").replace("yty.batxat@", "other.yty@"),
        encoding="utf-8",
    )
    problems = validate_contacts(folder)
    text = "\n".join(problems)
    assert "BX-NOPE" in text
    assert "schools.csv" in text
    assert "recipient_kind 'village'" in text
    assert "role is empty" in text
    assert "not-an-address" in text
    assert "2025-13-01" in text
    assert "maybe" in text
    assert "valid_to 2025-04-01 is before valid_from 2025-05-01" in text
    assert "school_contacts.csv: BX-YTY" in text
    assert len(problems) == 8  # one line per problem, four of them on one row
    with pytest.raises(ContactsError) as raised:
        load_contacts(folder)
    assert raised.value.problems == tuple(problems)


def test_contacts_are_loaded_into_ref(setup: dict[str, Any]) -> None:
    contacts = load_contacts()
    write_contacts(setup["engine"], contacts)
    write_contacts(setup["engine"], contacts)  # a reload replaces, never adds
    with setup["engine"].connect() as conn:
        loaded = conn.execute(select(ref_contact)).all()
    assert len(loaded) == len(contacts.contacts)
    assert {(r.recipient_kind, r.recipient_key) for r in loaded} >= {
        ("office", "NOI_VU_BAT_XAT"),
        ("unit", "BAT_XAT"),
    }


# --- delivery ------------------------------------------------------------------------------------


def test_a_delivery_is_copied_restricted_recorded_and_announced_once(
    setup: dict[str, Any], sink: SmtpSink
) -> None:
    settings, engine, tmp = setup["settings"], setup["engine"], setup["tmp"]
    source = a_list(tmp / "out", "danh_sach_BX-AMS_2025-04-04.xlsx", "v1")
    first = to_a_mu_sung(engine, settings, source, recipient_name="Trường PTDTBT TH&THCS A Mú Sung")
    assert first.new
    assert first.path == settings.share_dir / "school" / "BX-AMS" / source.name
    assert first.path.read_bytes() == source.read_bytes()
    assert first.notified == ("amusung.batxat@example.org",)
    assert stat.S_IMODE(first.path.stat().st_mode) == FILE_MODE
    assert stat.S_IMODE(first.path.parent.stat().st_mode) == RECIPIENT_DIR_MODE
    for parent in (first.path.parent.parent, settings.share_dir):
        assert stat.S_IMODE(parent.stat().st_mode) == PASS_THROUGH_MODE
    assert [p.name for p in first.path.parent.iterdir()] == [source.name]  # no temporary left

    # The same bytes again (a rerun): no copy, no row, no email.
    mtime = first.path.stat().st_mtime_ns
    again = to_a_mu_sung(engine, settings, source, now=NOW + timedelta(hours=1))
    assert (again.new, again.delivery_id) == (False, first.delivery_id)
    assert summarise([first, again]) == {"delivered": 1, "unchanged": 1, "notices": 1, "no_contact": []}
    assert first.path.stat().st_mtime_ns == mtime
    # A second document in the same batch: the one queued email grows to list both.
    other = a_list(tmp / "out", "danh_sach_xac_minh_2025-04-04.xlsx", "v1")
    to_a_mu_sung(engine, settings, other, document_kind="commune_verification_list")
    recorded = rows(engine)
    assert len(recorded) == 2
    assert recorded[0]["sha256"] == first.sha256
    assert recorded[0]["file_name"] == source.name
    assert {r["notice_key"] for r in recorded} == {"delivery:school:BX-AMS:2025-04-04"}
    assert [r["notified"] for r in recorded] == ["amusung.batxat@example.org"] * 2
    assert len(outbox(engine)) == 1

    assert send_pending(engine, airflow_smtp_sender(), now=NOW).sent == 1
    [mail] = sink.messages()
    assert mail["To"] == "amusung.batxat@example.org"
    text = body(mail)
    assert source.name in text
    assert other.name in text
    assert "school/BX-AMS" in text
    assert "A Mú Sung" in mail["Subject"]
    assert not mail.get_payload() or not any(p.get_filename() for p in mail.walk())  # nothing attached
    assert CHILD not in text
    assert CHILD not in mail["Subject"]

    # Changed bytes later, after the batch's email went out: a new delivery, its own email.
    source.write_text(f"{CHILD}\nv2\n", encoding="utf-8")
    changed = to_a_mu_sung(engine, settings, source, now=NOW + timedelta(days=1))
    assert changed.new
    assert changed.path.read_text(encoding="utf-8").endswith("v2\n")
    assert len(rows(engine)) == 3
    assert send_pending(engine, airflow_smtp_sender(), now=NOW).sent == 1
    assert len(sink.messages()) == 2
    assert all(CHILD not in body(m) for m in sink.messages())


def test_a_recipient_without_contact_gets_its_file_and_the_operators_hear_of_it(
    setup: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    settings, engine, tmp = setup["settings"], setup["engine"], setup["tmp"]
    source = a_list(tmp / "out", "danh_sach_noi_vu_2025-10-03.xlsx", "v1")
    after_reform = datetime(2025, 10, 3, 8, 0, tzinfo=UTC)  # the district's Home Affairs office is gone
    with caplog.at_level("WARNING", logger="chuyencan.core.contacts"):
        done = deliver_file(
            engine,
            settings,
            recipient_kind="office",
            recipient_key="NOI_VU_BAT_XAT",
            document_kind="home_affairs_list",
            source=source,
            period=date(2025, 10, 3),
            now=after_reform,
        )
    assert done.new
    assert done.path.is_file()
    assert done.notified == ()
    assert outbox(engine) == []
    assert any("NOI_VU_BAT_XAT" in r.getMessage() for r in caplog.records)
    [gap] = contact_gaps(engine)
    assert (gap["recipient_kind"], gap["recipient_key"], gap["purpose"]) == (
        "office",
        "NOI_VU_BAT_XAT",
        "home_affairs_list",
    )
    assert CHILD not in caplog.text
    assert summarise([done]) == {
        "delivered": 1,
        "unchanged": 0,
        "notices": 0,
        "no_contact": ["office NOI_VU_BAT_XAT"],
    }
    # The operators' page lists it first.
    from chuyencan.orchestration.ui_app import _gaps_html

    page = _gaps_html(contact_gaps(engine))
    assert 'data-gap="office:NOI_VU_BAT_XAT"' in page
    assert "home_affairs_list" in page


def test_a_folder_open_to_everyone_is_closed_before_delivery(setup: dict[str, Any]) -> None:
    settings = setup["settings"]
    folder = settings.share_dir / "commune" / "Quang_Kim"
    folder.mkdir(parents=True)
    folder.chmod(0o2777)
    assert recipient_folder(settings, "commune", "Quang Kim") == folder
    assert stat.S_IMODE(folder.stat().st_mode) & 0o007 == 0


def test_unknown_document_kinds_and_hidden_names_are_refused_before_anything_is_copied(
    setup: dict[str, Any],
) -> None:
    settings, engine, tmp = setup["settings"], setup["engine"], setup["tmp"]
    source = a_list(tmp / "out", "x.xlsx", "v1")
    with pytest.raises(ValueError, match=r"no name in include/wording/mail\.vi\.json"):
        to_a_mu_sung(engine, settings, source, document_kind="secret_list")
    hidden = a_list(tmp / "out", ".x.xlsx", "v1")
    with pytest.raises(ValueError, match="plain, visible file name"):
        to_a_mu_sung(engine, settings, hidden)
    assert not settings.share_dir.exists()
    assert rows(engine) == []


def test_retention_deletes_old_copies_and_keeps_the_record(setup: dict[str, Any]) -> None:
    settings, engine, tmp = setup["settings"], setup["engine"], setup["tmp"]
    old = a_list(tmp / "out", "danh_sach_xac_minh_Quang_Kim.xlsx", "old")
    first = deliver_file(
        engine, settings, recipient_kind="commune", recipient_key="Quang Kim",
        document_kind="commune_verification_list", source=old, period=date(2025, 3, 21), now=NOW - timedelta(days=14),
    )  # fmt: skip
    # The next fortnight's list has the same name: it replaces the file, its own time counts.
    new = a_list(tmp / "out", "danh_sach_xac_minh_Quang_Kim.xlsx", "new")
    second = deliver_file(
        engine, settings, recipient_kind="commune", recipient_key="Quang Kim",
        document_kind="commune_verification_list", source=new, period=PERIOD, now=NOW,
    )  # fmt: skip
    other = a_list(tmp / "out", "danh_sach_cong_an.xlsx", "police")
    third = deliver_file(
        engine, settings, recipient_kind="police", recipient_key="Quang Kim",
        document_kind="police_extract_missing", source=other, period=date(2025, 3, 21), now=NOW - timedelta(days=14),
    )  # fmt: skip
    days = settings.delivery_retention_days

    early = purge_expired_deliveries(engine, settings, NOW - timedelta(days=14) + timedelta(days=days - 1))
    assert early["deliveries_expired"] == 0
    assert third.path.is_file()

    late = purge_expired_deliveries(engine, settings, NOW - timedelta(days=14) + timedelta(days=days + 1))
    assert (late["deliveries_expired"], late["delivered_files_deleted"]) == (2, 1)
    assert not third.path.exists()
    assert second.path.is_file()
    assert second.path.read_text(encoding="utf-8").endswith("new\n")
    purged = {r["delivery_id"]: r["purged_at"] for r in rows(engine)}
    assert purged[first.delivery_id] is not None
    assert purged[third.delivery_id] is not None
    assert purged[second.delivery_id] is None
    assert json.dumps(late)  # a task's summary: counts only


def test_the_police_retention_step_purges_deliveries_too(setup: dict[str, Any]) -> None:
    from chuyencan.police.pipeline import apply_retention

    settings, engine, tmp = setup["settings"], setup["engine"], setup["tmp"]
    done = to_a_mu_sung(engine, settings, a_list(tmp / "out", "a.xlsx", "v"))
    summary = apply_retention(settings, NOW + timedelta(days=settings.delivery_retention_days + 1))
    assert summary["deliveries_expired"] == 1
    assert not done.path.exists()


def test_the_delivery_settings_come_from_their_variables(tmp_path: Path) -> None:
    from datetime import time

    values = {
        "chuyencan_work_dir": str(tmp_path / "work"),
        "chuyencan_delivery_dir": str(tmp_path / "srv" / "share"),
        "chuyencan_delivery_retention_days": "30",
        "chuyencan_reminder_time": "07:30",
    }
    settings = Settings.from_variables(values.get, lambda work: f"sqlite:///{work / 'warehouse.db'}")
    assert settings.share_dir == tmp_path / "srv" / "share"
    assert (settings.delivery_retention_days, settings.reminder_time) == (30, time(7, 30))
    unset = Settings.from_variables(
        {"chuyencan_work_dir": str(tmp_path / "work")}.get, lambda work: "sqlite://"
    )
    assert unset.share_dir == tmp_path / "work" / "share"
    assert unset.reminder_for(PERIOD).strftime("%H:%M %Z") == "08:00 +07"


def test_notices_name_their_recipient(tmp_path: Path) -> None:
    from chuyencan.core.delivery import name_of_recipient

    settings = Settings(inbox=tmp_path, work_dir=tmp_path, warehouse_url="sqlite://")
    assert name_of_recipient(settings, "school", "bx-ams") == "Trường PTDTBT TH&THCS A Mú Sung"
    assert name_of_recipient(settings, "unit", "XA_BAT_XAT") == "Ủy ban nhân dân xã Bát Xát"
    assert name_of_recipient(settings, "commune", "Quang Kim") == "Ủy ban nhân dân xã Quang Kim"
    assert name_of_recipient(settings, "police", "Thị trấn Bát Xát") == "Công an thị trấn Bát Xát"
    assert (
        name_of_recipient(settings, "commune", "Xà Phìn") == "Ủy ban nhân dân xã Xà Phìn"
    )  # not a "xã" prefix
    assert name_of_recipient(settings, "office", "NOI_VU_BAT_XAT") == "NOI_VU_BAT_XAT"
