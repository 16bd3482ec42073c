"""No child's personal data outside the restricted places, shown on a whole pipeline run.

One run per module, on sample data from the generator (`chuyencan_dev.synth`), reusing the demo's
building blocks (`scripts/demo.py`): four schools over two Fridays (28 March and 4 April 2025,
with broken files and corrections), the police extracts of their communes, and every DAG run
through Airflow's own `dag.test()` on SQLite with a real SMTP server on loopback:
`school_submissions_intake`, `school_submissions_weekly` (both Fridays), `police_extract_intake`,
`police_reconciliation` and `fortnightly_report` for 4 April.

Python logging is captured at DEBUG for every logger, and the process's stdout/stderr (where
`dag.test()` streams task logs) are captured too. Then every log line, every email (subject,
every part, attachments opened cell by cell), every file the pipeline wrote outside the
restricted places, and every row of every table in the `report`, `ref` and `ops` schemas is
searched for the sample's names, birth dates and personal IDs, taken from the generator's
truth files and the police extracts themselves. The restricted places are checked to be
restricted. A failure names the place and the kind of value, never the value.
"""

from __future__ import annotations

import csv
import email
import email.policy
import fnmatch
import io
import json
import logging
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import inspect, text

from chuyencan.core.reference import load_reference
from chuyencan.core.settings import TIMEZONE
from chuyencan.core.text import strip_diacritics
from chuyencan.submissions.pipeline import engine_for
from scripts.demo import _dag, _date_police_extracts, _deliver

pytestmark = pytest.mark.airflow

SEED = 11
FRIDAYS = (date(2025, 3, 28), date(2025, 4, 4))
REPORT_DATE = FRIDAYS[-1]
# Four schools, each mostly serving its own commune; a few of their students live in communes
# whose police did not send an extract (no police data), like real cross-commune enrolment.
SCHOOLS = ("BX-NPU", "BX-THCS-QK", "BX-ALU", "BX-YTY")
COMMUNE_FILES = ("Nam-Pung", "Quang-Kim", "A-Lu", "Y-Ty")
# Enough broken first attempts that some files are quarantined and schools are emailed why.
MISTAKE_RATE = 0.35
DISTRICT = "pgd.batxat@example.org"
ENGINEERS = "data.engineers@example.org"

# --- what personal data the sample holds ------------------------------------------------------------


def _words(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def casefolded(value: str) -> str:
    return _words(value).casefold()


def unaccented(value: str) -> str:
    return strip_diacritics(_words(value)).casefold()


_WORD = re.compile(r"\w+")
_SLASH_DATE = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
_UNACCENTED = " (without diacritics)"


@dataclass(repr=False)
class PersonalValues:
    """The sample's personal values, kept in the forms a leak could take.

    Names are matched as whole word sequences, case-insensitively, and (when at least three
    words long) also without diacritics. Two-word names are matched with their diacritics
    only: without them some read like ordinary words of the report ("Vàng Cở" is "vắng có").
    """

    names: dict[str, str] = field(default_factory=dict)  # casefolded name -> kind
    unaccented_names: dict[str, str] = field(default_factory=dict)
    birth_dates: set[date] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> how many values

    def __repr__(self) -> str:  # pytest prints objects of failed asserts: counts only
        return (
            f"PersonalValues({len(self.names)} names, {len(self.birth_dates)} birth dates, "
            f"{len(self.ids)} IDs, excluded {self.excluded})"
        )

    def add_name(self, value: str, kind: str, vocabulary: set[str]) -> None:
        name = casefolded(value)
        if len(name.split()) < 2:
            self._exclude("one-word name: an ordinary word or a place")
            return
        if unaccented(name) in vocabulary:
            # "Lù A Lù" reads the same as "… TH&THCS A Lù | A Lù …", a school beside its commune.
            self._exclude("reads as school or commune names side by side in a table")
            return
        self.names.setdefault(name, kind)
        if len(name.split()) >= 3:
            self.unaccented_names.setdefault(unaccented(name), kind)

    def add_birth_date(self, value: date | None) -> None:
        if value is None:
            return
        # Dates of the school year are the pipeline's own (weeks, file times, report dates).
        if value >= date(2024, 1, 1):
            self._exclude("birth date inside the school year: also an operational date")
            return
        self.birth_dates.add(value)

    def add_id(self, value: str) -> None:
        digits = re.sub(r"\D", "", value)
        if len(digits) == 12:
            self.ids.add(digits)

    def _exclude(self, reason: str) -> None:
        self.excluded[reason] = self.excluded.get(reason, 0) + 1

    @property
    def longest_name(self) -> int:
        return max(len(n.split()) for n in self.names)

    def find(self, text_: str) -> list[str]:
        """The kinds of personal value in the text (each kind once), never the values."""
        found: set[str] = set()
        for table, fold in ((self.names, casefolded), (self.unaccented_names, unaccented)):
            words = _WORD.findall(fold(text_))
            for size in range(2, self.longest_name + 1):
                for i in range(len(words) - size + 1):
                    kind = table.get(" ".join(words[i : i + size]))
                    if kind is not None:
                        found.add(kind if fold is casefolded else f"{kind}{_UNACCENTED}")
        for d, m, y in _SLASH_DATE.findall(text_):
            if _date(int(y), int(m), int(d)) in self.birth_dates:
                found.add("birth date (dd/mm/yyyy)")
        for y, m, d in _ISO_DATE.findall(text_):
            if _date(int(y), int(m), int(d)) in self.birth_dates:
                found.add("birth date (yyyy-mm-dd)")
        if any(v in self.ids for v in _TWELVE_DIGITS.findall(text_)):
            found.add("personal ID")
        # A name found with its diacritics is also found without them: say it once.
        return sorted(
            k for k in found if not (k.endswith(_UNACCENTED) and k.removesuffix(_UNACCENTED) in found)
        )


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def reference_vocabulary() -> set[str]:
    """Every word sequence found in a school or commune name, or across two of them side by
    side (tables put a school's name beside its commune), unaccented."""
    ref = load_reference()
    phrases = [s.name for s in ref.schools.values()] + [c.name for c in ref.communes]
    words = [unaccented(p).replace("&", " ").split() for p in phrases]
    vocabulary: set[str] = set()
    for first in words:
        for second in [[], *words]:
            joined = first + second
            for i in range(len(joined)):
                for j in range(i + 2, min(len(joined), i + 6) + 1):
                    vocabulary.add(" ".join(joined[i:j]))
    return vocabulary


def personal_values(sample: Path, schools: Iterable[str], police_files: Iterable[Path]) -> PersonalValues:
    """From the generator's truth (the students the delivered files list, with their parents)
    and from the police extracts delivered (every person of those household books)."""
    vocabulary = reference_vocabulary()
    values = PersonalValues()
    truth = sample / "truth"
    with (truth / "cases.csv").open(encoding="utf-8") as fh:
        listed = {r["student_id"] for r in csv.DictReader(fh) if r["school_code"] in set(schools)}
    with (truth / "students.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["student_id"] not in listed:
                continue
            values.add_name(r["full_name"], "student name", vocabulary)
            for parent in ("father_name", "mother_name", "household_head"):
                if r[parent]:
                    values.add_name(r[parent], "parent name", vocabulary)
            values.add_birth_date(date.fromisoformat(r["birth_date"]))
            values.add_id(r["personal_id"])
    for path in police_files:
        for row in _police_rows(path):
            for key in ("ho_ten", "chu_ho"):
                if row.get(key):
                    values.add_name(str(row[key]), "household record name", vocabulary)
            values.add_id(str(row.get("so_dinh_danh") or ""))
            born = row.get("ngay_sinh")
            if isinstance(born, datetime):
                values.add_birth_date(born.date())
            elif isinstance(born, str) and (m := _SLASH_DATE.fullmatch(born.strip())):
                values.add_birth_date(_date(int(m[3]), int(m[2]), int(m[1])))
    return values


def _police_rows(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield from csv.DictReader(fh)
        return
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = wb.worksheets[0].iter_rows(values_only=True)
    header = [str(h) for h in next(rows)]
    for row in rows:
        yield dict(zip(header, row, strict=False))
    wb.close()


# --- where text can be found --------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y} {value.isoformat()}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y} {value.isoformat()}"
    return "" if value is None else str(value)


def workbook_text(data: bytes) -> str:
    """Every cell of every sheet (values as written, formulas as text), and the raw XML parts
    (shared strings, comments, document properties), so nothing hides from the scan."""
    parts = []
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        parts.append(ws.title)
        for row in ws.iter_rows(values_only=True):
            parts.extend(cell_text(v) for v in row)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                parts.append(re.sub(r"<[^>]+>", " ", z.read(name).decode("utf-8", "replace")))
    return "\n".join(parts)


def email_places(message: email.message.EmailMessage, label: str) -> Iterator[tuple[str, str]]:
    yield f"{label} subject", str(message["Subject"])
    for n, part in enumerate(message.walk(), start=1):
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        name = part.get_filename()
        where = f"{label} part {n}" + (" (attachment)" if name else "")
        if name and name.endswith(".xlsx"):
            yield where, workbook_text(payload)
        else:
            yield where, payload.decode(part.get_content_charset() or "utf-8", "replace")


# --- the run ------------------------------------------------------------------------------------------


@dataclass(repr=False)
class Run:
    sample: Path
    work: Path
    inbox: Path
    police_inbox: Path
    mail: Path
    url: str
    airflow_home: Path
    values: PersonalValues
    log_records: list[str]
    console: str
    states: dict[str, str]
    started: float

    def __repr__(self) -> str:
        return f"Run({self.work}, {self.states})"


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record whose arguments cannot be formatted is still kept
            self.lines.append(f"{record.name} {record.msg!r} {record.args!r}")


@contextmanager
def console_captured(path: Path) -> Iterator[None]:
    """The process's file descriptors 1 and 2 into a file (Airflow's task logs go there)."""
    saved = [os.dup(1), os.dup(2)]
    with path.open("wb") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TIMEZONE).astimezone(UTC)


@pytest.fixture(scope="module")
def run(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    from chuyencan_dev.mail_sink import SmtpSink
    from chuyencan_dev.synth import generate

    base = tmp_path_factory.mktemp("personal-data")
    generated = base / "generated"
    generate(
        generated,
        seed=SEED,
        scale="district",
        first_week=FRIDAYS[0],
        last_week=FRIDAYS[-1],
        mistake_rate=MISTAKE_RATE,
    )
    # The sample's drops, limited to the chosen schools and communes (file times kept).
    sample, inbox, police_inbox, work, mail = (
        base / "sample",
        base / "inbox",
        base / "police_inbox",
        base / "work",
        base / "mail",
    )
    with (generated / "truth" / "files.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["school_code"] in SCHOOLS:
                target = sample / r["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(generated / r["path"], target)
    police_inbox.mkdir()
    police_files = [
        p for p in sorted((generated / "police_inbox").iterdir()) if p.stem.rsplit("_", 1)[0] in COMMUNE_FILES
    ]
    for p in police_files:
        shutil.copy2(p, police_inbox / p.name)
    _date_police_extracts(police_inbox)
    inbox.mkdir()
    values = personal_values(generated, SCHOOLS, police_files)
    url = f"sqlite:///{work / 'warehouse.db'}"

    env = {
        "AIRFLOW_VAR_CHUYENCAN_INBOX": str(inbox),
        "AIRFLOW_VAR_CHUYENCAN_POLICE_INBOX": str(police_inbox),
        "AIRFLOW_VAR_CHUYENCAN_WORK_DIR": str(work),
        "AIRFLOW_VAR_CHUYENCAN_DISTRICT_EMAIL": DISTRICT,
        "AIRFLOW_VAR_CHUYENCAN_ENGINEER_EMAIL": ENGINEERS,
        "AIRFLOW_VAR_CHUYENCAN_MISSING_ALERT_SHARE": "1",
        "AIRFLOW_CONN_CHUYENCAN_WAREHOUSE": json.dumps(
            {"conn_type": "sqlite", "host": str(work / "warehouse.db")}
        ),
    }
    keep = _Keep()
    root = logging.getLogger()
    states: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp, SmtpSink(mail) as sink:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT",
            json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": sink.port,
                    "extra": {"disable_ssl": True, "disable_tls": True},
                }
            ),
        )
        engine_for.cache_clear()
        level = root.level
        root.addHandler(keep)
        root.setLevel(logging.DEBUG)
        console = base / "console.log"
        import time

        started = time.time()
        try:
            with console_captured(console):
                _run_every_dag(sample, inbox, states, keep, root)
        finally:
            root.removeHandler(keep)
            root.setLevel(level)
            engine_for.cache_clear()
        yield Run(
            sample=sample,
            work=work,
            inbox=inbox,
            police_inbox=police_inbox,
            mail=mail,
            url=url,
            airflow_home=airflow_db,
            values=values,
            log_records=keep.lines,
            console=console.read_text(encoding="utf-8", errors="replace"),
            states=states,
            started=started,
        )
    engine_for.cache_clear()


def _run_every_dag(
    sample: Path, inbox: Path, states: dict[str, str], keep: _Keep, root: logging.Logger
) -> None:
    def test(dag_id: str, when: datetime) -> None:
        dag = _dag(dag_id)
        # dag.test() may reconfigure logging: keep our handler on the root at DEBUG throughout.
        if keep not in root.handlers:
            root.addHandler(keep)
        root.setLevel(logging.DEBUG)
        states[f"{dag_id} {when:%Y-%m-%d %H:%M}"] = str(dag.test(logical_date=when).state)

    first, last = FRIDAYS
    # Friday 28 March: the 08:00 reminders to schools whose file is not in, files dropped by 09:50
    # collected by the 10-minute intake, then the weekly run (with its not-received notices).
    _deliver(sample / "inbox", inbox, until=_at(first, 8))
    test("school_submission_reminders", _at(first, 8))
    _deliver(sample / "inbox", inbox, until=_at(first, 9, 50))
    test("school_submissions_intake", _at(first, 9, 50))
    _deliver(sample / "inbox", inbox, until=_at(first, 11))
    test("school_submissions_weekly", _at(first, 11))
    _deliver(sample / "inbox", inbox, until=_at(last, 11))
    test("school_submissions_weekly", _at(last, 11))
    test("police_extract_intake", _at(last, 11, 30))
    test("police_reconciliation", _at(last, 12))
    _deliver(sample / "inbox", inbox, until=datetime.max.replace(tzinfo=UTC))
    test("fortnightly_report", _at(last, 15))


# --- the tests ----------------------------------------------------------------------------------------


def test_every_dag_ran_and_produced_what_is_scanned(run: Run) -> None:
    """The scan below means something only if the run produced every kind of output."""
    assert set(run.states.values()) == {"success"}, run.states
    with engine_for(run.url).connect() as conn:
        outcomes = dict(conn.execute(text("SELECT outcome, COUNT(*) FROM ops.submission GROUP BY 1")).all())
        verdicts = conn.execute(text("SELECT COUNT(*) FROM restricted.case_verdict")).scalar_one()
    engine_for.cache_clear()
    assert outcomes.get("accepted", 0) >= len(SCHOOLS)
    assert outcomes.get("rejected", 0) >= 1
    assert verdicts > 0
    assert list((run.work / "quarantine").rglob("*.errors.txt"))
    assert list((run.work / "reports").glob("*.xlsx"))
    assert list(run.mail.glob("*.eml"))
    assert len(run.values.names) > 1000
    assert run.values.birth_dates
    assert run.values.ids
    # The false-positive guards leave out only a few values.
    assert sum(run.values.excluded.values()) < 0.02 * len(run.values.names), run.values.excluded


# --- the scan -----------------------------------------------------------------------------------------


def leaks(values: PersonalValues, places: Iterable[tuple[str, str]]) -> list[str]:
    """'<place>: <kinds>' for every place holding personal values (never the values)."""
    return [f"{place}: {', '.join(kinds)}" for place, text_ in places if (kinds := values.find(text_))]


def test_the_scanner_finds_what_it_looks_for(run: Run) -> None:
    """A planted name, birth date or ID in a log line is found, in every form it could take;
    the report's own vocabulary is not mistaken for a name."""
    values = run.values
    name = next(
        n
        for n, kind in values.names.items()
        if kind == "student name" and len(n.split()) >= 3 and unaccented(n) not in values.names
    )
    parent = next(n for n, kind in values.names.items() if kind == "parent name")
    born = min(values.birth_dates)
    pid = min(values.ids)
    # A logger of its own: the planted lines must not reach the console (nor the test output).
    logger = logging.getLogger("chuyencan.planted")
    keep = _Keep()
    logger.addHandler(keep)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.debug("case of %s, student %s", name.title(), "x")
        logger.info("%s", unaccented(name).upper())
        logger.warning("guardian: %s", parent.upper())
        logger.info("born %s", born.strftime("%d/%m/%Y"))
        logger.info("born %s", born.isoformat())
        logger.info("id=%s;", pid)
    finally:
        logger.removeHandler(keep)
    found = [values.find(line) for line in keep.lines]
    assert "student name" in found[0]
    assert found[1] == ["student name (without diacritics)"]
    assert "parent name" in found[2]
    assert found[3:] == [["birth date (dd/mm/yyyy)"], ["birth date (yyyy-mm-dd)"], ["personal ID"]]
    # In an email attachment too: the scan opens workbooks cell by cell.
    wb = openpyxl.Workbook()
    wb.active.cell(row=3, column=2, value=name.title())
    buffer = io.BytesIO()
    wb.save(buffer)
    assert values.find(workbook_text(buffer.getvalue())) == ["student name"]
    # Near misses are not leaks: a longer number, a date a day off, half a name.
    assert values.find(f"{pid}7 {born.replace(day=1 if born.day > 1 else 2):%d/%m/%Y}") == []
    assert values.find(" ".join(name.split()[:1])) == []
    # Every Vietnamese sentence the pipeline writes comes from its templates: none reads as a name.
    templates = Path(__file__).resolve().parents[1] / "include" / "templates"
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in templates.rglob("*") if p.is_file()]
    assert leaks(values, texts) == []


def test_no_personal_data_in_any_log_line(run: Run) -> None:
    # Our own lines are in the capture, so the capture works.
    assert any(line.startswith("chuyencan.police.verdicts ") for line in run.log_records)
    assert "verdicts recorded" in run.console or any("verdicts recorded" in r for r in run.log_records)
    places = [(f"log record {i}", line) for i, line in enumerate(run.log_records)]
    places += [(f"console line {i}", line) for i, line in enumerate(run.console.splitlines())]
    # dag.test() keeps task logs in the console; any task log files Airflow wrote count too.
    for path in (run.airflow_home / "logs").rglob("*"):
        if path.is_file() and path.stat().st_mtime >= run.started:
            places.append((f"Airflow log {path.name}", path.read_text(encoding="utf-8", errors="replace")))
    assert leaks(run.values, places) == []


def test_no_personal_data_in_what_tasks_hand_to_airflow(run: Run) -> None:
    """XComs (task return values) and Airflow's audit log live in Airflow's metadata DB, which
    anyone with UI access reads."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{run.airflow_home / 'airflow.db'}")
    since = datetime.fromtimestamp(run.started, UTC).replace(tzinfo=None)
    with engine.connect() as conn:
        xcoms = conn.execute(
            text("SELECT dag_id, task_id, value FROM xcom WHERE timestamp >= :t"), {"t": since}
        ).all()
        audit = conn.execute(text("SELECT event, extra FROM log WHERE dttm >= :t"), {"t": since}).all()
    engine.dispose()
    assert {x.task_id for x in xcoms} >= {"collect_new_files", "record_verdicts", "write_excel_report"}
    places = [(f"XCom of {x.dag_id}.{x.task_id}", str(x.value)) for x in xcoms]
    places += [(f"Airflow audit log {a.event}", str(a.extra)) for a in audit]
    assert leaks(run.values, places) == []


def _emails(run: Run) -> list[tuple[str, email.message.EmailMessage]]:
    return [
        (f"email {p.name} '{str(m['Subject'])[:40]}…'", m)
        for p in sorted(run.mail.glob("*.eml"), key=lambda p: int(p.stem))
        for m in [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)]
    ]


def test_no_personal_data_in_any_email(run: Run) -> None:
    mails = _emails(run)
    recipients = {str(m["To"]) for _, m in mails}
    ref = load_reference()
    # The district (weekly summaries, police counts, the report with its attachment) and schools.
    assert DISTRICT in recipients
    assert recipients & {ref.schools[c].email for c in SCHOOLS}
    assert any(m.get_filename() for _, msg in mails for m in msg.iter_attachments())
    places = [p for label, m in mails for p in email_places(m, label)]
    # The outbox keeps every email's text and HTML twins, sent or not.
    with engine_for(run.url).connect() as conn:
        outbox = conn.execute(text("SELECT * FROM ops.email_outbox")).mappings().all()
    engine_for.cache_clear()
    assert len(outbox) >= len(mails)
    places += [
        (f"ops.email_outbox row {r['email_id']} column {column}", cell_text(value))
        for r in outbox
        for column, value in r.items()
    ]
    assert leaks(run.values, places) == []


# Files that hold children's personal data by design, each only readable by the pipeline's user.
RESTRICTED_FILES = (
    "archive/*.xlsx",  # the schools' accepted files, as sent (any depth: fnmatch's * spans /)
    "quarantine/*.xlsx",  # the schools' rejected files, as sent
    "police/archive/*",  # the police extracts, as sent (deleted after retention)
    "police/quarantine/*",
    "police/review/*.xlsx",  # the district's review list of doubtful matches
    "reports/restricted/*.xlsx",  # principals' lists, communes' verification lists, the Home Affairs office's list
    "verification/*",  # the communes' returned lists, as sent
    "warehouse.restricted.db",
)
# Lists delivered into the recipients' folders on the share (docs/delivery.md): readable by the
# recipient's group (0640 in a 2750 folder), never by others.
SHARED_FILES = ("share/*",)
# Other warehouse files are read table by table below (a raw SQLite file keeps freed pages).
WAREHOUSE_FILES = ("warehouse.db", "warehouse.*.db", "warehouse.db.*")


def _matches(rel: Path, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(rel.as_posix(), p) for p in patterns)


def test_restricted_files_are_restricted(run: Run) -> None:
    files = [p for p in run.work.rglob("*") if p.is_file()]
    restricted = [p for p in files if _matches(p.relative_to(run.work), RESTRICTED_FILES)]
    kinds = {p.relative_to(run.work).parts[0] for p in restricted}
    assert kinds >= {"archive", "quarantine", "police", "reports", "warehouse.restricted.db"}
    assert (run.work / "police" / "review" / f"danh_sach_xac_minh_{REPORT_DATE}.xlsx") in restricted
    open_to_others = [
        str(p.relative_to(run.work)) for p in restricted if stat.S_IMODE(p.stat().st_mode) & 0o077
    ]
    assert open_to_others == []
    # Principals' lists and the review list also sit in folders only the owner may enter.
    for folder in (run.work / "reports" / "restricted", run.work / "police"):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, folder.name
    # Delivered lists: files and recipients' folders closed to others; the share's root and its
    # kind folders may be passed through (x), not listed.
    share = run.work / "share"
    delivered = [p for p in files if _matches(p.relative_to(run.work), SHARED_FILES)]
    assert any(p.relative_to(share).parts[0] == "commune" for p in delivered)  # verification lists
    # Each commune's return folder (nop_lai): its group writes there, others never enter.
    returns = list(share.glob("commune/*/nop_lai"))
    assert returns
    assert [p.parent.name for p in returns if stat.S_IMODE(p.stat().st_mode) & 0o007] == []
    closed = {*delivered, *(p.parent for p in delivered)}
    passed = {p.parent.parent for p in delivered} | ({share} if delivered else set())
    open_to_all = [str(p.relative_to(run.work)) for p in closed if stat.S_IMODE(p.stat().st_mode) & 0o007]
    open_to_all += [str(p.relative_to(run.work)) for p in passed if stat.S_IMODE(p.stat().st_mode) & 0o006]
    assert open_to_all == []


def test_no_personal_data_in_any_other_file_the_pipeline_wrote(run: Run) -> None:
    scanned: list[tuple[str, str]] = []
    for path in sorted(p for p in run.work.rglob("*") if p.is_file()):
        rel = path.relative_to(run.work)
        if _matches(rel, RESTRICTED_FILES) or _matches(rel, SHARED_FILES) or _matches(rel, WAREHOUSE_FILES):
            continue
        data = path.read_bytes()
        body = workbook_text(data) if path.suffix == ".xlsx" else data.decode("utf-8", "replace")
        scanned.append((f"file {rel}", body))
    names = {Path(place).suffix for place, _ in scanned}
    # The report and its twins, the quarantine's error reports and next week's templates.
    assert {".xlsx", ".md", ".html", ".txt", ".json"} <= names
    assert any("errors.txt" in place for place, _ in scanned)
    assert leaks(run.values, scanned) == []


def test_no_personal_data_in_report_ref_or_ops_tables(run: Run) -> None:
    """Only `restricted` may hold personal data; every row of every other schema is read."""
    engine = engine_for(run.url)
    places: list[tuple[str, str]] = []
    tables_seen: list[str] = []
    with engine.connect() as conn:
        for schema in ("report", "ref", "ops"):
            for table in inspect(conn).get_table_names(schema=schema):
                tables_seen.append(f"{schema}.{table}")
                for i, row in enumerate(conn.execute(text(f'SELECT * FROM {schema}."{table}"')).mappings()):
                    places.append(
                        (f"{schema}.{table} row {i}", " | ".join(cell_text(v) for v in row.values()))
                    )
    engine_for.cache_clear()
    assert {"report.fortnight_summary", "ops.submission", "ops.email_outbox"} <= set(tables_seen)
    assert len(places) > 100
    assert leaks(run.values, places) == []
