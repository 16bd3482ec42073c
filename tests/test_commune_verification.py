"""Commune verification lists and their returns, end to end on the sample generator's district.

Seed 7's district, weeks ending 21 March to 4 April 2025, collected and published by the
fortnightly sequence's own steps (`publish_fortnight`) on SQLite, for 21 March and 4 April
(each writes and delivers every commune's list). Then, as a commune officer would, the test
fills the 4 April list of the commune with the most dropouts with openpyxl (every dropout
visited: those the police had not found gone marked as left for Hà Nội to work in a karaoke
bar, the others as present; the cause "Tảo hôn" for all) and drops it into the commune's
`nop_lai` folder dated 10 April; a second commune drops a workbook with mistakes, a third
another commune's list. The 18 April report must then count the first return exactly, in the
commune's scope and the district's, quarantine the others with their reasons, name the
communes that never answered, and a rerun must change nothing.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from chuyencan.core import schema as wh
from chuyencan.core.organisation import load_organisation
from chuyencan.core.reference import load_reference
from chuyencan.core.settings import Settings
from chuyencan.orchestration.fortnight import publish_fortnight
from chuyencan.report.commune_lists import communes_in_force, lists_dir, village_key
from chuyencan.report.dimensions import BREAKDOWN_CATEGORIES
from chuyencan.report.phrase_rules import place_rules
from chuyencan.report.verification_pipeline import collect_verification_returns
from chuyencan.report.verification_sheet import COLUMN_NUMBER, HEADER_ROW, SHEET_LIST, SHEET_VILLAGES, W
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.helpers import local, sample_settings
from tests.test_report_truth import assert_additive as _assert_additive
from tests.test_report_truth import read_published

FIRST_LIST, LIST_DATE, NEXT_REPORT = date(2025, 3, 21), date(2025, 4, 4), date(2025, 4, 18)
RETURNED_ON = local(date(2025, 4, 10), 9)
OPEN = ("bo_hoc", "vang_dai_ngay", "nguy_co")
LEFT_LABEL = "Đã đi khỏi địa phương"
PRESENT_LABEL = "Có mặt tại địa phương"
LEFT_VERDICT = "Đã rời khỏi địa phương"  # the list's police verdict column (lists.verdicts)


def assert_additive(summary: dict[tuple[str, str], Any], breakdown: Any) -> None:
    """test_report_truth's check, on the figures alone (issue 12's reporting_unit is a key)."""
    _assert_additive(
        {k: {c: v for c, v in r.items() if c != "reporting_unit"} for k, r in summary.items()}, breakdown
    )


def _csv(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def truth_children(truth_dir: Path, report_date: date) -> Counter[str]:
    """Children per home commune (as the generator knows it) that a commune must visit: those
    with an open status on their school's latest accepted list, once each."""
    accepted = [s for s in _csv(truth_dir / "submissions.csv") if int(s["accepted_files"]) > 0]
    latest: dict[str, str] = {}
    for s in accepted:
        if date.fromisoformat(s["week_ending"]) <= report_date:
            latest[s["school_code"]] = max(latest.get(s["school_code"], ""), s["week_ending"])
    students = {s["student_id"]: s for s in _csv(truth_dir / "students.csv")}
    seen: set[str] = set()
    out: Counter[str] = Counter()
    for c in _csv(truth_dir / "cases.csv"):
        if c["in_accepted_file"] != "yes" or latest.get(c["school_code"]) != c["week_ending"]:
            continue
        if c["status"] in OPEN and c["student_id"] not in seen:
            seen.add(c["student_id"])
            out[students[c["student_id"]]["commune"]] += 1
    return out


def list_rows(path: Path) -> list[dict[str, Any]]:
    """The children's rows of a list's first sheet, by column key (village headings left out)."""
    ws = load_workbook(path)[SHEET_LIST]
    rows = []
    for r in range(HEADER_ROW + 1, ws.max_row + 1):
        key = ws.cell(r, COLUMN_NUMBER["case_key"]).value
        if key:
            rows.append({"row": r, **{k: ws.cell(r, n).value for k, n in COLUMN_NUMBER.items()}})
    return rows


def fill(source: Path, target: Path, answers: dict[int, dict[str, Any]], *, mtime: datetime) -> None:
    """Fill the yellow columns of the given rows, as an officer would in Excel, and save."""
    wb = load_workbook(source)
    ws = wb[SHEET_LIST]
    for row, values in answers.items():
        for key, value in values.items():
            ws.cell(row, COLUMN_NUMBER[key]).value = value
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    os.utime(target, (mtime.timestamp(), mtime.timestamp()))


def _delivered(share: Path, key_folder: str) -> Path:
    files = sorted((share / "commune" / key_folder).glob(f"xac_minh_*_{LIST_DATE.isoformat()}.xlsx"))
    assert len(files) == 1, files
    return files[0]


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from chuyencan.core.delivery import recipient_key_safe
    from chuyencan_dev.synth import generate

    base = tmp_path_factory.mktemp("verification")
    sample = generate(base / "sample", seed=7, scale="district", first_week=FIRST_LIST, last_week=LIST_DATE)
    settings = sample_settings(sample, base, delivery_dir=base / "share")
    engine_for.cache_clear()
    prepare_warehouse(settings)
    assert collect_new_files(settings, now=local(LIST_DATE, 8))["accepted"] > 0
    publish_fortnight(settings, FIRST_LIST)
    out = publish_fortnight(settings, LIST_DATE)
    ref = load_reference(sample.reference_dir)
    org = load_organisation(sample.reference_dir)
    engine = engine_for(settings.warehouse_url)
    with engine.connect() as conn:
        sent = {
            r.commune_code: r
            for r in conn.execute(select(wh.verification_list))
            if r.report_date == LIST_DATE
        }
    share = base / "share"
    lists = {
        code: list_rows(_delivered(share, recipient_key_safe(r.recipient_key))) for code, r in sent.items()
    }
    # The commune with the most dropouts returns every dropout visited.
    dropouts = {
        code: [x for x in rows if str(x["status"]).startswith("Bỏ học")] for code, rows in lists.items()
    }
    chosen = max(dropouts, key=lambda c: (len(dropouts[c]), c))
    folder = {code: share / "commune" / recipient_key_safe(r.recipient_key) for code, r in sent.items()}
    answers = {}
    for x in dropouts[chosen]:
        left = x["police_verdict"] != LEFT_VERDICT
        answers[x["row"]] = {
            "presence": LEFT_LABEL if left else PRESENT_LABEL,
            "destination": "Hà Nội" if left else None,
            "workplace": "Quán karaoke" if left else None,
            "cause": "Tảo hôn",
            "visited_on": date(2025, 4, 8),
            "note": "Gia đình cho biết",
        }
    # And one child who is not a dropout: a finding that must not count among dropouts.
    other = next(x for x in lists[chosen] if not str(x["status"]).startswith("Bỏ học"))
    answers[other["row"]] = {"presence": PRESENT_LABEL, "visited_on": "09/04/2025"}
    fill(
        _delivered(share, folder[chosen].name),
        folder[chosen] / "nop_lai" / "ket_qua.xlsx",
        answers,
        mtime=RETURNED_ON,
    )

    # A second commune's return with a mistake of every kind, one row each.
    bad = sorted((c for c in lists if c != chosen and len(lists[c]) >= 7), key=lambda c: -len(lists[c]))[0]
    rows = [x["row"] for x in lists[bad]]
    fill(
        _delivered(share, folder[bad].name),
        folder[bad] / "nop_lai" / "xac_minh_sai.xlsx",
        {
            rows[0]: {"case_key": "0" * 32, "presence": PRESENT_LABEL, "visited_on": date(2025, 4, 8)},
            rows[1]: {"presence": PRESENT_LABEL, "visited_on": "31/02/2025"},
            rows[2]: {"presence": PRESENT_LABEL, "visited_on": date(2025, 5, 1)},
            rows[3]: {"presence": PRESENT_LABEL, "visited_on": date(2025, 4, 8), "cause": "Lười học"},
            rows[4]: {"presence": LEFT_LABEL, "visited_on": date(2025, 4, 8)},
            rows[5]: {"presence": "Vắng", "visited_on": date(2025, 4, 8)},
            rows[6]: {"destination": "Lào Cai"},
        },
        mtime=RETURNED_ON,
    )
    # A third commune drops the chosen commune's workbook into its own folder.
    third = next(c for c in sorted(lists) if c not in (chosen, bad))
    fill(
        folder[chosen] / "nop_lai" / "ket_qua.xlsx",
        folder[third] / "nop_lai" / "cua_xa_khac.xlsx",
        # Not the same bytes as the chosen commune's file (those are taken once, wherever dropped).
        {lists[chosen][0]["row"]: {"note": "bản sao"}},
        mtime=RETURNED_ON,
    )

    # The warehouse fails while the accepted return's findings are written (a real SQLite
    # trigger, as a full disk would): nothing of that file may remain, and the next run takes it.
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER restricted.full_disk BEFORE INSERT ON verification_finding "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    crashed = False
    try:
        collect_verification_returns(settings, NEXT_REPORT)
    except SQLAlchemyError:
        crashed = True
    with engine.begin() as conn:
        after_crash = {
            "returns": [r.commune_code for r in conn.execute(select(wh.verification_return))],
            "findings": len(conn.execute(select(wh.verification_finding)).all()),
            "archived": sorted(
                p.name for p in (settings.work_dir / "verification").rglob("*.xlsx") if "archive" in p.parts
            ),
        }
        conn.exec_driver_sql("DROP TRIGGER restricted.full_disk")

    before = read_published(settings.warehouse_url, LIST_DATE)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("chuyencan").addHandler(handler)
    try:
        first = publish_fortnight(settings, NEXT_REPORT)
        after = read_published(settings.warehouse_url, NEXT_REPORT)
        with engine.connect() as conn:
            returns_first = len(conn.execute(select(wh.verification_return)).all())
        rerun = publish_fortnight(settings, NEXT_REPORT)
        again = read_published(settings.warehouse_url, NEXT_REPORT)
        with engine.connect() as conn:
            returns_rerun = len(conn.execute(select(wh.verification_return)).all())
        # A week later the commune corrects one child: found back home after all. The later
        # return supersedes the earlier one for that child; the others keep their finding.
        flipped = next(x for x in dropouts[chosen] if answers[x["row"]]["presence"] == LEFT_LABEL)
        fill(
            folder[chosen] / "nop_lai" / "ket_qua.xlsx",
            folder[chosen] / "nop_lai" / "ket_qua_bo_sung.xlsx",
            {
                flipped["row"]: {
                    "presence": PRESENT_LABEL,
                    "destination": None,
                    "workplace": None,
                    "visited_on": date(2025, 4, 14),
                }
            },
            mtime=local(date(2025, 4, 15), 10),
        )
        corrected_run = publish_fortnight(settings, NEXT_REPORT)
        corrected = read_published(settings.warehouse_url, NEXT_REPORT)
    finally:
        logging.getLogger("chuyencan").removeHandler(handler)
    engine_for.cache_clear()
    return {
        "settings": settings,
        "sample": sample,
        "ref": ref,
        "org": org,
        "engine": engine,
        "out": out,
        "sent": sent,
        "lists": lists,
        "share": share,
        "chosen": chosen,
        "bad": bad,
        "third": third,
        "answers": answers,
        "dropouts": dropouts,
        "before": before,
        "after": after,
        "again": again,
        "first": first,
        "rerun": rerun,
        "logs": records,
        "crashed": crashed,
        "after_crash": after_crash,
        "returns_first": returns_first,
        "returns_rerun": returns_rerun,
        "corrected": corrected,
        "corrected_run": corrected_run,
    }


def test_every_commune_gets_its_list_with_the_truths_children(loop: dict[str, Any]) -> None:
    org, ref = loop["org"], loop["ref"]
    in_force = {u.code for u in communes_in_force(org, LIST_DATE)}
    assert set(loop["sent"]) == in_force
    assert len(in_force) == 21
    expected: Counter[str] = Counter()
    for commune, n in truth_children(loop["sample"].truth_dir, LIST_DATE).items():
        unit = org.unit_in_force(commune, LIST_DATE)
        expected[unit.code if unit else "?"] += n
    got = {code: len(rows) for code, rows in loop["lists"].items()}
    assert got == {code: expected[code] for code in in_force}
    assert sum(got.values()) > 200  # not vacuous
    assert {code: r.children for code, r in loop["sent"].items()} == got
    # Each list went through the delivery: one record per commune, each file in its folder.
    with loop["engine"].connect() as conn:
        delivered = conn.execute(select(wh.delivery)).all()
    on_date = [
        d for d in delivered if d.document_kind == "commune_verification_list" and d.period == LIST_DATE
    ]
    assert len(on_date) == len(in_force)
    assert loop["out"]["write_commune_verification_lists"]["commune_lists"] == len(in_force)
    del ref


def test_villages_add_up_to_the_commune_and_rows_are_grouped_by_village(loop: dict[str, Any]) -> None:
    from chuyencan.core.delivery import recipient_key_safe

    for code, r in loop["sent"].items():
        path = _delivered(loop["share"], recipient_key_safe(r.recipient_key))
        ws = load_workbook(path)[SHEET_VILLAGES]
        body = [row for row in ws.iter_rows(min_row=5, values_only=True) if row[1] is not None]
        villages, total = body[:-1], body[-1]
        assert total[1] == W("villages.total_row")
        rows = loop["lists"][code]
        assert sum(v[5] for v in villages) == total[5] == len(rows), code
        for v in villages:
            assert v[2] + v[3] + v[4] == v[5]
        # "Thôn Bản Chải" and "Bản Chải" are one village, under the first spelling met.
        assert Counter(village_key(str(x["village"])) for x in rows) == {
            village_key(str(v[1])): v[5] for v in villages
        }
        # Grouped: a village's rows are consecutive.
        order = [village_key(str(x["village"])) for x in rows]
        assert all(
            order.index(v) + order.count(v) - 1 == len(order) - 1 - order[::-1].index(v) for v in set(order)
        )


def test_a_returned_list_changes_the_next_report_as_the_commune_found(loop: dict[str, Any]) -> None:
    summary, breakdown = loop["after"]
    chosen = loop["chosen"]
    scope = ("commune", loop["sent"][chosen].recipient_key)
    dropouts = loop["dropouts"][chosen]
    left = sum(1 for x in dropouts if x["police_verdict"] != LEFT_VERDICT)
    row, counts = summary[scope], breakdown[scope]
    assert row["dropouts_open"] == len(dropouts) > 5
    assert (row["left_locality"], row["in_locality"], row["unverified"]) == (left, len(dropouts) - left, 0)
    assert counts[("local_verification", "da_xac_minh")] == len(dropouts)
    assert counts[("local_verification", "chua_xac_minh")] == 0
    assert counts[("cause", "tao_hon")] == len(dropouts)
    assert counts[("workplace_kind", "karaoke")] >= left
    where = place_rules("destination").classify("Hà Nội")
    assert counts[("destination", where)] == left
    # The district counts exactly those as verified; every other commune is as it was.
    district = breakdown[("district", "BAT_XAT")]
    assert district[("local_verification", "da_xac_minh")] == len(dropouts)
    before_summary, _ = loop["before"]
    for (kind, key), other in summary.items():
        if kind == "commune" and key != scope[1] and (kind, key) in before_summary:
            assert other["left_locality"] == before_summary[(kind, key)]["left_locality"], key
    assert_additive(summary, breakdown)
    assert set(BREAKDOWN_CATEGORIES["local_verification"]) == {"da_xac_minh", "chua_xac_minh"}


def test_bad_returns_are_quarantined_with_their_reasons(loop: dict[str, Any]) -> None:
    t, issues = wh.verification_return, wh.verification_return_issue
    with loop["engine"].connect() as conn:
        returns = {r.commune_code: r for r in conn.execute(select(t).order_by(t.c.return_id.desc()))}
        rules = Counter(
            (r.rule, r.column_key)
            for r in conn.execute(select(issues).where(issues.c.return_id == returns[loop["bad"]].return_id))
        )
        findings = conn.execute(select(wh.verification_finding)).all()
    assert returns[loop["chosen"]].outcome == "accepted"
    assert returns[loop["chosen"]].version == 1  # the first, not the correction
    assert rules == Counter(
        {
            ("unknown_case_key", "case_key"): 1,
            ("bad_date", "visited_on"): 1,
            ("future_date", "visited_on"): 1,
            ("unknown_cause", "cause"): 1,
            ("left_without_destination", "destination"): 1,
            ("bad_presence", "presence"): 1,
            ("missing_presence", "presence"): 1,
            ("missing_date", "visited_on"): 1,
        }
    )
    assert returns[loop["bad"]].outcome == "rejected"
    assert returns[loop["third"]].outcome == "rejected"
    assert returns[loop["third"]].summary == "wrong_commune"
    # Nothing of a rejected file is a finding; the accepted files' rows all are.
    accepted = {r.return_id for r in findings}
    assert returns[loop["chosen"]].return_id in accepted
    assert returns[loop["bad"]].return_id not in accepted
    assert returns[loop["third"]].return_id not in accepted
    assert sum(f.return_id == returns[loop["chosen"]].return_id for f in findings) == len(loop["answers"])
    for code in (loop["bad"], loop["third"]):
        stored = Path(returns[code].stored_path)
        assert stored.exists()
        assert "quarantine" in stored.parts
        reasons = stored.with_name(stored.name + ".errors.txt").read_text(encoding="utf-8")
        assert "Dòng" in reasons or "khác" in reasons


def test_a_rerun_counts_nothing_twice(loop: dict[str, Any]) -> None:
    assert loop["after"] == loop["again"]
    assert loop["rerun"]["collect_verification_returns"]["files_found"] == 0
    assert loop["first"]["collect_verification_returns"]["files_found"] >= 1
    assert loop["returns_first"] == loop["returns_rerun"] == 3


def test_a_crash_while_recording_leaves_nothing_of_the_file(loop: dict[str, Any]) -> None:
    assert loop["crashed"]
    crash = loop["after_crash"]
    assert loop["chosen"] not in crash["returns"]
    assert crash["findings"] == 0
    assert crash["archived"] == []
    # ... and the next run took the file whole (the accepted return's findings are all there).
    with loop["engine"].connect() as conn:
        accepted = conn.execute(
            select(wh.verification_return).where(wh.verification_return.c.outcome == "accepted")
        ).all()
    assert [r.commune_code for r in accepted] == [loop["chosen"]] * 2


def test_a_later_return_supersedes_the_earlier_one(loop: dict[str, Any]) -> None:
    scope = ("commune", loop["sent"][loop["chosen"]].recipient_key)
    before, after = loop["again"][0][scope], loop["corrected"][0][scope]
    assert after["left_locality"] == before["left_locality"] - 1
    assert after["in_locality"] == before["in_locality"] + 1
    assert loop["corrected"][1][scope][("local_verification", "da_xac_minh")] == after["dropouts_open"]
    t = wh.verification_return
    with loop["engine"].connect() as conn:
        versions = (
            conn.execute(
                select(t.c.version)
                .where(t.c.commune_code == loop["chosen"], t.c.outcome == "accepted")
                .order_by(t.c.version)
            )
            .scalars()
            .all()
        )
    assert versions == [1, 2]
    assert loop["corrected_run"]["collect_verification_returns"]["accepted"] == 1


def test_communes_without_a_return_for_two_fortnights_are_named(loop: dict[str, Any]) -> None:
    t = wh.commune_verification
    with loop["engine"].connect() as conn:
        rows = {r.commune_code: r for r in conn.execute(select(t).where(t.c.report_date == NEXT_REPORT))}
    assert rows[loop["chosen"]].overdue is False
    assert rows[loop["chosen"]].lists_without_return == 0
    assert rows[loop["bad"]].overdue is True  # a rejected return is no answer
    overdue = sorted(r.commune for r in rows.values() if r.overdue)
    assert len(overdue) == len(loop["sent"]) - 1
    report = load_workbook(loop["rerun"]["write_excel_report"]["BAT_XAT"]["xlsx"])
    notes = " ".join(
        str(c.value)
        for ws in report.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    )
    assert all(name in notes for name in overdue)
    assert "Đã xác minh tại địa phương" in notes


def test_no_personal_data_in_emails_logs_or_report_tables(loop: dict[str, Any]) -> None:
    names = {str(x["full_name"]) for rows in loop["lists"].values() for x in rows}
    parents = {str(x["parent_name"]) for rows in loop["lists"].values() for x in rows if x["parent_name"]}
    keys = {str(x["case_key"]) for rows in loop["lists"].values() for x in rows}
    personal = names | parents | keys
    with loop["engine"].connect() as conn:
        outbox = conn.execute(select(wh.ops_email_outbox)).all()
        report_rows = [
            str(tuple(r))
            for table in (wh.commune_verification, wh.fortnight_summary, wh.fortnight_breakdown)
            for r in conn.execute(select(table))
        ]
        issues = [str(tuple(r)) for r in conn.execute(select(wh.verification_return_issue))]
    rejected = [m for m in outbox if m.kind == "verification_rejected"]
    assert rejected, "the communes with rejected returns are emailed"
    texts = [m.subject + m.body_text + m.body_html for m in outbox] + [r.getMessage() for r in loop["logs"]]
    texts += report_rows + issues
    leaks = [p for p in personal if any(p in t for t in texts)]
    assert leaks == []
    assert any("Dòng" in m.body_text for m in rejected)


def test_lists_stay_in_the_restricted_area(loop: dict[str, Any]) -> None:
    folder = lists_dir(loop["settings"].work_dir / "reports")
    assert folder.stat().st_mode & 0o077 == 0
    files = list(folder.glob("xac_minh_*.xlsx"))
    assert files
    assert all(f.stat().st_mode & 0o077 == 0 for f in files)


def test_the_loop_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The production warehouse: lists out, one commune's return in, the next report counts it."""
    from chuyencan.core.delivery import recipient_key_safe
    from chuyencan_dev.synth import generate

    sample = generate(
        tmp_path / "sample", seed=7, scale="district", first_week=LIST_DATE, last_week=LIST_DATE
    )
    settings = Settings(
        inbox=sample.inbox,
        police_inbox=sample.police_inbox,
        work_dir=tmp_path / "work",
        warehouse_url=pg_url,
        reference_dir=sample.reference_dir,
        settle_seconds=0,
        delivery_dir=tmp_path / "share",
    )
    engine_for.cache_clear()
    prepare_warehouse(settings)
    collect_new_files(settings, now=local(LIST_DATE, 8))
    publish_fortnight(settings, LIST_DATE)
    with engine_for(pg_url).connect() as conn:
        sent = {r.commune_code: r for r in conn.execute(select(wh.verification_list))}
    folders = {
        c: tmp_path / "share" / "commune" / recipient_key_safe(r.recipient_key) for c, r in sent.items()
    }
    rows = {c: list_rows(_delivered(tmp_path / "share", folders[c].name)) for c in sent}
    chosen = max(rows, key=lambda c: (sum(str(x["status"]).startswith("Bỏ học") for x in rows[c]), c))
    dropouts = [x for x in rows[chosen] if str(x["status"]).startswith("Bỏ học")]
    answers = {x["row"]: {"presence": PRESENT_LABEL, "visited_on": date(2025, 4, 8)} for x in dropouts}
    fill(
        _delivered(tmp_path / "share", folders[chosen].name),
        folders[chosen] / "nop_lai" / "x.xlsx",
        answers,
        mtime=RETURNED_ON,
    )
    out = publish_fortnight(settings, NEXT_REPORT)
    summary, breakdown = read_published(pg_url, NEXT_REPORT)
    scope = ("commune", sent[chosen].recipient_key)
    assert out["collect_verification_returns"]["accepted"] == 1
    assert summary[scope]["in_locality"] == summary[scope]["dropouts_open"] == len(dropouts) > 0
    assert breakdown[scope][("local_verification", "da_xac_minh")] == len(dropouts)
    assert_additive(summary, breakdown)
