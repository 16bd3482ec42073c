"""Matching open cases one commune at a time, so the work fans out across workers.

Three steps, each one task of `police_reconciliation` (the middle one mapped per commune):

1. `plan_matching`: reads the open cases and the household records of every extract in effect
   once, encodes them (`matching.encode`, which also draws u over all communes) and keeps the
   result as a snapshot in the police work folder; returns the communes that have cases to match.
2. `match_commune`: the candidates of one commune's cases (blocking, comparison, the rough
   ranking: the bulk of the matcher's time) against every household record, written next to the
   snapshot.
3. `decide_matches`: every commune's candidates together, the model (m from ID-confirmed pairs),
   posteriors and decisions, written to `restricted.case_match` in one transaction.

The answer is the one `match_step.match_open_cases` gives in one call: a case's candidates depend
on the case and the household records alone, and what depends on all cases (u, m, the term
frequencies, one record for one student) is computed over all of them in steps 1 and 3. Every
household record stays a candidate for every commune because a personal ID can point to a record
in another commune. A commune whose step 2 failed keeps its previous answers (the others are
decided without its cases) and is named in the summary; the DAG run shows it failed, and the
snapshot is kept so that clearing that commune's task and step 3 finishes the plan.

The snapshot and the candidates are personal data (encoded names and birth dates): they live in
the owner-only police folder and are deleted by step 3 once every commune is decided (else by
the next plan). Each plan starts a new snapshot, so a rerun never mixes files of two plans.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from chuyencan.core.reference import Reference
from chuyencan.core.settings import Settings
from chuyencan.police import matching
from chuyencan.police import scoring as sc
from chuyencan.police.cases import current_residents
from chuyencan.police.intake import police_dir
from chuyencan.police.match_step import (
    MATCHER_CASE_COLUMNS,
    MATCHER_RESIDENT_COLUMNS,
    checked,
    covered,
    match_open_cases,
    match_rows,
    open_cases_and_extracts,
    summarise,
    write_matches,
)

log = logging.getLogger(__name__)

SNAPSHOT = "snapshot.pickle"


@dataclass
class Snapshot:
    """What the plan saw: every open case (id, school, commune), the extracts in effect, and the
    encoded sides of the cases that have police data (None when there is nothing to match)."""

    token: str
    cases: pd.DataFrame  # case_id, school_code, commune (no personal data)
    current: dict[str, int]
    encoded: matching.Encoded | None
    case_communes: np.ndarray  # commune of each encoded case row

    def communes(self) -> list[str]:
        return sorted(set(self.case_communes.tolist()))


def matching_dir(settings: Settings) -> Path:
    return police_dir(settings) / "matching"


def _commune_file(folder: Path, commune: str) -> Path:
    # Commune names have spaces and diacritics; a digest makes a safe, stable file name.
    return folder / f"commune-{hashlib.sha256(commune.encode()).hexdigest()[:16]}.npz"


def _write_private(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write owner-only through a temporary file, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        write(fh)
    tmp.replace(path)


def plan_matching(engine: Engine, ref: Reference, settings: Settings) -> dict[str, Any]:
    """Snapshot the cases and household records; the communes whose cases need matching."""
    cases, current = open_cases_and_extracts(engine, ref)
    with_data = cases[covered(cases, current)]
    encoded, communes_of_rows, residents_n = None, np.empty(0, dtype=object), 0
    if len(with_data):
        residents = current_residents(engine)
        residents_n = len(residents)
        if residents_n:
            case_side = matching.in_id_order(with_data[MATCHER_CASE_COLUMNS], "case_id")
            encoded = matching.encode(
                case_side, matching.in_id_order(residents[MATCHER_RESIDENT_COLUMNS], "resident_id")
            )
            communes_of_rows = case_side["commune"].astype(str).to_numpy(dtype=object)
    snapshot = Snapshot(
        uuid.uuid4().hex,
        cases[["case_id", "school_code", "commune"]].reset_index(drop=True),
        current,
        encoded,
        communes_of_rows,
    )
    folder = matching_dir(settings)
    shutil.rmtree(folder, ignore_errors=True)  # an earlier plan's files never mix with this one's
    folder.mkdir(mode=0o700)
    # pickle: written and read only by this pipeline, in its owner-only folder.
    _write_private(folder / SNAPSHOT, lambda fh: pickle.dump(snapshot, fh, protocol=pickle.HIGHEST_PROTOCOL))
    communes = snapshot.communes()
    summary = {
        "open_cases": len(cases),
        "with_police_data": len(with_data),
        "residents": residents_n,
        "communes": communes,
    }
    log.info(
        "matching planned: %d open cases, %d with police data in %d communes",
        len(cases),
        len(with_data),
        len(communes),
    )
    return summary


def _load(settings: Settings) -> Snapshot | None:
    path = matching_dir(settings) / SNAPSHOT
    if not path.exists():
        return None
    with path.open("rb") as fh:
        snapshot = pickle.load(fh)
    assert isinstance(snapshot, Snapshot)
    return snapshot


def match_commune(settings: Settings, commune: str) -> dict[str, Any]:
    """Candidates of one commune's cases, saved next to the snapshot."""
    snapshot = _load(settings)
    if snapshot is None:
        raise RuntimeError("no matching snapshot: clear the run from plan_police_matching")
    rows = np.flatnonzero(snapshot.case_communes == commune)
    if snapshot.encoded is None or len(rows) == 0:
        raise ValueError(f"commune {commune!r} has no cases in this run's matching plan")
    enc = snapshot.encoded
    started = time.perf_counter()
    pairs, levels = matching.candidates_of(enc, rows)
    seconds = time.perf_counter() - started
    arrays: dict[str, Any] = {
        "token": np.array(snapshot.token),
        "case": pairs.case,
        "resident": pairs.resident,
    }
    arrays |= {f"level_{name}": levels[name] for name in sc.FIELDS}
    _write_private(_commune_file(matching_dir(settings), commune), lambda fh: np.savez(fh, **arrays))
    summary = {
        "commune": commune,
        "cases": len(rows),
        "candidate_pairs": len(pairs.case),
        "seconds": round(seconds, 2),
    }
    log.info("commune matched: %s", summary)
    return summary


def _candidates(
    settings: Settings, snapshot: Snapshot
) -> tuple[list[tuple[sc.Pairs, dict[str, np.ndarray]]], list[str]]:
    """Each commune's saved candidates, and the communes whose candidates are missing."""
    parts, missing = [], []
    folder = matching_dir(settings)
    for commune in snapshot.communes():
        path = _commune_file(folder, commune)
        if not path.exists():
            missing.append(commune)
            continue
        with np.load(path) as saved:
            if str(saved["token"]) != snapshot.token:
                missing.append(commune)
                continue
            parts.append(
                (
                    sc.Pairs(saved["case"], saved["resident"]),
                    {name: saved[f"level_{name}"] for name in sc.FIELDS},
                )
            )
    return parts, missing


def decide_matches(settings: Settings, engine: Engine, ref: Reference, now: datetime) -> dict[str, Any]:
    """Decide every commune's matches together and replace `restricted.case_match`."""
    snapshot = _load(settings)
    if snapshot is None:
        # Already decided (the folder is deleted then) or the task was cleared on its own:
        # match everything here in one go, which gives the same answer.
        log.warning("no matching snapshot: matching every commune in one step")
        return {**match_open_cases(engine, ref, now), "communes_failed": []}
    parts, missing = _candidates(settings, snapshot)
    answers: dict[str, dict[str, Any]] = {}
    seconds = 0.0
    enc = snapshot.encoded
    with_data = snapshot.cases[covered(snapshot.cases, snapshot.current)]
    if enc is None and len(with_data):
        # Extracts in effect without household rows: like the one-call matcher, no_match.
        answers = checked(matching.no_candidates(with_data), set(with_data["case_id"]), set())
    elif enc is not None:
        started = time.perf_counter()
        pairs, levels = matching.merge_candidates(parts)
        result = matching.answer(enc, pairs, levels)
        seconds = time.perf_counter() - started
        decided = ~np.isin(snapshot.case_communes, missing)
        answers = checked(
            result[decided].reset_index(drop=True),
            set(enc.case_ids[decided]),
            set(enc.resident_ids),
        )
    cases = snapshot.cases[~snapshot.cases["commune"].isin(missing)]
    rows = match_rows(cases, snapshot.current, answers, now)
    write_matches(engine, rows, keep_communes=missing)
    if not missing:
        shutil.rmtree(matching_dir(settings), ignore_errors=True)  # personal data: not kept
    summary = {
        **summarise(
            rows,
            with_police_data=int(cases["commune"].isin(list(snapshot.current)).sum()),
            residents=enc.r.n if enc is not None else 0,
            seconds=seconds,
        ),
        "communes_matched": len(snapshot.communes()) - len(missing),
        "communes_failed": missing,
    }
    if missing:
        log.warning("communes not matched this run (previous answers kept): %s", ", ".join(missing))
    log.info("open cases matched: %s", summary)
    return summary
