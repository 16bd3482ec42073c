"""After the July 2025 reform a school's "not received" notice goes to the unit that manages it on
that date (school_units.csv): a commune People's Committee for primary and lower-secondary
schools, the provincial department for upper-secondary ones (issue 12's organisation, issue 13's
notices). Real warehouse, no Airflow: the DAG wiring is in test_school_reminders.py."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from chuyencan.core import warehouse as wh
from chuyencan.core.contacts import load_contacts
from chuyencan.core.organisation import load_organisation
from chuyencan.core.reference import load_reference
from chuyencan.core.schema import ops_email_outbox
from chuyencan.core.settings import TIMEZONE, Settings
from chuyencan.submissions.reminders import queue_not_received, queue_reminders

WEEK = date(2025, 10, 3)  # a school week of 2025-26, under the new units
AFTER_DEADLINE = datetime(2025, 10, 3, 11, 0, tzinfo=TIMEZONE)


def test_the_notice_goes_to_the_unit_in_force_on_the_week(tmp_path: Path, warehouse_url: str) -> None:
    settings = Settings(inbox=tmp_path / "inbox", work_dir=tmp_path / "work", warehouse_url=warehouse_url)
    engine = wh.make_engine(warehouse_url)
    wh.ensure_schema(engine)
    ref, org, contacts = load_reference(), load_organisation(), load_contacts()
    assert ref.is_school_week(WEEK)

    # Before the deadline nothing is "not received"; after it the reminders are over.
    early = queue_not_received(
        engine, ref, org, contacts, settings, week=WEEK, now=AFTER_DEADLINE.replace(hour=9)
    )
    assert early.too_early
    late = queue_reminders(engine, ref, contacts, settings, week=WEEK, now=AFTER_DEADLINE)
    assert late.too_late
    dawn = queue_reminders(engine, ref, contacts, settings, week=WEEK, now=AFTER_DEADLINE.replace(hour=7))
    assert dawn.too_early  # before the reminder time (08:00)
    assert (late.queued, dawn.queued) == ([], [])

    summary = queue_not_received(engine, ref, org, contacts, settings, week=WEEK, now=AFTER_DEADLINE)
    with engine.connect() as conn:
        sent = {
            r.dedup_key.split(":")[1]: r.recipients
            for r in conn.execute(select(ops_email_outbox.c.dedup_key, ops_email_outbox.c.recipients))
        }
    engine.dispose()
    assert set(summary.queued) == {s.code for s in ref.active_schools(WEEK)} == set(sent)
    assert summary.no_contact == []
    # A TH&THCS school of A Mú Sung: the commune of A Mú Sung; an upper-secondary school: the province.
    assert sent["BX-AMS"] == f"{ref.schools['BX-AMS'].email}, vhxh.amusung@example.org"
    assert sent["BX-THPT1"] == f"{ref.schools['BX-THPT1'].email}, sogddt.laocai@example.org"
    for code, recipients in sent.items():
        unit = org.reporting_unit_of_school(code, WEEK)
        assert unit is not None
        assert unit.code != "BAT_XAT"  # the district's office is gone
        assert recipients.endswith(", ".join(contacts.emails_for("unit", unit.code, WEEK))), code


def test_a_rerun_queues_nothing_new(tmp_path: Path, sqlite_url: str) -> None:
    day = date(2025, 9, 26)
    settings = Settings(inbox=tmp_path / "inbox", work_dir=tmp_path / "work", warehouse_url=sqlite_url)
    engine = wh.make_engine(sqlite_url)
    wh.ensure_schema(engine)
    ref, org, contacts = load_reference(), load_organisation(), load_contacts()
    moment = datetime(day.year, day.month, day.day, 11, 0, tzinfo=TIMEZONE)
    first = queue_not_received(engine, ref, org, contacts, settings, week=day, now=moment)
    again = queue_not_received(engine, ref, org, contacts, settings, week=day, now=moment)
    engine.dispose()
    assert first.queued
    assert (again.queued, sorted(again.already)) == ([], sorted(first.queued))
