"""Who a fortnightly report is for: its reporting unit, as the organisation's reference data
describes it (include/reference/reporting_units.csv/.json, `chuyencan.core.organisation`).

The letterhead, the addressee ("Kính gửi"), the signer's title, the recipients' lines, the place
of the date line, the area the figures cover ("huyện Bát Xát", "xã Y Tý", "tỉnh Lào Cai") and the
email addresses all come from there, never from code: a unit whose lines change needs a reviewed
edit of the reference files, nothing else.

    unit = report_unit(load_organisation(), "XA_Y_TY", date(2025, 10, 3))
    unit.letterhead.parent_agency  # 'UBND XÃ Y TÝ'
    unit.area_kind                 # 'xã': "Toàn xã" in the report's tables
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chuyencan.core.organisation import KIND_LABEL, Letterhead, Organisation, top_scope
from chuyencan.core.settings import DISTRICT_KEY
from chuyencan.core.text import fold


class NoReportingUnit(LookupError):
    """The code names no reporting unit in force on the report date."""


@dataclass(frozen=True)
class ChildUnit:
    """A unit whose report rolls up into this one's (a commune's, for the department)."""

    code: str
    top_scope: str  # scope of its own row in report.fortnight_summary
    area: str  # "xã Y Tý": how the parent's report names it


@dataclass(frozen=True)
class ReportUnit:
    code: str  # the reporting unit's code: its report's scope_key and reporting_unit
    kind: str  # phong_gddt, ubnd_xa, so_gddt
    top_scope: str  # 'district' (a district office's rows keep their scope), else 'unit'
    letterhead: Letterhead
    area_kind: str  # kind of its administrative unit as written: "huyện", "xã", "tỉnh"
    commune_kinds: tuple[str, ...]  # kinds of the communes in its area: ("xã", "thị trấn")
    emails: tuple[str, ...]  # reporting_units.csv
    # Codes of the schools its figures cover on the report date: its own and those of the units
    # rolled up into it (the department's THPT schools and every commune's schools).
    schools: frozenset[str] = frozenset()
    children: tuple[ChildUnit, ...] = ()

    @property
    def keeps_district_names(self) -> bool:
        """Bát Xát's district keeps the file names, email key and recipients it always had."""
        return self.code == DISTRICT_KEY

    @property
    def file_tag(self) -> str:
        """What a file name carries to tell units apart: nothing for Bát Xát's district."""
        return "" if self.keeps_district_names else self.code


def report_unit(org: Organisation, code: str, on: date) -> ReportUnit:
    """The unit `code` as in force on `on`, with the units rolled up into its report."""
    unit = org.reporting_unit(code, on)
    if unit is None:
        raise NoReportingUnit(f"no reporting unit {code!r} in force on {on}")
    area = org.admin_unit(unit.admin_unit, on)
    if area is None:  # the organisation's checks make this impossible for a unit in force
        raise NoReportingUnit(f"reporting unit {code!r} has no administrative unit in force on {on}")
    kinds = {c.kind for c in org.communes_of(unit.code, on)}
    # Always in the same order ("xã, phường, thị trấn"), whatever the order of the file.
    commune_kinds = tuple(KIND_LABEL[k] for k in ("xa", "phuong", "thi_tran") if k in kinds)
    children = tuple(
        sorted(
            (
                ChildUnit(child.code, top_scope(child), child.letterhead.area)
                for child in org.reporting_units_in_force(on)
                if child.parent == unit.code
            ),
            key=lambda c: fold(c.area),
        )
    )
    return ReportUnit(
        code=unit.code,
        kind=unit.kind,
        top_scope=top_scope(unit),
        letterhead=unit.letterhead,
        area_kind=KIND_LABEL[area.kind],
        commune_kinds=commune_kinds or (KIND_LABEL["xa"],),
        emails=unit.emails,
        schools=frozenset(_schools_under(org, unit.code, on)),
        children=children,
    )


def _schools_under(org: Organisation, code: str, on: date, seen: frozenset[str] = frozenset()) -> set[str]:
    """A unit's own schools and those of every unit under it (the checks forbid circles; `seen`
    stops one anyway)."""
    schools = set(org.schools_of(code, on))
    for child in org.reporting_units_in_force(on):
        if child.parent == code and child.code not in seen:
            schools |= _schools_under(org, child.code, on, seen | {code})
    return schools
