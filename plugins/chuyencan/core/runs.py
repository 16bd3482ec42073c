"""What every flow's run functions share: one engine per warehouse URL, the reference data, the
week a moment belongs to. Each flow's `pipeline` takes a `Settings` and opens its own engine with
these, so it runs the same with or without Airflow.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

from sqlalchemy import Engine

from chuyencan.core import warehouse as wh
from chuyencan.core.organisation import Organisation, load_organisation
from chuyencan.core.reference import Reference, load_reference
from chuyencan.core.settings import Settings


@cache
def engine_for(url: str) -> Engine:
    return wh.make_engine(url)


def _files_state(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Each file of the reference directory with its modification time and size: a cached copy
    is used only while this is unchanged, so an edited reference file is read again."""
    if not directory.is_dir():
        return ()
    return tuple(
        (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.iterdir()) if p.is_file()
    )


# A province's report date runs its per-unit steps for ~100 units: one process reads the
# reference and the organisation once, not once per unit and step (neither is ever modified).
@lru_cache(maxsize=4)
def _reference(directory: Path, state: tuple[tuple[str, int, int], ...]) -> Reference:
    return load_reference(directory)


@lru_cache(maxsize=4)
def _organisation(directory: Path, state: tuple[tuple[str, int, int], ...]) -> Organisation:
    return load_organisation(directory)


def reference_for(settings: Settings) -> Reference:
    return _reference(settings.reference_dir, _files_state(settings.reference_dir))


def organisation_for(settings: Settings) -> Organisation:
    """The organisation's files of the reference directory, checked (OrganisationError lists
    every problem; a failed load is not cached)."""
    return _organisation(settings.reference_dir, _files_state(settings.reference_dir))


def friday_of(moment: datetime | date, settings: Settings) -> date:
    """The Friday ending the last week that has ended by this moment (the Friday itself counts)."""
    day = moment.astimezone(settings.timezone).date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=(day.weekday() - 4) % 7)
