"""The bad-input corpus (tests/bad_input) through the real intakes.

One collection run takes every school case and one police intake run every police case, on
SQLite (module fixture); a subset runs again on PostgreSQL, and the nastiest through Airflow's
`dag.test()`. Per case: the outcome and the exact rules, the Vietnamese report beside every
quarantined copy, the school's (or district's) email naming the problem, loaded rows in the
warehouse exactly once, and the inbox byte-for-byte and time-for-time as the sender left it.

docs/bad-input-corpus.md is the table of this run; `test_docs_table_is_current` compares it
(regenerate with `CHUYENCAN_WRITE_CORPUS_DOC=1 .venv/bin/python -m pytest tests/test_bad_input_corpus.py`).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chuyencan.core.reference import load_reference
from chuyencan.core.settings import Settings
from chuyencan.police.pipeline import load_police_extracts
from chuyencan.submissions.pipeline import (
    collect_new_files,
    engine_for,
    prepare_warehouse,
    send_emails,
    write_templates,
)
from chuyencan_dev.mail_sink import SmtpSink
from tests import helpers
from tests.bad_input import harness
from tests.bad_input.harness import Observed
from tests.bad_input.hostile_cases import PHOTOS, police_hostile_cases, school_hostile_cases
from tests.bad_input.police_cases import police_cases
from tests.bad_input.school_cases import (
    HISTORY_WEEK,
    INJECTION_CLASS,
    NOW,
    Case,
    finish_growing,
    history,
    school_cases,
)
from tests.helpers import digest_tree, query

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad-input-corpus.md"
DISTRICT = "pgd.batxat@example.org"
HOSTILE_SCHOOL_CASES = school_hostile_cases()
HOSTILE_POLICE_CASES = police_hostile_cases()
SCHOOL_CASES = school_cases() + HOSTILE_SCHOOL_CASES
POLICE_CASES = police_cases() + HOSTILE_POLICE_CASES
ALL_CASES = SCHOOL_CASES + POLICE_CASES
SETTLE = 60
# Letters only Vietnamese uses: a message without any is missing its diacritics.
VIETNAMESE = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


@dataclass
class CorpusRun:
    settings: Settings
    observed: dict[str, Observed]
    inbox_before: dict[str, Any]
    inbox_after: dict[str, Any]
    reruns: list[dict[str, Any]]
    follow_up: dict[str, Any]
    mails: list[email.message.EmailMessage]
    templates: Path
    extra: dict[str, Any] = field(default_factory=dict)


def make_settings(root: Path, url: str) -> Settings:
    return Settings(
        inbox=root / "inbox",
        police_inbox=root / "police_inbox",
        work_dir=root / "work",
        warehouse_url=url,
        district_emails=(DISTRICT,),
        reference_dir=harness.corpus_reference(root / "reference"),
        settle_seconds=SETTLE,
    )


def load_history(settings: Settings) -> None:
    """Accepted earlier weeks, so 'far from the school's usual' has a usual."""
    ref = load_reference(settings.reference_dir)
    assert ref is not None
    moment = datetime.combine(HISTORY_WEEK, datetime.min.time(), tzinfo=NOW.tzinfo) + timedelta(hours=9)
    for wb, school in history():
        path = wb.save(settings.inbox / school / "_tuan_truoc" / "bao cao.xlsx")
        os.utime(path, (moment.timestamp(),) * 2)
    summary = collect_new_files(settings, now=moment + timedelta(hours=3))
    assert summary["accepted"] == len(history()), summary


def run_corpus(
    settings: Settings, school: list[Case], police: list[Case]
) -> tuple[dict[str, Observed], dict]:
    assert settings.police_inbox is not None
    placed = harness.place(school, settings.inbox, NOW)
    placed_police = harness.place(police, settings.police_inbox, NOW, police=True)
    before = {
        "school": digest_tree(settings.inbox),
        "police": digest_tree(settings.police_inbox),
    }
    collect_new_files(settings, now=NOW)
    load_police_extracts(settings, now=NOW)
    engine = engine_for(settings.warehouse_url)
    observed = harness.observe(engine, school, placed, settings.inbox, now=NOW, settle_seconds=SETTLE)
    observed |= harness.observe(
        engine, police, placed_police, settings.police_inbox, now=NOW, settle_seconds=SETTLE, police=True
    )
    return observed, before


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    root = tmp_path_factory.mktemp("corpus")
    settings = make_settings(root, f"sqlite:///{root / 'warehouse' / 'warehouse.db'}")
    engine_for.cache_clear()
    prepare_warehouse(settings)
    load_history(settings)
    observed, before = run_corpus(settings, SCHOOL_CASES, POLICE_CASES)
    # The same runs again find nothing new.
    reruns = [collect_new_files(settings, now=NOW), load_police_extracts(settings, now=NOW)]
    assert settings.police_inbox is not None
    after = {
        "school": digest_tree(settings.inbox),
        "police": digest_tree(settings.police_inbox),
    }
    # The file that was still being copied is complete a little later, and the next run takes it.
    growing = observed["growing_file"].paths[0]
    finish_growing(growing)
    later = NOW + timedelta(minutes=3)
    os.utime(growing, ((NOW + timedelta(seconds=30)).timestamp(),) * 2)
    follow_up = collect_new_files(settings, now=later)
    follow_up["growing"] = harness.observe(
        engine_for(settings.warehouse_url),
        [observed["growing_file"].case],
        {"growing_file": [growing]},
        settings.inbox,
        now=later,
        settle_seconds=SETTLE,
    )["growing_file"]
    with SmtpSink(root / "mail") as sink:
        saved = os.environ.get("AIRFLOW_CONN_SMTP_DEFAULT")
        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": sink.port,
                "extra": {"disable_ssl": True, "disable_tls": True},
            }
        )
        try:
            from chuyencan.orchestration.smtp import airflow_smtp_sender

            send_emails(settings, airflow_smtp_sender())
        finally:
            if saved is None:
                os.environ.pop("AIRFLOW_CONN_SMTP_DEFAULT")
            else:
                os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = saved
        mails = sink.messages()
    write_templates(settings, date(2025, 3, 28))
    run = CorpusRun(
        settings, observed, before, after, reruns, follow_up, mails, settings.templates_dir / "2025-03-28"
    )
    if os.environ.get("CHUYENCAN_WRITE_CORPUS_DOC") == "1":
        DOC.write_text(render_table(observed), encoding="utf-8")
    return run


def body(message: email.message.EmailMessage) -> str:
    return re.sub(r"\s+", " ", helpers.body(message, prefer=("plain", "html")))


def passed(obs: Observed) -> bool:
    return obs.outcome == obs.case.outcome and obs.rules == obs.case.rules


# --- every case ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_case_outcome_and_rules(corpus: CorpusRun, case: Case) -> None:
    obs = corpus.observed[case.id]
    assert (obs.outcome, obs.rules) == (case.outcome, case.rules)


@pytest.mark.parametrize("case", [c for c in ALL_CASES if "quarantined" in c.outcome], ids=lambda c: c.id)
def test_quarantined_case_has_its_reason_in_vietnamese(corpus: CorpusRun, case: Case) -> None:
    obs = corpus.observed[case.id]
    for stored, path in zip(obs.stored, obs.paths, strict=True):
        report, issues = harness.error_report(stored)
        if harness.copy_kept(stored):
            assert stored.read_bytes() == path.read_bytes()  # the copy is the file as sent
        else:
            # Over the size limit, unreadable, a link out: no copy; the original stays in the inbox.
            assert not stored.exists()
            assert path.is_symlink() or path.exists()
            assert "Không lưu bản sao" in report
        errors = [i for i in issues if i["severity"] == "error"]
        assert {i["rule"] for i in errors} == set(case.rules)
        for issue in errors:
            assert issue["message"] in report
            assert issue["fix"] in report
            assert VIETNAMESE & set(issue["message"].lower()), issue["rule"]
            assert unicodedata.is_normalized("NFC", issue["message"])
        assert "Cách sửa" in report


@pytest.mark.parametrize("case", [c for c in SCHOOL_CASES if "quarantined" in c.outcome], ids=lambda c: c.id)
def test_each_quarantined_school_is_emailed_its_problem(corpus: CorpusRun, case: Case) -> None:
    ref = load_reference(corpus.settings.reference_dir)
    school = ref.school(case.school)
    assert school is not None
    assert school.email
    _, issues = harness.error_report(corpus.observed[case.id].stored[0])
    first = next(i for i in issues if i["severity"] == "error")
    to_school = [body(m) for m in corpus.mails if school.email in str(m["To"])]
    assert any(first["message"] in b for b in to_school), case.id


@pytest.mark.parametrize("case", [c for c in POLICE_CASES if "quarantined" in c.outcome], ids=lambda c: c.id)
def test_each_quarantined_extract_is_reported_to_the_district(corpus: CorpusRun, case: Case) -> None:
    _, issues = harness.error_report(corpus.observed[case.id].stored[0])
    first = next(i for i in issues if i["severity"] == "error")
    to_district = [body(m) for m in corpus.mails if m["To"] == DISTRICT]
    assert any(first["message"] in b for b in to_district), case.id


@pytest.mark.parametrize(
    "case", [c for c in SCHOOL_CASES if c.outcome.startswith("loaded")], ids=lambda c: c.id
)
def test_loaded_case_is_in_the_warehouse_exactly_once(corpus: CorpusRun, case: Case) -> None:
    obs = corpus.observed[case.id]
    (submission_id,) = obs.ids  # one file stored, whatever the number of copies
    rows = query(
        corpus.settings.warehouse_url,
        "SELECT s.school_code, s.week_ending, c.class_count, cur.submission_id AS current_id "
        "FROM ops.submission s "
        "JOIN (SELECT submission_id, COUNT(*) AS class_count FROM ops.class_attendance GROUP BY submission_id) c "
        "  ON c.submission_id = s.submission_id "
        "LEFT JOIN ops.current_submission cur ON cur.school_code = s.school_code AND cur.week_ending = s.week_ending "
        "WHERE s.submission_id = :id",
        id=submission_id,
    )
    assert len(rows) == 1
    school, week, classes, current = rows[0]
    assert (school, date.fromisoformat(str(week)[:10]), classes) == (case.school, case.week, case.classes)
    assert current == submission_id
    (reported,) = query(
        corpus.settings.warehouse_url,
        "SELECT SUM(classes) FROM report.attendance_weekly WHERE school_code = :s AND week_ending = :w",
        s=case.school,
        w=case.week,
    )
    assert reported[0] == case.classes


# --- the run as a whole --------------------------------------------------------------------------


def test_the_inboxes_are_never_altered(corpus: CorpusRun) -> None:
    assert corpus.inbox_after == corpus.inbox_before


def test_a_rerun_finds_nothing_new(corpus: CorpusRun) -> None:
    school, police = corpus.reruns
    assert (school["accepted"], school["rejected"]) == (0, 0)
    assert (police["accepted"], police["rejected"]) == (0, 0)


def test_the_growing_file_loads_once_the_copy_is_complete(corpus: CorpusRun) -> None:
    assert corpus.follow_up["accepted"] == 1
    assert corpus.follow_up["rejected"] == 0
    assert corpus.follow_up["growing"].outcome == "loaded"


def test_a_date_like_07_03_is_day_first(corpus: CorpusRun) -> None:
    (submission_id,) = corpus.observed["date_ambiguous_ddmm"].ids
    (row,) = query(
        corpus.settings.warehouse_url,
        "SELECT week_ending FROM ops.submission WHERE submission_id = :i",
        i=submission_id,
    )
    assert str(row[0])[:10] == "2025-03-07"


def test_formula_like_text_is_kept_as_text_and_never_written_back_as_a_formula(corpus: CorpusRun) -> None:
    import openpyxl

    (submission_id,) = corpus.observed["formula_injection"].ids
    names = {
        r[0]
        for r in query(
            corpus.settings.warehouse_url,
            "SELECT class_name FROM ops.class_attendance WHERE submission_id = :i",
            i=submission_id,
        )
    }
    assert INJECTION_CLASS in names
    # Next week's template is prefilled with the school's classes: the name must stay text.
    (template,) = [p for p in corpus.templates.glob("*.xlsx") if "BX-NPU" in p.name]
    cells = [c for ws in openpyxl.load_workbook(template).worksheets for row in ws.iter_rows() for c in row]
    injected = [c for c in cells if c.value == INJECTION_CLASS]
    assert injected
    assert all(c.data_type == "s" for c in injected)


def test_control_characters_are_not_stored(corpus: CorpusRun) -> None:
    (submission_id,) = corpus.observed["control_characters"].ids
    texts = [
        v
        for r in query(
            corpus.settings.warehouse_url,
            "SELECT village, destination, reason_text, class_name FROM restricted.student_entry WHERE submission_id = :i "
            "UNION ALL SELECT class_name, NULL, NULL, NULL FROM ops.class_attendance WHERE submission_id = :i",
            i=submission_id,
        )
        for v in r
        if isinstance(v, str)
    ]
    assert texts
    assert not [t for t in texts if re.search(r"[\x00-\x1f\x7f]", t)]


def test_a_newer_round_of_a_commune_supersedes_the_older(corpus: CorpusRun) -> None:
    older, newer = corpus.observed["p_two_rounds"].ids
    rows = query(
        corpus.settings.warehouse_url,
        "SELECT extract_id FROM ops.police_extract_current WHERE commune = :c",
        c="Dền Thàng",
    )
    assert [r[0] for r in rows] == [newer]
    assert older != newer


def test_docs_table_is_current(corpus: CorpusRun) -> None:
    assert all(passed(o) for o in corpus.observed.values())
    assert DOC.read_text(encoding="utf-8") == render_table(corpus.observed)


def test_the_corpus_is_big_enough_and_ids_are_unique() -> None:
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES) >= 135
    assert len(HOSTILE_SCHOOL_CASES) + len(HOSTILE_POLICE_CASES) >= 40


# --- hostile input (issue 10) --------------------------------------------------------------------


def test_every_good_case_loaded_in_the_run_that_held_every_hostile_file(corpus: CorpusRun) -> None:
    """The corpus is one run: each hostile file was 'one among good ones', and the good ones
    loaded in that same run."""
    hostile = [corpus.observed[c.id] for c in HOSTILE_SCHOOL_CASES + HOSTILE_POLICE_CASES]
    good = [o for o in corpus.observed.values() if o.case.outcome.startswith("loaded")]
    assert all(passed(o) for o in hostile)
    assert len(good) >= 30
    assert all(passed(o) and o.ids for o in good)


def test_nothing_is_written_outside_the_work_dir_and_folders_come_from_known_codes(corpus: CorpusRun) -> None:
    root = corpus.settings.work_dir.parent
    assert sorted(p.name for p in root.iterdir()) == [
        "inbox",
        "mail",
        "outside",
        "police_inbox",
        "reference",
        "warehouse",
        "work",
    ]
    assert not [p for p in root.rglob("*") if "escaped" in p.name.lower()]
    ref = load_reference(corpus.settings.reference_dir)
    for top in ("archive", "quarantine"):
        names = {p.name for p in (corpus.settings.work_dir / top).iterdir()}
        assert names <= set(ref.schools) | {"_unknown"}, names
    for path in corpus.settings.work_dir.rglob("*"):
        name = path.name
        assert len(name.encode("utf-8")) <= 200, name
        assert name.isprintable(), name
    # Nothing was left half-copied or marked as being read.
    assert not list((corpus.settings.work_dir / "incoming").rglob("*.copy"))
    assert not list(corpus.settings.work_dir.rglob("*.reading"))


def test_a_folder_of_photos_makes_one_email(corpus: CorpusRun) -> None:
    ref = load_reference(corpus.settings.reference_dir)
    school = ref.school("BX-THPT2")
    assert school is not None
    about_photos = [body(m) for m in corpus.mails if school.email in str(m["To"]) and "IMG_0000" in body(m)]
    assert len(about_photos) == 1
    assert all(f"IMG_{i:04d}" in about_photos[0] for i in range(PHOTOS))


def test_a_file_speaking_for_another_school_is_held_and_told_to_both_and_the_district(
    corpus: CorpusRun,
) -> None:
    ref = load_reference(corpus.settings.reference_dir)
    ams, dth = ref.school("BX-AMS"), ref.school("BX-DTH")
    assert ams is not None
    assert dth is not None
    (submission_id,) = corpus.observed["other_schools_folder"].ids
    told = [m for m in corpus.mails if "BX-AMS" in body(m) and "BX-DTH" in body(m) and "thư mục" in body(m)]
    assert told
    recipients = str(told[0]["To"])
    assert ams.email in recipients
    assert dth.email in recipients
    assert DISTRICT in recipients
    # BX-DTH's week is still the one BX-DTH sent.
    (current,) = query(
        corpus.settings.warehouse_url,
        "SELECT submission_id FROM ops.current_submission WHERE school_code = 'BX-DTH' AND week_ending = :w",
        w=date(2025, 3, 14),
    )
    assert current[0] != submission_id


def test_a_file_dated_in_the_future_is_received_at_the_run(corpus: CorpusRun) -> None:
    (submission_id,) = corpus.observed["dated_in_future"].ids
    (row,) = query(
        corpus.settings.warehouse_url,
        "SELECT received_at FROM ops.submission WHERE submission_id = :i",
        i=submission_id,
    )
    received = datetime.fromisoformat(str(row[0])).replace(tzinfo=None)
    assert received == NOW.astimezone(UTC).replace(tzinfo=None)


def test_files_over_the_limit_are_recorded_with_their_size_and_never_copied(corpus: CorpusRun) -> None:
    (submission_id,) = corpus.observed["sparse_2gib"].ids
    (row,) = query(
        corpus.settings.warehouse_url,
        "SELECT file_size, stored_path FROM ops.submission WHERE submission_id = :i",
        i=submission_id,
    )
    assert row[0] == 2 * 1024**3
    assert not Path(row[1]).exists()
    (extract,) = corpus.observed["p_sparse_1gib_csv"].stored
    assert not extract.exists()


# --- the docs table ------------------------------------------------------------------------------


def render_table(observed: dict[str, Observed]) -> str:
    def rules(r: tuple[str, ...]) -> str:
        return ", ".join(f"`{x}`" for x in r) or "—"

    lines = [
        "# Bad-input corpus",
        "",
        "Generated by `tests/test_bad_input_corpus.py` from its run of every case through the real",
        "intakes (do not edit by hand; regenerate with",
        "`CHUYENCAN_WRITE_CORPUS_DOC=1 .venv/bin/python -m pytest tests/test_bad_input_corpus.py`).",
        "Each file is built by code (`tests/bad_input/`), dropped into an inbox, and collected with",
        "the other cases in one run (school files: `collect_new_files`, police extracts:",
        "`load_police_extracts`) on SQLite; a subset also runs on PostgreSQL and through the weekly",
        "DAG with `dag.test()`. Expected outcomes and rules come from the contracts",
        "([§3](contracts.md#3-school-weekly-submission), [§4](contracts.md#4-police-extract)) and",
        "[the rules catalogue](validation-rules.md); *observed* is read back from the warehouse.",
        "A quarantined file's reasons are in Vietnamese in `<file>.errors.txt` beside its copy and in",
        "the email to the school (police extracts: to the district).",
        "",
        f"{len(observed)} cases, {sum(passed(o) for o in observed.values())} pass.",
        "",
        "| # | case | intake | what | expected | rules | observed | observed rules | pass |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n, obs in enumerate(observed.values(), start=1):
        c = obs.case
        intake = "police" if "police" in c.tags else "school"
        lines.append(
            f"| {n} | `{c.id}` | {intake} | {c.what.replace('|', '/')} | {c.outcome} | {rules(c.rules)} "
            f"| {obs.outcome} | {rules(obs.rules)} | {'yes' if passed(obs) else '**NO**'} |"
        )
    return "\n".join(lines) + "\n"


# --- PostgreSQL, and the weekly DAG --------------------------------------------------------------


def test_a_subset_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    school = [c for c in SCHOOL_CASES if "postgres" in c.tags]
    police = [c for c in POLICE_CASES if "postgres" in c.tags]
    settings = make_settings(tmp_path, pg_url)
    engine_for.cache_clear()
    prepare_warehouse(settings)

    observed, before = run_corpus(settings, school, police)

    assert {k: (o.outcome, o.rules) for k, o in observed.items()} == {
        c.id: (c.outcome, c.rules) for c in school + police
    }
    assert settings.police_inbox is not None
    assert before == {
        "school": digest_tree(settings.inbox),
        "police": digest_tree(settings.police_inbox),
    }


@pytest.mark.airflow
def test_the_nastiest_cases_never_fail_the_weekly_dag(
    tmp_path: Path, sqlite_url: str, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import warehouse_conn
    from tests.test_dag_weekly import run_weekly

    nasty = [c for c in SCHOOL_CASES if "nasty" in c.tags]
    inbox = tmp_path / "inbox"
    settle = 600  # the growing file must still be settling when the DAG's collection runs
    for key, value in {
        "AIRFLOW_VAR_CHUYENCAN_INBOX": str(inbox),
        "AIRFLOW_VAR_CHUYENCAN_WORK_DIR": str(tmp_path / "work"),
        "AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL": DISTRICT,
        "AIRFLOW_VAR_CHUYENCAN_SETTLE_SECONDS": str(settle),
        "AIRFLOW_VAR_CHUYENCAN_MISSING_ALERT_SHARE": "1",  # most schools send nothing here
        "AIRFLOW_CONN_CHUYENCAN_WAREHOUSE": warehouse_conn(sqlite_url),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    engine_for.cache_clear()
    now = datetime.now(NOW.tzinfo)
    placed = harness.place(nasty, inbox, now)
    before = digest_tree(inbox)

    assert run_weekly(date(2025, 3, 21)) == "success"

    observed = harness.observe(
        engine_for(sqlite_url), nasty, placed, inbox, now=datetime.now(NOW.tzinfo), settle_seconds=settle
    )
    assert {k: (o.outcome, o.rules) for k, o in observed.items()} == {
        c.id: (c.outcome, c.rules) for c in nasty
    }
    assert digest_tree(inbox) == before
    # Every quarantined school's email is queued (no mail server here: they wait in the outbox).
    (queued,) = query(
        sqlite_url,
        "SELECT COUNT(*) FROM ops.email_outbox WHERE kind = 'rejection'",
    )
    # One email per school per run for files that cannot be read at all, so: every school with
    # a quarantined file is emailed, never more often than it has quarantined files.
    quarantined_schools = {c.school for c in nasty if c.outcome == "quarantined"}
    assert len(quarantined_schools) <= queued[0] <= sum(c.outcome == "quarantined" for c in nasty)
    ref = load_reference(
        Path(os.environ.get("AIRFLOW_VAR_CHUYENCAN_REFERENCE_DIR", ROOT / "include" / "reference"))
    )
    recipients = " ".join(
        r[0]
        for r in query(
            sqlite_url,
            "SELECT recipients FROM ops.email_outbox WHERE kind = 'rejection'",
        )
    )
    for code in quarantined_schools:
        school = ref.school(code)
        assert school is not None
        assert school.email in recipients, code
