"""`report.fortnight_summary` on the hand-built fortnight of tests/fortnight_scenario.py, on SQLite
and PostgreSQL: school files written with our template, loaded by the collection step, then the
fortnightly steps. Every expected number below is counted by hand from the scenario's table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from chuyencan.core.reference import load_reference
from chuyencan.core.schema import fortnight_summary
from chuyencan.core.settings import Settings
from chuyencan.orchestration.fortnight import FortnightRun, close_both_weeks
from chuyencan.report import pipeline as report
from chuyencan.report.dimensions import UNKNOWN_COMMUNE
from chuyencan.submissions.load import student_key
from chuyencan.submissions.pipeline import collect_new_files, engine_for, prepare_warehouse
from tests.fortnight_scenario import REPORT_DATE, SCHOOL_OF, VERDICTS, S, write_drops


def summary_rows(url: str, report_date: date = REPORT_DATE) -> dict[tuple[str, str], dict[str, Any]]:
    with engine_for(url).connect() as conn:
        t = fortnight_summary
        rows = conn.execute(select(t).where(t.c.report_date == report_date)).mappings()
        return {(r["scope"], r["scope_key"]): dict(r) for r in rows}


def insert_verdicts(url: str) -> None:
    """The police reconciliation's verdicts for five of the dropouts (`restricted.case_verdict`)."""
    rows = [
        {
            "student_key": student_key(None, S[n]["full_name"], S[n]["birth_date"], SCHOOL_OF[n]),
            "school_code": SCHOOL_OF[n],
            "verdict": verdict,
            "decided_by": "auto",
            "decided_at": datetime(2025, 4, 3, tzinfo=UTC),
        }
        for n, verdict in VERDICTS.items()
    ]
    with engine_for(url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO restricted.case_verdict (student_key, school_code, verdict, decided_by, decided_at)"
                " VALUES (:student_key, :school_code, :verdict, :decided_by, :decided_at)"
            ),
            rows,
        )


def publish(settings: Settings) -> dict[str, object]:
    close_both_weeks(FortnightRun(settings, REPORT_DATE))
    report.flag_students_at_risk(settings, REPORT_DATE)
    return report.publish_fortnight_summary(settings, REPORT_DATE)


@pytest.fixture
def loaded(tmp_path: Path, warehouse_url: str) -> Settings:
    settings = Settings(
        inbox=tmp_path / "inbox", work_dir=tmp_path / "work", warehouse_url=warehouse_url, settle_seconds=0
    )
    write_drops(load_reference(), settings.inbox)
    prepare_warehouse(settings)
    collected = collect_new_files(settings)
    assert (collected["accepted"], collected["rejected"]) == (10, 1)
    insert_verdicts(warehouse_url)
    return settings


def test_summary_of_the_hand_built_fortnight(loaded: Settings) -> None:
    result = publish(loaded)
    rows = summary_rows(loaded.warehouse_url)

    # District: 14 active schools x 2 weeks = 28 school-weeks. On time: AMS W1+W2, ALU W1, THPT1 W2,
    # THPT2 W2; late: ALU W2; rejected: THPT1 W1; the rest missing.
    # Attendance: enrolled in each school's latest week, AMS 29+25, ALU 28, THPT1 40, THPT2 35;
    # scheduled 275+270+280+200+175 = 1200 student-days, absent 10+11+11+10+0 = 42.
    # Dropouts on the latest lists: S1 S2 S3 S4 (AMS), S11 (ALU), S13 (THPT1), S17 (THPT2), S15 (YTY);
    # new S1 S11; summer S2 S17, hk1 S3 S13, hk2 S4, after Tết S1 S11 S15; left S1 S13, in S2 S15,
    # unverified S3 S4 S11 S17; not eligible S2 (50) S13 (60); returned S8 S14; at risk S5 S6 S7 S10.
    assert rows[("district", "BAT_XAT")] == {
        "report_date": REPORT_DATE,
        "scope": "district",
        "scope_key": "BAT_XAT",
        "reporting_unit": "BAT_XAT",
        "schools_expected": 14,
        "submissions_on_time": 5,
        "submissions_late": 1,
        "submissions_missing": 21,
        "submissions_rejected": 1,
        "enrolled": 157,
        "attendance_rate": pytest.approx(1 - 42 / 1200),
        "dropouts_open": 8,
        "dropouts_new": 2,
        "dropouts_summer": 2,
        "dropouts_hk1": 2,
        "dropouts_hk2": 1,
        "dropouts_after_tet": 3,
        "left_locality": 2,
        "in_locality": 2,
        "unverified": 4,
        "eligible_to_continue": 6,
        "not_eligible": 2,
        "returned": 2,
        "at_risk": 4,
    }
    # Commune A Mú Sung: school AMS alone for submissions and attendance (21 absent of 545);
    # students whose home is there: S1-S4 dropouts, S8 returned, S5 S6 S7 at risk (S10 lives in Y Tý).
    assert rows[("commune", "A Mú Sung")] == {
        "report_date": REPORT_DATE,
        "scope": "commune",
        "scope_key": "A Mú Sung",
        "reporting_unit": "BAT_XAT",
        "schools_expected": 1,
        "submissions_on_time": 2,
        "submissions_late": 0,
        "submissions_missing": 0,
        "submissions_rejected": 0,
        "enrolled": 54,
        "attendance_rate": pytest.approx(1 - 21 / 545),
        "dropouts_open": 4,
        "dropouts_new": 1,
        "dropouts_summer": 1,
        "dropouts_hk1": 1,
        "dropouts_hk2": 1,
        "dropouts_after_tet": 1,
        "left_locality": 1,
        "in_locality": 1,
        "unverified": 2,
        "eligible_to_continue": 3,
        "not_eligible": 1,
        "returned": 1,
        "at_risk": 3,
    }
    # Levels: TH = the four TH&THCS schools (8 school-weeks: AMS 2 + ALU 1 on time, ALU late,
    # NTH and NPU missing), class 1A only, dropout S3, returned S8.
    th = rows[("level", "TH")]
    assert [
        th[c] for c in ("schools_expected", "submissions_on_time", "submissions_late", "submissions_missing")
    ] == [
        4,
        3,
        1,
        4,
    ]
    assert (th["enrolled"], th["attendance_rate"]) == (25, pytest.approx(1 - 6 / 250))
    assert (th["dropouts_open"], th["dropouts_hk1"], th["returned"], th["at_risk"]) == (1, 1, 1, 0)
    thcs, thpt = rows[("level", "THCS")], rows[("level", "THPT")]
    assert (thcs["schools_expected"], thcs["dropouts_open"], thcs["at_risk"], thcs["dropouts_new"]) == (
        11,
        5,
        4,
        2,
    )
    assert (thpt["schools_expected"], thpt["submissions_rejected"], thpt["dropouts_open"]) == (5, 1, 2)
    assert (thpt["enrolled"], thpt["not_eligible"], thpt["dropouts_summer"]) == (75, 1, 1)
    # Communes by alias: S10 wrote "Y Tí", S17 "TT Bát Xát".
    assert (rows[("commune", "Y Tý")]["at_risk"], rows[("commune", "Y Tý")]["dropouts_open"]) == (1, 1)
    assert rows[("commune", "Y Tý")]["submissions_missing"] == 2  # BX-YTY sent nothing in the fortnight
    assert rows[("commune", "Thị trấn Bát Xát")]["dropouts_summer"] == 1
    # Schools: YTY's 14 March list is still its latest; ALU's W1 dropout (S12) is not on its W2 list;
    # a school that sent nothing has a row of zeros.
    assert rows[("school", "BX-YTY")]["dropouts_open"] == 1
    assert rows[("school", "BX-YTY")]["returned"] == 0
    assert (rows[("school", "BX-ALU")]["dropouts_open"], rows[("school", "BX-ALU")]["dropouts_new"]) == (1, 1)
    assert rows[("school", "BX-AMS")]["at_risk"] == 4
    dth = rows[("school", "BX-DTH")]
    assert (dth["schools_expected"], dth["submissions_missing"], dth["enrolled"], dth["dropouts_open"]) == (
        1,
        2,
        None,
        0,
    )
    # One row per scope: district, 3 levels, the 21 communes valid on 4 April and "Chưa xác định
    # xã" (the two schools the reference has no commune for), 14 schools.
    assert sorted({s for s, _ in rows}) == ["commune", "district", "level", "school"]
    assert len(rows) == 1 + 3 + 21 + 1 + 14
    unknown = rows[("commune", UNKNOWN_COMMUNE)]
    assert unknown["schools_expected"] == sum(
        ref_school.commune is None for ref_school in load_reference().schools.values()
    )
    communes = [r for (scope, _), r in rows.items() if scope == "commune"]
    for column in (
        "schools_expected",
        "submissions_on_time",
        "submissions_missing",
        "enrolled",
        "dropouts_open",
    ):
        assert sum(r[column] or 0 for r in communes) == rows[("district", "BAT_XAT")][column], column
    assert result["rows"] == len(rows)

    # A school's account that disagrees with the calendar: AMS (S3 eligibility; S4 reason and
    # eligibility) and THPT2 (S17 before the previous year) are warned by email, nobody else.
    with engine_for(loaded.warehouse_url).connect() as conn:
        warnings = conn.execute(
            text("SELECT recipients, body_text FROM ops.email_outbox WHERE kind = 'calendar_warning'")
        ).all()
    ref = load_reference()
    assert sorted(r.recipients for r in warnings) == sorted(
        [ref.schools["BX-AMS"].email, ref.schools["BX-THPT2"].email]
    )
    ams = next(r.body_text for r in warnings if r.recipients == ref.schools["BX-AMS"].email)
    assert ams.count("lớp 6A") == 2
    assert ams.count("lớp 1A") == 1
    assert "sau Tết" in ams
    assert "học kỳ II (trước Tết)" in ams
    for r in warnings:  # class and row identify a case; names and typed reasons stay out
        assert not [n for n, s in S.items() if str(s["full_name"]) in r.body_text]
        assert str(S[4]["reason"]) not in r.body_text

    # Rerun: same rows, no new email.
    before = summary_rows(loaded.warehouse_url)
    again = publish(loaded)
    assert summary_rows(loaded.warehouse_url) == before
    assert again["calendar_warnings"]["emails_queued"] == 0  # type: ignore[index]


def test_threshold_is_configuration_and_reports_are_kept_per_date(loaded: Settings) -> None:
    publish(replace(loaded, eligibility_max_sessions=55))
    district = summary_rows(loaded.warehouse_url)[("district", "BAT_XAT")]
    # Only S13 (60 sessions) is above 55; S2 (50) is eligible again.
    assert (district["not_eligible"], district["eligible_to_continue"]) == (1, 7)

    # The report of 21 March (weeks ending 14 and 21 March) reads the lists of that time:
    # AMS 21 Mar (S7 only), YTY 14 Mar (S15 dropout; S16 back, on a list inside that fortnight).
    earlier = date(2025, 3, 21)
    report.flag_students_at_risk(loaded, earlier)
    report.publish_fortnight_summary(loaded, earlier)
    then = summary_rows(loaded.warehouse_url, earlier)[("district", "BAT_XAT")]
    assert (then["dropouts_open"], then["returned"], then["dropouts_after_tet"]) == (1, 1, 1)
    assert summary_rows(loaded.warehouse_url)[("district", "BAT_XAT")]["dropouts_open"] == 8


def test_a_child_on_two_schools_dropout_lists_counts_once_in_the_totals(
    tmp_path: Path, sqlite_url: str
) -> None:
    """The same child (same personal ID) listed as a dropout by BX-AMS and BX-ALU: the district,
    its level and its home commune count it once, and so do the schools' rows together (one of
    the two schools carries it, so every scope still adds up); both schools are warned."""
    from tests.fortnight_scenario import drops, student

    twice = {**student(19, 6, "6A", "bo_hoc", 10, first_day=date(2025, 3, 3), reason="Kinh tế")}
    twice["personal_id"] = "011213001234"  # born 2013, male: digits 4-6 are 213
    changed = []
    # (BX-AMS's file of the week after the report is left out: its latest list is the report's.)
    for d in (d for d in drops() if d.name != "ams-0411.xlsx"):
        both = (d.week.school_code, d.name) in {("BX-AMS", "ams-0404.xlsx"), ("BX-ALU", "alu-0404.xlsx")}
        changed.append(replace(d, week=replace(d.week, students=[*d.week.students, twice])) if both else d)
    settings = Settings(
        inbox=tmp_path / "inbox", work_dir=tmp_path / "work", warehouse_url=sqlite_url, settle_seconds=0
    )
    # BX-ALU's file comes in a later run than BX-AMS's.
    alu = [d for d in changed if d.name == "alu-0404.xlsx"]
    write_drops(load_reference(), settings.inbox, [d for d in changed if d not in alu])
    prepare_warehouse(settings)
    assert collect_new_files(settings)["accepted"] == 8
    write_drops(load_reference(), settings.inbox, alu)
    assert collect_new_files(settings)["accepted"] == 1
    insert_verdicts(sqlite_url)
    publish(settings)
    rows = summary_rows(sqlite_url)
    # Hand counts of test_summary_of_the_hand_built_fortnight, plus the one child.
    assert rows[("district", "BAT_XAT")]["dropouts_open"] == 8 + 1
    assert rows[("level", "THCS")]["dropouts_open"] == 5 + 1
    assert (
        rows[("commune", "A Mú Sung")]["dropouts_open"]
        == sum(1 for n in (1, 2, 3, 4) if S[n]["commune"] == "A Mú Sung") + 1
    )
    schools = rows[("school", "BX-AMS")]["dropouts_open"] + rows[("school", "BX-ALU")]["dropouts_open"]
    assert schools == 4 + 1 + 1
    assert sum(v["dropouts_open"] for (scope, _), v in rows.items() if scope == "school") == 8 + 1
    # The school that listed the child second was warned, and the first school told with it.
    with engine_for(sqlite_url).connect() as conn:
        warned = conn.execute(
            text(
                "SELECT s.school_code FROM ops.submission_issue i JOIN ops.submission s USING (submission_id)"
                " WHERE i.rule = 'dropout_listed_elsewhere'"
            )
        ).all()
        recipients = (
            conn.execute(
                text("SELECT recipients FROM ops.email_outbox WHERE kind = 'accepted_with_warnings'")
            )
            .scalars()
            .all()
        )
    assert [r[0] for r in warned] == ["BX-ALU"]
    ref = load_reference()
    ams, alu = ref.school("BX-AMS"), ref.school("BX-ALU")
    assert ams is not None
    assert alu is not None
    assert any(alu.email in r and ams.email in r for r in recipients)
