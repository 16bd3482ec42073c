"""What every flow's run functions share: one engine per warehouse URL, the reference data, the
week a moment belongs to. Each flow's `pipeline` takes a `Settings` and opens its own engine with
these, so it runs the same with or without Airflow.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Engine

from chuyencan.core import warehouse as wh
from chuyencan.core.organisation import Organisation, load_organisation
from chuyencan.core.reference import Reference, load_reference
from chuyencan.core.settings import Settings


@cache
def engine_for(url: str) -> Engine:
    return wh.make_engine(url)


def reference_for(settings: Settings) -> Reference:
    return load_reference(settings.reference_dir)


def organisation_for(settings: Settings) -> Organisation:
    """The organisation's files of the reference directory, checked (OrganisationError lists
    every problem)."""
    return load_organisation(settings.reference_dir)


def friday_of(moment: datetime | date, settings: Settings) -> date:
    """The Friday ending the last week that has ended by this moment (the Friday itself counts)."""
    day = moment.astimezone(settings.timezone).date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=(day.weekday() - 4) % 7)
