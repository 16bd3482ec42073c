"""The offices the notice names besides the education office (issue 13, items 2, 5, 6), on the
sample generator's district (seed 7, weeks ending 21 March to 4 April 2025) run through the
fortnightly sequence's own steps on SQLite, and a real SMTP server:

- principals: every school with anyone on its list gets its list in its folder on the share,
  with the four parts (dropouts, long absences, at risk with the reasons, returns) equal to its
  latest accepted list in the generator's truth;
- Home Affairs: pupils working in karaoke bars, restaurants and guesthouses by home commune
  equal the truth and add up; the report's sheet shows them; the office's restricted list names
  exactly those children and is delivered to the office;
- police rounds: the notice's round (due 31/03/2025) per commune from the extracts' file times;
  a missing extract is emailed once to the commune police, a rerun sends nothing new, a late
  arrival afterwards changes the status but sends nothing; the report names the missing ones.
- nothing personal in any email, log line or report table.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
import re
import shutil
import stat
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from chuyencan.core.police_rounds import PoliceRoundsError, load_police_rounds
from chuyencan.core.reference import load_reference
from chuyencan.core.schema import delivery, fortnight_breakdown, ops_email_outbox, police_round_arrival
from chuyencan.core.settings import REFERENCE_DIR, Settings
from chuyencan.orchestration.fortnight import publish_fortnight
from chuyencan.orchestration.smtp import airflow_smtp_sender
from chuyencan.police.pipeline import check_police_rounds, load_police_extracts
from chuyencan.report.dimensions import UNKNOWN_COMMUNE
from chuyencan.report.excel import SHEET_SUMMARY
from chuyencan.report.files import report_files
from chuyencan.report.lists import SHEET_ABSENCES, SHEET_DROPOUTS, SHEET_RETURNS, SHEET_RISK
from chuyencan.report.offices import HOME_AFFAIRS_WORKPLACES, SHEET_HOME_AFFAIRS, SHEET_POLICE
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse, send_emails
from tests.helpers import body, local, received, sample_settings, smtp_conn
from tests.report_truth import fortnight_truth, police_round_of

REPORT_DATE = date(2025, 4, 4)
PREVIOUS_DATE = date(2025, 3, 21)
ON_TIME_COMMUNE = ("Quang-Kim", "Quang Kim")  # its extract's file time moved to 31/03
LIST_FIRST_ROW = 8  # the principals' sheets: heading block, header on row 7


def _round_of(path: Path) -> date:
    return date.fromisoformat(path.stem.rsplit("_", 1)[1])


def _touch(path: Path, moment: datetime) -> None:
    os.utime(path, (moment.timestamp(), moment.timestamp()))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from chuyencan_dev.mail_sink import SmtpSink
    from chuyencan_dev.synth import generate

    base = tmp_path_factory.mktemp("offices")
    sample = generate(base / "sample", seed=7, first_week=PREVIOUS_DATE, last_week=REPORT_DATE)
    # The generator writes the extracts now; a police post drops each on its round's day.
    for path in sample.police_inbox.iterdir():
        _touch(path, local(_round_of(path), 10))
    # One post sends (again) within the round: on time. (The 01/04 extracts verify people up
    # to 01/04 and cannot have been sent before.)
    _touch(sample.police_inbox / f"{ON_TIME_COMMUNE[0]}_2025-03-04.csv", local(date(2025, 3, 28), 16))
    settings = sample_settings(sample, base, delivery_dir=base / "share")
    engine_for.cache_clear()
    mp = pytest.MonkeyPatch()
    logs: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logs.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("chuyencan").addHandler(handler)
    try:
        with SmtpSink(base / "mail") as sink:
            mp.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_conn(sink.port))
            mp.setenv("AIRFLOW__EMAIL__FROM_EMAIL", "pgd.batxat@example.org")
            prepare_warehouse(settings)
            collect_new_files(settings, now=datetime(2025, 4, 4, 8, tzinfo=UTC))
            publish_fortnight(settings, PREVIOUS_DATE, now=local(PREVIOUS_DATE, 13, 30))
            out = publish_fortnight(settings, REPORT_DATE, now=local(REPORT_DATE, 13, 30))
            send_emails(settings, airflow_smtp_sender())
            first = received(sink)
            # A rerun of the same report (the operator clears the run): nothing new goes out.
            again = publish_fortnight(settings, REPORT_DATE, now=local(REPORT_DATE, 14, 10))
            send_emails(settings, airflow_smtp_sender())
            emails = received(sink)
    finally:
        logging.getLogger("chuyencan").removeHandler(handler)
        mp.undo()
    truth = fortnight_truth(sample.truth_dir, REPORT_DATE, police_round=police_round_of(sample.out_dir))
    return {
        "settings": settings,
        "sample": sample,
        "out": out,
        "again": again,
        "first_emails": first,
        "emails": emails,
        "logs": logs,
        "truth": truth,
        "ref": load_reference(sample.reference_dir),
    }


def _students(run: dict[str, Any]) -> list[dict[str, str]]:
    with (run["sample"].truth_dir / "students.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --- Home Affairs --------------------------------------------------------------------------------


def _home_affairs_counts(run: dict[str, Any]) -> dict[str, Counter[str]]:
    b = fortnight_breakdown
    out: dict[str, Counter[str]] = {}
    with engine_for(run["settings"].warehouse_url).connect() as conn:
        for r in conn.execute(
            select(b.c.scope, b.c.scope_key, b.c.category, b.c.students).where(
                b.c.report_date == REPORT_DATE,
                b.c.dimension == "workplace_kind",
                b.c.category.in_(HOME_AFFAIRS_WORKPLACES),
                b.c.scope.in_(("commune", "district")),
            )
        ):
            out.setdefault(r.scope_key if r.scope == "commune" else "", Counter())[r.category] = r.students
    return out


def test_home_affairs_counts_by_commune_are_the_truth_and_add_up(run: dict[str, Any]) -> None:
    got = _home_affairs_counts(run)
    district = got.pop("")
    known = {c.name for c in run["ref"].communes}
    expected: dict[str, Counter[str]] = {}
    for (scope, commune), figures in run["truth"].by_scope.items():
        if scope != "commune":
            continue
        key = commune if commune in known else UNKNOWN_COMMUNE
        counts = expected.setdefault(key, Counter())
        for kind in HOME_AFFAIRS_WORKPLACES:
            counts[kind] += figures.breakdown[("workplace_kind", kind)]
    for commune in set(got) | set(expected):
        assert +got.get(commune, Counter()) == +expected.get(commune, Counter()), commune
    for kind in HOME_AFFAIRS_WORKPLACES:
        assert sum(c[kind] for c in got.values()) == district[kind], kind
    assert sum(district.values()) > 0  # the sample has such pupils: the test can fail


def test_the_report_sheet_shows_the_home_affairs_counts(run: dict[str, Any]) -> None:
    counts = _home_affairs_counts(run)
    xlsx = report_files(run["settings"].work_dir / "reports", REPORT_DATE).xlsx
    ws = load_workbook(xlsx)[SHEET_HOME_AFFAIRS]
    rows = [
        [c.value for c in row]
        for row in ws.iter_rows(min_row=1)
        if isinstance(row[0].value, int) or (row[1].value or "") == "Toàn huyện"
    ]
    body_rows, total = rows[:-1], rows[-1]
    assert total[1] == "Toàn huyện"
    shown = {r[1]: r[2:5] for r in body_rows}
    for commune, c in counts.items():
        if commune:
            assert shown[commune] == [c[k] for k in HOME_AFFAIRS_WORKPLACES], commune
    assert total[2:5] == [counts[""][k] for k in HOME_AFFAIRS_WORKPLACES]
    for col in range(2, 6):  # every column of the communes adds up to the total row
        assert sum(r[col] for r in body_rows) == total[col]


def test_the_home_affairs_office_receives_its_restricted_list(run: dict[str, Any]) -> None:
    settings = run["settings"]
    counts = _home_affairs_counts(run)
    folder = settings.share_dir / "office" / "NOI_VU_BAT_XAT"
    files = sorted(folder.glob(f"*_{REPORT_DATE}.xlsx"))  # each report date's list stays beside the others
    assert [p.name for p in files] == [f"hoc_sinh_di_lam_noi_vu_NOI_VU_BAT_XAT_{REPORT_DATE}.xlsx"]
    ws = load_workbook(files[0]).active
    assert ws is not None
    pupils = [[c.value for c in row] for row in ws.iter_rows(min_row=7) if isinstance(row[0].value, int)]
    by_commune = Counter(r[1] for r in pupils)
    assert by_commune == Counter({k: sum(c.values()) for k, c in counts.items() if k and sum(c.values())})
    names = {s["full_name"] for s in _students(run)}
    assert all(r[2] in names for r in pupils)  # real children of the sample, each counted once
    assert len({(r[2], r[3]) for r in pupils}) == len(pupils)
    assert run["out"]["deliver_home_affairs_list"]["home_affairs_pupils"] == len(pupils)
    # Its notice went to the office's contact once per report date (21/03 and 04/04); the rerun
    # wrote the same bytes, so nothing was delivered or sent again.
    notices = [m for m in run["emails"] if "noivu.batxat@example.org" in str(m["To"])]
    assert len(notices) == 2
    assert run["again"]["deliver_home_affairs_list"]["home_affairs_delivered"] is False


# --- principals ----------------------------------------------------------------------------------


def _latest_list_truth(run: dict[str, Any]) -> dict[str, Counter[str]]:
    truth_dir = run["sample"].truth_dir
    with (truth_dir / "submissions.csv").open(encoding="utf-8") as fh:
        subs = [s for s in csv.DictReader(fh) if int(s["accepted_files"]) > 0]
    latest: dict[str, str] = {}
    for s in subs:
        if date.fromisoformat(s["week_ending"]) <= REPORT_DATE:
            latest[s["school_code"]] = max(latest.get(s["school_code"], ""), s["week_ending"])
    out: dict[str, Counter[str]] = {}
    with (truth_dir / "cases.csv").open(encoding="utf-8") as fh:
        for c in csv.DictReader(fh):
            if c["in_accepted_file"] == "yes" and latest.get(c["school_code"]) == c["week_ending"]:
                out.setdefault(c["school_code"], Counter())[c["status"]] += 1
    return out


def _rows(ws: Any) -> int:
    return sum(1 for row in ws.iter_rows(min_row=LIST_FIRST_ROW) if isinstance(row[0].value, int))


def test_every_school_of_the_sample_receives_its_list_with_the_four_parts(run: dict[str, Any]) -> None:
    from chuyencan.core.schema import student_risk

    settings = run["settings"]
    truth = _latest_list_truth(run)
    with engine_for(settings.warehouse_url).connect() as conn:
        risks = Counter(
            r.school_code
            for r in conn.execute(
                select(student_risk.c.school_code).where(student_risk.c.report_date == REPORT_DATE)
            )
        )
        delivered = {
            r.recipient_key
            for r in conn.execute(
                select(delivery.c.recipient_key).where(
                    delivery.c.recipient_kind == "school", delivery.c.period == REPORT_DATE
                )
            )
        }
    active = {s.code for s in run["ref"].active_schools(REPORT_DATE)}
    assert set(truth) == active  # every school of the sample sent a list
    assert delivered == active
    for code in sorted(active):
        files = sorted((settings.share_dir / "school" / code).glob(f"*_{REPORT_DATE}.xlsx"))
        assert len(files) == 1, code
        assert stat.S_IMODE(files[0].stat().st_mode) & 0o007 == 0  # not world-readable
        wb = load_workbook(files[0])
        assert wb.sheetnames == [SHEET_RISK, SHEET_DROPOUTS, SHEET_ABSENCES, SHEET_RETURNS]
        assert _rows(wb[SHEET_DROPOUTS]) == truth[code]["bo_hoc"], code
        assert _rows(wb[SHEET_ABSENCES]) == truth[code]["vang_dai_ngay"], code
        assert _rows(wb[SHEET_RETURNS]) == truth[code]["da_tro_lai"], code
        assert _rows(wb[SHEET_RISK]) == risks[code], code
        reasons = [row[10].value for row in wb[SHEET_RISK].iter_rows(min_row=LIST_FIRST_ROW) if row[0].value]
        assert all(reasons), code  # each student at risk says why
    # One notice per school, to its principal, and the rerun sent none.
    to_schools = [m for m in run["emails"] if re.search(r"batxat@|quangkim@|ttbatxat@", str(m["To"]))]
    assert len(run["emails"]) == len(run["first_emails"])
    assert to_schools


# --- police rounds -------------------------------------------------------------------------------


def test_the_report_names_each_communes_extract_by_the_notices_due_date(run: dict[str, Any]) -> None:
    settings = run["settings"]
    with engine_for(settings.warehouse_url).connect() as conn:
        rows = {r.commune: r for r in conn.execute(select(police_round_arrival))}
    communes = {p.stem.rsplit("_", 1)[0] for p in settings.police_inbox.iterdir()}  # type: ignore[union-attr]
    assert len(rows) == len([c for c in run["ref"].communes if c.valid_to is None])
    assert rows[ON_TIME_COMMUNE[1]].status == "on_time"
    assert {r.status for c, r in rows.items() if c != ON_TIME_COMMUNE[1]} <= {"late", "missing"}
    late = sorted(c for c, r in rows.items() if r.status == "late")
    assert len(late) == len(communes) - 1  # every other extract came on 01/04, a day late
    assert all(r.named_at is None for r in rows.values() if r.status != "missing")
    wb = load_workbook(report_files(settings.work_dir / "reports", REPORT_DATE).xlsx)
    police = [[c.value for c in row] for row in wb[SHEET_POLICE].iter_rows() if isinstance(row[0].value, int)]
    assert {r[1]: r[4] for r in police}[ON_TIME_COMMUNE[1]] == "Đúng hạn"
    assert sum(r[4] == "Gửi muộn" for r in police) == len(late)
    notes = [str(c.value) for row in wb[SHEET_SUMMARY].iter_rows() for c in row if c.value]
    assert any("muộn" in n and all(c in n for c in late) for n in notes)


def _police_settings(tmp_path: Path, sample_inbox: Path, url: str) -> Settings:
    inbox = tmp_path / "police_inbox"
    shutil.copytree(sample_inbox, inbox)
    return Settings(
        inbox=tmp_path / "inbox",
        police_inbox=inbox,
        work_dir=tmp_path / "work",
        warehouse_url=url,
        reference_dir=REFERENCE_DIR,
        district_emails=("pgd.batxat@example.org",),
        delivery_dir=tmp_path / "share",
        settle_seconds=0,
    )


def test_a_missing_extract_is_named_once_and_a_late_one_changes_only_the_status(
    run: dict[str, Any], tmp_path: Path, smtp_sink: Any, monkeypatch: pytest.MonkeyPatch, warehouse_url: str
) -> None:
    """On SQLite and PostgreSQL."""
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_conn(smtp_sink.port))
    monkeypatch.setenv("AIRFLOW__EMAIL__FROM_EMAIL", "pgd.batxat@example.org")
    (tmp_path / "inbox").mkdir()
    settings = _police_settings(tmp_path, run["sample"].police_inbox, warehouse_url)
    inbox = settings.police_inbox
    assert inbox is not None
    # The March extracts stand for the round's: sent on 28/03, on time; A Lù's held back.
    for path in list(inbox.iterdir()):
        if _round_of(path) == date(2025, 4, 1):
            path.unlink()
        else:
            _touch(path, local(date(2025, 3, 28), 9))
    held_back = inbox / "A-Lu_2025-03-04.csv"
    aside = tmp_path / held_back.name
    shutil.move(held_back, aside)
    engine_for.cache_clear()
    prepare_warehouse(settings)
    load_police_extracts(settings, now=local(date(2025, 3, 31), 18))
    before_due = check_police_rounds(settings, now=local(date(2025, 3, 31), 18))
    assert before_due["extracts_pending"] == 1
    assert before_due["police_named"] == 0

    # A backfilled report of an earlier fortnight records the state and writes to nobody.
    backfill = check_police_rounds(settings, now=local(date(2025, 4, 1), 8), report_date=date(2025, 3, 7))
    assert backfill["police_missing"] == ["2025-TB-26-03 A Lù"]
    assert backfill["police_named"] == 0
    after_due = check_police_rounds(settings, now=local(date(2025, 4, 1), 8), report_date=date(2025, 3, 21))
    assert after_due["police_missing"] == ["2025-TB-26-03 A Lù"]
    assert after_due["police_named"] == 1
    send_emails(settings, airflow_smtp_sender())
    assert check_police_rounds(settings, now=local(date(2025, 4, 2), 8))["police_named"] == 0
    send_emails(settings, airflow_smtp_sender())
    emails = received(smtp_sink)
    assert len(emails) == 1
    assert str(emails[0]["To"]) == "congan.alu@example.org"
    assert "xã A Lù" in str(emails[0]["Subject"])
    assert "31/03/2025" in str(emails[0]["Subject"])
    assert "31/03/2025" in body(emails[0], ("plain",))

    # It comes on 3 April: late, still named once.
    shutil.move(aside, held_back)
    _touch(held_back, local(date(2025, 4, 3), 10))
    load_police_extracts(settings, now=local(date(2025, 4, 3), 12))
    late = check_police_rounds(settings, now=local(date(2025, 4, 3), 12))
    assert late["extracts_late"] == 1
    assert late["extracts_missing"] == 0
    assert late["police_named"] == 0
    send_emails(settings, airflow_smtp_sender())
    assert len(received(smtp_sink)) == 1
    with engine_for(settings.warehouse_url).connect() as conn:
        row = conn.execute(select(police_round_arrival).where(police_round_arrival.c.commune == "A Lù")).one()
        queued = conn.execute(select(ops_email_outbox.c.kind)).scalars().all()
    assert row.status == "late"
    assert row.named_at is not None
    assert queued == ["police_round_missing"]


def test_a_commune_without_a_police_contact_is_reported_not_skipped(
    run: dict[str, Any], tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, reference)
    contacts = reference / "contacts.csv"
    lines = contacts.read_text(encoding="utf-8").splitlines(keepends=True)
    contacts.write_text("".join(x for x in lines if not x.startswith("police,A Lù,")), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    settings = _police_settings(tmp_path, run["sample"].police_inbox, f"sqlite:///{tmp_path / 'w.db'}")
    settings = dataclasses.replace(settings, reference_dir=reference)
    for path in settings.police_inbox.glob("A-Lu_*"):  # type: ignore[union-attr]
        path.unlink()
    engine_for.cache_clear()
    prepare_warehouse(settings)
    load_police_extracts(settings, now=local(date(2025, 4, 2), 8))
    result = check_police_rounds(settings, now=local(date(2025, 4, 2), 8))
    assert result["police_without_contact"] == ["A Lù"]
    from chuyencan.core.contacts import contact_gaps

    gaps = contact_gaps(engine_for(settings.warehouse_url))
    assert [(g["recipient_kind"], g["recipient_key"]) for g in gaps] == [("police", "A Lù")]


def test_the_police_rounds_file_is_checked(tmp_path: Path) -> None:
    ref = load_reference(REFERENCE_DIR)
    rounds = load_police_rounds(REFERENCE_DIR, ref)
    assert [(r.unit, r.opens_on, r.due_on, r.communes) for r in rounds] == [
        ("BAT_XAT", date(2025, 3, 26), date(2025, 3, 31), None)
    ]
    assert len(rounds[0].communes_due(ref)) == len([c for c in ref.communes if c.valid_to is None])
    shutil.copy(REFERENCE_DIR / "reporting_units.csv", tmp_path / "reporting_units.csv")
    (tmp_path / "police_rounds.csv").write_text(
        "unit,round,communes,opens_on,due_on,source,verified\n"
        "BAT_XAT,r1,all,2025-03-26,2025-03-20,x,yes\n"
        "NOWHERE,r2,all,2025-03-26,2025-03-31,x,yes\n"
        "BAT_XAT,r3,Atlantis|A Lù,2025-03-26,2025-03-31,x,maybe\n"
        "BAT_XAT,r4,Ngải Thầu,2025-03-26,2025-03-31,x,yes\n"
        "BAT_XAT,r4,all,2025-04-01,2025-04-15,x,yes\n",
        encoding="utf-8",
    )
    with pytest.raises(PoliceRoundsError) as caught:
        load_police_rounds(tmp_path, ref)
    problems = "\n".join(caught.value.problems)
    assert "line 2: due_on 2025-03-20 is before opens_on" in problems
    assert "line 3: unit 'NOWHERE'" in problems
    assert "line 4: verified must be yes or no" in problems
    assert "'Atlantis' is not in force" in problems
    assert "line 6: round 'r4' of BAT_XAT is listed twice" in problems
    # Ngải Thầu merged into A Lù in 2020: its police post is A Lù's.
    (tmp_path / "police_rounds.csv").write_text(
        "unit,round,communes,opens_on,due_on,source,verified\nBAT_XAT,r4,Ngải Thầu,2025-03-26,2025-03-31,x,yes\n",
        encoding="utf-8",
    )
    assert load_police_rounds(tmp_path, ref)[0].communes_due(ref) == ["A Lù"]


# --- personal data -------------------------------------------------------------------------------


def test_nothing_personal_in_emails_logs_or_the_report_tables(run: dict[str, Any]) -> None:
    students = _students(run)
    names = {s["full_name"] for s in students} | {s.get("father_name", "") for s in students}
    names.discard("")
    ids = {s["personal_id"] for s in students if s.get("personal_id")}
    texts = [
        str(m["Subject"]) + "\n" + body(m, ("plain",)) + "\n" + body(m, ("html",)) for m in run["emails"]
    ]
    texts += run["logs"]
    assert run["emails"]
    assert run["logs"]
    for text in texts:
        assert not any(n in text for n in names), text[:200]
        assert not any(i in text for i in ids)
    with engine_for(run["settings"].warehouse_url).connect() as conn:
        rows = [tuple(map(str, r)) for r in conn.execute(select(police_round_arrival))]
    assert not any(v in names for r in rows for v in r)
    # Sent by mail: notices and the police's reminder only, never a list.
    # (The district's own report email carries its aggregate Excel report.)
    others = [m for m in run["emails"] if "pgd.batxat@example.org" not in str(m["To"])]
    assert others
    assert all(not list(m.iter_attachments()) for m in others)
