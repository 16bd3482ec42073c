"""A run's outcome in one line on the grid: tasks say it, the scheduler writes it as the run note.

A task cannot write its run's note itself (Airflow 3's execution API has no endpoint for it and
tasks have no metadata-database access), so a task pushes its line as an XCom under
`NOTE_KEY`, and a listener in the scheduler (`run_note_listener`, registered by
`plugins/chuyencan_operations.py`) joins the lines into the note when the run ends, success or
failure. A note someone typed in the UI is never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

NOTE_KEY = "chuyencan_run_note"
# The grid shows a note's first line: what went wrong first, then the run's outcome, then details.
TIERS = ("alert", "headline", "detail")
NOTE_KEYS = {tier: f"{NOTE_KEY}_{tier}" for tier in TIERS}
NOTE_MAX = 1000  # dag_run_note.content is VARCHAR(1000)
_SEP = " · "


def add_to_run_note(line: str, tier: str = "detail") -> None:
    """From inside a task: this line goes into the run's note (and stays as an XCom). `tier`
    orders the lines: "alert" (why the run is red), "headline" (the outcome), "detail"."""
    from airflow.sdk import get_current_context

    get_current_context()["ti"].xcom_push(key=NOTE_KEYS[tier], value=line)


def note_files_collected(summary: Mapping[str, object]) -> None:
    """The collection's line of the run note (weekly and fortnightly runs), when it took files."""
    if summary.get("accepted") or summary.get("rejected"):
        weeks = summary.get("weeks")
        listed = ", ".join(str(w) for w in weeks) if isinstance(weeks, list) else ""
        add_to_run_note(
            f"files: {summary['accepted']} accepted, {summary['rejected']} rejected (weeks {listed or '-'})"
        )


def note_no_contact(recipients: Sequence[str]) -> None:
    """The run-note line naming recipients nobody could tell ('school BX-NPU', 'office
    NOI_VU_BAT_XAT'): they need a row in include/reference/contacts.csv."""
    if recipients:
        add_to_run_note(
            codes("NO CONTACT in include/reference/contacts.csv, not told:", list(recipients)),
            tier="headline",
        )


def note_deliveries(summary: Mapping[str, object]) -> None:
    """The run-note lines of a step that delivered documents (`chuyencan.core.delivery.summarise`)."""
    add_to_run_note(
        f"deliveries: {summary.get('delivered', 0)} new, {summary.get('unchanged', 0)} unchanged, "
        f"{summary.get('notices', 0)} recipients told"
    )
    no_contact = summary.get("no_contact")
    note_no_contact(list(no_contact) if isinstance(no_contact, list) else [])


def compose_note(lines: Iterable[str], *, failed: bool) -> str:
    text = "\n".join(line.strip() for line in lines if line and line.strip())
    if failed:
        text = f"FAILED — {text}" if text else "FAILED — see the red task's log"
    if len(text) > NOTE_MAX:
        text = text[: NOTE_MAX - 1] + "…"
    return text


def codes(label: str, school_codes: Sequence[str], limit: int = 12) -> str:
    """'missing BX-THPT2, BX-GDTX' (at most `limit` codes, then '+N')."""
    shown = ", ".join(school_codes[:limit])
    more = len(school_codes) - limit
    return f"{label} {shown}" + (f" +{more}" if more > 0 else "")


def week_note(week: str, counts: Mapping[str, int], by_status: Mapping[str, Sequence[str]]) -> str:
    """'week 2025-04-04: 12/14 on time · late BX-DTH · missing BX-THPT2 · rejected BX-GDTX'."""
    expected = sum(counts.values())
    parts = [f"week {week}: {counts.get('on_time', 0)}/{expected} on time"]
    for status, label in (("late", "late"), ("missing", "missing"), ("rejected", "rejected")):
        if by_status.get(status):
            parts.append(codes(label, list(by_status[status])))
    return _SEP.join(parts)
