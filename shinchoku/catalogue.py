"""The KPI catalogue: the plan's areas, initiatives and KPIs, transcribed from the seed.

The reference data lives in ``catalogue/*.csv``, reviewable as text. Values are
kept as the seed writes them (40 with unit 百万枚), with their written precision
(80.0 has one decimal, 85 none). Unknown figures are empty with a note.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from . import catalogue_fields
from .catalogue_fields import field_value, number, split_addresses, year
from .config import ROOT, catalogue_dir, exact_value


class CatalogueError(Exception):
    """The catalogue files are inconsistent; the message names each entry (file, row, column). ``contacts_only``:
    every problem is a contact's address, which stops no command but ``catalogue check`` (see load_catalogue)."""

    def __init__(self, message: str, problems: list[str] | None = None, contacts_only: bool = False):
        super().__init__(message)
        self.problems = problems or [message]
        self.contacts_only = contacts_only


class CatalogueUnreadable(CatalogueError):
    """A catalogue file cannot be read as text at all (not UTF-8 nor CP932, or not readable)."""


@dataclass(frozen=True)
class Area:
    """分野: a part of the plan (行政のDX, 産業振興, ...)."""

    area_id: str
    area_group: str
    name: str
    sort_order: int
    new_value: str


@dataclass(frozen=True)
class Initiative:
    """項目: an initiative with its 取組内容, owned by one department."""

    initiative_id: str
    area_id: str
    section: str
    name: str
    activities: str
    owner: str
    note: str


@dataclass(frozen=True)
class Kpi:
    """指標: a KPI with baseline and target, each a value and a fiscal year."""

    kpi_id: str
    area_id: str
    initiative_id: str | None
    name: str
    unit: str
    direction: str
    baseline_value: float | None
    baseline_decimals: int | None
    baseline_fy: int | None
    target_value: float | None
    target_decimals: int | None
    target_fy: int | None
    owner: str
    note: str
    introduced_fy: int | None = None  # the first fiscal year the KPI exists (None: from the plan's start)
    retired_fy: int | None = None  # the first fiscal year it no longer exists (None: active)

    def exists_in(self, fiscal_year: int) -> bool:
        """Whether the KPI is in force in a fiscal year (introduced, not yet retired)."""
        return (self.introduced_fy is None or fiscal_year >= self.introduced_fy) and \
            (self.retired_fy is None or fiscal_year < self.retired_fy)

    def expected(self, fiscal_year: int) -> float | None:
        """The straight trajectory's value in a fiscal year (the target from the target year on), as kpi_trajectory."""
        b, t, b_fy, t_fy = self.baseline_value, self.target_value, self.baseline_fy, self.target_fy
        if b is None or t is None or b_fy is None or t_fy is None:
            return None
        if fiscal_year >= t_fy:
            return t
        return b + (t - b) * (fiscal_year - b_fy) / (t_fy - b_fy)

    def pace(self, fiscal_year: int, value: float) -> Fraction | None:
        """pace_rate as kpi_progress has it, exactly: (value − b) / (expected − b) as a fraction of the decimals as
        written (the macros pace_numerator and pace_denominator); None at or before the baseline year, where a
        figure is unknown, or where the trajectory has not moved."""
        b, t, b_fy, t_fy = self.baseline_value, self.target_value, self.baseline_fy, self.target_fy
        if b is None or t is None or b_fy is None or t_fy is None or fiscal_year <= b_fy:
            return None
        num, den = exact_value(value) - exact_value(b), exact_value(t) - exact_value(b)
        if fiscal_year < t_fy:
            num, den = num * (t_fy - b_fy), den * (fiscal_year - b_fy)
        return None if den == 0 else num / den

    def reached(self, value: float) -> bool:
        """Whether a value meets the target, in the KPI's direction, compared as written (the macro reached_target)."""
        if self.target_value is None:
            return False
        v, t = exact_value(value), exact_value(self.target_value)
        return v <= t if self.direction == "decrease" else v >= t

    def worse_than_baseline(self, value: float) -> bool:
        """Whether a value moved away from the target side of the baseline (the wrong_direction rule)."""
        if self.baseline_value is None:
            return False
        sign = -1.0 if self.direction == "decrease" else 1.0
        return (value - self.baseline_value) * sign < 0


@dataclass(frozen=True)
class SeedOutcome:
    """成果・効果 printed in the seed for an initiative (FY2021), kept as reference data."""

    initiative_id: str
    fiscal_year: int
    label: str
    outcome_text: str
    figure_value: float | None
    figure_unit: str | None
    as_of: str | None
    note: str


@dataclass(frozen=True)
class Revision:
    """One change of one field of one item, decided by the committee, from a fiscal year on (revisions.csv)."""

    revision_id: str
    item_id: str
    field: str
    new_value: str
    effective_fy: int
    decided_on: dt.date | None
    reason: str
    source: str


@dataclass(frozen=True)
class Department:
    """部局: a department and the fiscal years it exists (departments.csv), its successor after a reorganisation."""

    name: str
    valid_from_fy: int | None = None
    valid_to_fy: int | None = None  # the last fiscal year it exists (None: still exists)
    successor: str | None = None
    emails: tuple[str, ...] = ()  # its contacts, whom the run's mail reaches (never shown on the site)
    bad_emails: tuple[str, ...] = ()  # what its email cell holds that is no address (catalogue check names it)

    def exists_in(self, fiscal_year: int) -> bool:
        return (self.valid_from_fy is None or fiscal_year >= self.valid_from_fy) and \
            (self.valid_to_fy is None or fiscal_year <= self.valid_to_fy)


@dataclass(frozen=True)
class LocalGovernment:
    """地方公共団体: the prefecture (kind 県) or a municipality (市・町・村, in one of the seven regions), with its
    6-digit 全国地方公共団体コード and the fiscal years it exists under that code (local_governments.csv)."""

    code: str
    name: str
    reading: str
    kind: str
    region: str | None  # None for the prefecture
    valid_from_fy: int | None = None
    valid_to_fy: int | None = None  # the last fiscal year it exists under this code (None: still exists)
    emails: tuple[str, ...] = ()  # its contacts, whom the run's mail reaches (never shown on the site)
    bad_emails: tuple[str, ...] = ()  # what its email cell holds that is no address (catalogue check names it)

    @property
    def is_municipality(self) -> bool:
        return self.kind in catalogue_fields.MUNICIPALITY_KINDS

    def exists_in(self, fiscal_year: int) -> bool:
        return (self.valid_from_fy is None or fiscal_year >= self.valid_from_fy) and \
            (self.valid_to_fy is None or fiscal_year <= self.valid_to_fy)


@dataclass(frozen=True)
class GroupMembership:
    """One municipality's membership of a named group (避難地域12市町村, ...) over fiscal years
    (local_government_groups.csv); groups may overlap the regions and each other."""

    group: str
    code: str
    valid_from_fy: int | None = None
    valid_to_fy: int | None = None  # the last fiscal year of the membership (None: still a member)

    def exists_in(self, fiscal_year: int) -> bool:
        return (self.valid_from_fy is None or fiscal_year >= self.valid_from_fy) and \
            (self.valid_to_fy is None or fiscal_year <= self.valid_to_fy)


@dataclass(frozen=True)
class ComputedRule:
    """A KPI computed from local governments' counts (computed_kpis.csv): by which rule (ratio_of_sums: Σ numerator
    / Σ denominator × factor, never an average of rates; sum: Σ addends × factor), who reports its components (a
    group of local_government_groups.csv, or prefecture_and_municipalities / municipalities), over fiscal years."""

    kpi_id: str
    rule: str
    factor: float
    reporters: str
    valid_from_fy: int
    valid_to_fy: int | None = None  # the last fiscal year of the rule (None: still in force)

    def exists_in(self, fiscal_year: int) -> bool:
        return fiscal_year >= self.valid_from_fy and (self.valid_to_fy is None or fiscal_year <= self.valid_to_fy)


@dataclass(frozen=True)
class KpiComponent:
    """One count a computed KPI is computed from (kpi_components.csv): its name as the survey sheet asks for it
    (オンラインで行われた件数), its role (numerator, denominator or addend), its count unit, over fiscal years."""

    kpi_id: str
    component_id: str
    component_name: str
    role: str
    unit: str
    valid_from_fy: int
    valid_to_fy: int | None = None

    def exists_in(self, fiscal_year: int) -> bool:
        return fiscal_year >= self.valid_from_fy and (self.valid_to_fy is None or fiscal_year <= self.valid_to_fy)


@dataclass(frozen=True)
class Version:
    """An item's definition in force from valid_from_fy to valid_to_fy (inclusive; None: still in force),
    and the revisions that opened it (none for the plan as first set)."""

    item: Kpi | Initiative
    valid_from_fy: int
    valid_to_fy: int | None
    opened_by: tuple[Revision, ...] = ()

    def covers(self, fiscal_year: int) -> bool:
        return fiscal_year >= self.valid_from_fy and (self.valid_to_fy is None or fiscal_year <= self.valid_to_fy)


@dataclass(frozen=True)
class Catalogue:
    """The whole plan, validated, with lookups.

    ``kpis`` and ``initiatives`` are each item's last definition in force; ``versions`` holds every
    definition over the fiscal years, from the plan as first set and ``revisions``.
    """

    areas: tuple[Area, ...]
    initiatives: tuple[Initiative, ...]
    kpis: tuple[Kpi, ...]
    owners_illustrative: bool
    seed_outcomes: tuple[SeedOutcome, ...] = ()
    revisions: tuple[Revision, ...] = ()
    organisation: tuple[Department, ...] = ()
    versions: tuple[tuple[str, tuple[Version, ...]], ...] = ()
    encodings: tuple[tuple[str, str], ...] = ()  # (file name, encoding read in), per file read; see ENCODINGS
    local_governments: tuple[LocalGovernment, ...] = ()  # the prefecture and its municipalities, past and present
    group_memberships: tuple[GroupMembership, ...] = ()
    computed_rules: tuple[ComputedRule, ...] = ()  # declared only: nothing computes them yet (issue 25)
    kpi_components: tuple[KpiComponent, ...] = ()

    def __post_init__(self):
        if not self.versions and self.kpis:  # built in code without revisions: each item as given, throughout
            start = min((k.baseline_fy for k in self.kpis if k.baseline_fy is not None), default=0)
            object.__setattr__(self, "versions", _all_versions(self.kpis, self.initiatives, (), start))

    @cached_property
    def kpis_by_id(self) -> dict[str, Kpi]:
        return {k.kpi_id: k for k in self.kpis}

    @cached_property
    def initiatives_by_id(self) -> dict[str, Initiative]:
        return {i.initiative_id: i for i in self.initiatives}

    @cached_property
    def versions_by_id(self) -> dict[str, tuple[Version, ...]]:
        return dict(self.versions)

    def version_of(self, item_id: str, fiscal_year: int | None) -> Kpi | Initiative | None:
        """The item as defined in a fiscal year (before its first definition the first, after its last the last,
        as kpi_year_definitions has it); without a year, its last definition; None when unknown."""
        versions = self.versions_by_id.get(item_id)
        if not versions:
            return None
        if fiscal_year is None or fiscal_year > versions[-1].valid_from_fy:
            return versions[-1].item
        return next((v.item for v in versions if v.covers(fiscal_year)), versions[0].item)

    def in_force(self, item_id: str, fiscal_year: int) -> bool:
        """Whether the item exists in a fiscal year (introduced and not yet retired; initiatives always)."""
        item = self.kpis_by_id.get(item_id)
        return item is None or item.exists_in(fiscal_year)

    @cached_property
    def departments(self) -> tuple[str, ...]:
        """Every department, past or present: departments.csv, then any owner it does not list, in catalogue order."""
        seen: dict[str, None] = {d.name: None for d in self.organisation}
        for versions in self.versions_by_id.values():
            for v in versions:
                seen.setdefault(v.item.owner, None)
        return tuple(seen)

    @cached_property
    def _listed(self) -> dict[str, Department]:
        return {d.name: d for d in self.organisation}

    def departments_in(self, fiscal_year: int) -> tuple[str, ...]:
        """The departments that exist in a fiscal year."""
        known = self._listed
        return tuple(n for n in self.departments if n not in known or known[n].exists_in(fiscal_year))

    def successor_in(self, department: str, fiscal_year: int) -> str | None:
        """The department that took over ``department``'s work by a fiscal year, if it no longer exists then."""
        known = self._listed
        seen = {department}
        name = department
        while name in known and not known[name].exists_in(fiscal_year) and known[name].successor:
            name = known[name].successor
            if name in seen:  # a cycle; `catalogue check` refuses these
                return None
            seen.add(name)
        return None if name == department else name

    def kpis_of(self, department: str, fiscal_year: int | None = None) -> list[Kpi]:
        """The KPIs a department owns: in a fiscal year, as defined that year; without one, as last defined."""
        if fiscal_year is None:
            return [k for k in self.kpis if k.owner == department]
        found = (self.version_of(k.kpi_id, fiscal_year) for k in self.kpis if self.in_force(k.kpi_id, fiscal_year))
        return [k for k in found if k.owner == department]

    def initiatives_of(self, department: str, fiscal_year: int | None = None) -> list[Initiative]:
        if fiscal_year is None:
            return [i for i in self.initiatives if i.owner == department]
        return [i for i in (self.version_of(i.initiative_id, fiscal_year) for i in self.initiatives)
                if i.owner == department]

    @cached_property
    def local_governments_by_code(self) -> dict[str, LocalGovernment]:
        return {g.code: g for g in self.local_governments}

    @cached_property
    def local_governments_by_name(self) -> dict[str, LocalGovernment]:
        """Each local government by its name, which is also its inbox folder (inbox/郡山市/); the latest row wins."""
        return {g.name: g for g in self.local_governments}

    def contacts_of(self, folder: str | None) -> tuple[str, ...]:
        """The addresses of whoever submits from an inbox folder: the local government of that name, else the
        department (departments.csv); () when the catalogue has none."""
        unit = self._unit(folder)
        return unit.emails if unit else ()

    def bad_contacts_of(self, folder: str | None) -> tuple[str, ...]:
        """What the unit's email cell holds that is not an address (a full-width ＠, a display name), as written:
        no mail goes there; ``catalogue check`` names it."""
        unit = self._unit(folder)
        return unit.bad_emails if unit else ()

    @property
    def bad_contacts(self) -> list[tuple[str, str]]:
        """Every (unit, entry) of the email cells that is not an address."""
        units = (*self.organisation, *self.local_governments)
        return [(unit.name, bad) for unit in units for bad in unit.bad_emails]

    def _unit(self, folder: str | None) -> Department | LocalGovernment | None:
        if folder in self.local_governments_by_name:
            return self.local_governments_by_name[folder]
        return self._listed.get(folder or "")

    def municipalities_in(self, fiscal_year: int) -> tuple[LocalGovernment, ...]:
        """The municipalities (市・町・村) that exist in a fiscal year, in file order."""
        return tuple(g for g in self.local_governments if g.is_municipality and g.exists_in(fiscal_year))

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """The named groups of local governments, in file order."""
        return tuple(dict.fromkeys(m.group for m in self.group_memberships))

    def members_of(self, group: str, fiscal_year: int) -> tuple[LocalGovernment, ...]:
        """A group's municipalities in a fiscal year, in file order."""
        by_code = self.local_governments_by_code
        return tuple(by_code[m.code] for m in self.group_memberships
                     if m.group == group and m.exists_in(fiscal_year) and m.code in by_code)

    def rule_of(self, kpi_id: str, fiscal_year: int) -> ComputedRule | None:
        """How a KPI is computed from local governments' counts in a fiscal year; None when it is reported directly."""
        return next((r for r in self.computed_rules if r.kpi_id == kpi_id and r.exists_in(fiscal_year)), None)

    def components_of(self, kpi_id: str, fiscal_year: int) -> tuple[KpiComponent, ...]:
        """The counts a KPI is computed from in a fiscal year, in file order (none when it is reported directly)."""
        if self.rule_of(kpi_id, fiscal_year) is None:
            return ()
        return tuple(c for c in self.kpi_components if c.kpi_id == kpi_id and c.exists_in(fiscal_year))

    def reporters_of(self, kpi_id: str, fiscal_year: int) -> tuple[LocalGovernment, ...]:
        """The local governments expected to report a computed KPI's components in a fiscal year, in file order."""
        rule = self.rule_of(kpi_id, fiscal_year)
        if rule is None:
            return ()
        if rule.reporters == "municipalities":
            return self.municipalities_in(fiscal_year)
        if rule.reporters == "prefecture_and_municipalities":
            return tuple(g for g in self.local_governments if g.exists_in(fiscal_year))
        return self.members_of(rule.reporters, fiscal_year)

    @cached_property
    def first_year(self) -> int:
        """The earliest baseline year of any definition: the start of the plan's range."""
        return min(v.item.baseline_fy for v in self._kpi_versions() if v.item.baseline_fy is not None)

    @cached_property
    def last_year(self) -> int:
        """The latest target year of any definition: the end of the plan's range."""
        return max(v.item.target_fy for v in self._kpi_versions() if v.item.target_fy is not None)

    def _kpi_versions(self) -> list[Version]:
        return [v for k in self.kpis for v in self.versions_by_id[k.kpi_id]]


# The encodings a catalogue file may come in, as Excel saves CSV: "CSV UTF-8" (with a BOM), plain "CSV" (CP932),
# or UTF-8 from a text editor. Tried strictly, in this order; the name is what `catalogue check` says it read.
ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8(BOM付き)", "cp932": "CP932(Shift_JIS)"}


def _decoded(path: Path) -> tuple[str, str]:
    """A catalogue file's text and the encoding it was read in ("utf-8", "utf-8-sig" or "cp932").
    A file in none of them (binary bytes, UTF-16, whose NULs CP932 would accept) is a CatalogueError."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CatalogueUnreadable(f"{path} を読み取れません: {e}") from None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\0" not in text:
            return text, "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else encoding.removesuffix("-sig")
    raise CatalogueUnreadable(f"{path.parent.name}/{path.name}: 文字コードを判別できません"
                         "(UTF-8 または Shift_JIS(CP932)で保存してください)")


@dataclass(frozen=True)
class Table:
    """One catalogue file as written: its headings, and its rows of stripped cells numbered as a spreadsheet
    shows them (the headings are row 1)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]


# The catalogue's files, and whether each must be there.
FILES = {"owners.csv": True, "areas.csv": True, "initiatives.csv": True, "kpis.csv": True,
         "outcomes.csv": False, "departments.csv": False, "revisions.csv": False,
         "local_governments.csv": False, "local_government_groups.csv": False,
         "computed_kpis.csv": False, "kpi_components.csv": False}
REVISION_COLUMNS = ["revision_id", "item_id", "field", "new_value", "effective_fy", "decided_on", "reason", "source"]


def _read(path: Path, encodings: dict[str, str]) -> Table:
    """One catalogue file; notes its encoding in ``encodings``. Its columns are checked with the rest."""
    text, encodings[path.name] = _decoded(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = tuple((n, {k: (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, start=2))
    return Table(tuple(dict.fromkeys(c for c in reader.fieldnames or [] if c)), rows)


CONTACT_FILES = ("departments.csv", "local_governments.csv")  # the files whose email column holds contacts


def load_catalogue(directory: Path | None = None, *, strict: bool = False) -> Catalogue:
    """Read and validate the catalogue (the project's, by default); raise CatalogueError listing every problem,
    each naming its file, row and column.

    A contact's address that is none (a full-width ＠) stops nothing but ``strict`` (``catalogue check``, which
    lists it): a unit keeps the addresses of its cell that are addresses, and no mail goes to the rest
    (``bad_contacts_of``: the mail says why). A nightly ingest never waits on a typo in an address."""
    directory = catalogue_dir() if directory is None else directory
    encodings: dict[str, str] = {}  # file name -> the encoding it was read in
    tables = {name: _read(directory / name, encodings) for name, required in FILES.items()
              if required or (directory / name).exists()}
    checked = _checked_marker(directory)
    unchecked = not checked.exists()
    bad = _bad_contacts(tables)  # (file, row) -> the entries of its email cell that are no address
    if unchecked:
        # Imported here, not at the top, to save start-up: pandas and pandera take about a second, and a
        # catalogue found sound before (the marker) skips them. No import circle: see catalogue_fields.
        from schemas.catalogue import definition_problems, file_problems

        problems = file_problems(tables if strict or not bad else _without_bad_contacts(tables, bad))
        contacts = {f"{name} 行{row} 列 email:" for name, row in bad}
        _refuse(problems, contacts_only=bool(problems) and all(p.startswith(tuple(contacts)) for p in problems))
    # From here on the files are sound: every cell reads as its column requires.
    rows = {name: [row for _, row in table.rows] for name, table in tables.items()}
    owners = {row["item_id"]: row["owner"] for row in rows["owners.csv"]}
    illustrative = any(row["basis"] == "illustrative" for row in rows["owners.csv"])
    areas = [Area(row["area_id"], row["area_group"], row["name"], int(row["sort_order"]), row.get("new_value", ""))
             for row in rows["areas.csv"]]
    initiatives = [Initiative(row["initiative_id"], row["area_id"], row.get("section", ""), row["name"],
                              row["activities"], owners[row["initiative_id"]], row.get("note", ""))
                   for row in rows["initiatives.csv"]]
    kpis = []
    for row in rows["kpis.csv"]:
        b_value, b_dec = number(row["baseline_value"])
        t_value, t_dec = number(row["target_value"])
        kpis.append(Kpi(row["kpi_id"], row["area_id"], row["initiative_id"] or None, row["name"], row["unit"],
                        row["direction"], b_value, b_dec, year(row["baseline_fy"]), t_value, t_dec,
                        year(row["target_fy"]), owners[row["kpi_id"]], row["note"],
                        year(row.get("introduced_fy", "")), year(row.get("retired_fy", ""))))
    outcomes = [SeedOutcome(row["initiative_id"], year(row["fiscal_year"]), row["label"], row["outcome_text"],
                            number(row["figure_value"])[0], row["figure_unit"] or None, row["as_of"] or None,
                            row["note"]) for row in rows.get("outcomes.csv", [])]
    organisation = tuple(Department(row["department"], year(row["valid_from_fy"]), year(row["valid_to_fy"]),
                                    row["successor"] or None, *split_addresses(row.get("email", "")))
                         for row in rows.get("departments.csv", []))
    revisions = [Revision(row["revision_id"], row["item_id"], row["field"], row["new_value"], int(row["effective_fy"]),
                          catalogue_fields.date(row["decided_on"]), row["reason"], row["source"])
                 for row in rows.get("revisions.csv", [])]
    governments = tuple(LocalGovernment(row["code"], row["name"], row["reading"], row["kind"], row["region"] or None,
                                        year(row["valid_from_fy"]), year(row["valid_to_fy"]),
                                        *split_addresses(row.get("email", "")))
                        for row in rows.get("local_governments.csv", []))
    memberships = tuple(GroupMembership(row["group"], row["code"], year(row["valid_from_fy"]), year(row["valid_to_fy"]))
                        for row in rows.get("local_government_groups.csv", []))
    rules = tuple(ComputedRule(row["kpi_id"], row["rule"], number(row["factor"])[0], row["reporters"],
                               int(row["valid_from_fy"]), year(row["valid_to_fy"]))
                  for row in rows.get("computed_kpis.csv", []))
    components = tuple(KpiComponent(row["kpi_id"], row["component_id"], row["component_name"], row["role"], row["unit"],
                                    int(row["valid_from_fy"]), year(row["valid_to_fy"]))
                       for row in rows.get("kpi_components.csv", []))
    plan = (min(k.baseline_fy for k in kpis if k.baseline_fy is not None),
            max(k.target_fy for k in kpis if k.target_fy is not None))
    versions = _all_versions(kpis, initiatives, revisions, plan[0])
    by_id = dict(versions)
    if unchecked:
        _refuse(definition_problems([v for k in kpis for v in by_id[k.kpi_id]], revisions, plan))
        if not bad:  # sound as written: catalogue check, which skips a remembered catalogue, has nothing to say
            _remember(checked)
    current_kpis = tuple(by_id[k.kpi_id][-1].item for k in kpis)
    current_initiatives = tuple(by_id[i.initiative_id][-1].item for i in initiatives)
    return Catalogue(tuple(sorted(areas, key=lambda a: a.sort_order)), current_initiatives, current_kpis,
                     illustrative, tuple(outcomes), tuple(revisions), organisation, versions, tuple(encodings.items()),
                     governments, memberships, rules, components)


def _refuse(problems: list[str], contacts_only: bool = False) -> None:
    if problems:
        raise CatalogueError("\n".join(problems), problems, contacts_only)


def _bad_contacts(tables: dict[str, Table]) -> dict[tuple[str, int], tuple[str, ...]]:
    """The email cells holding an entry that is no address, by (file, row)."""
    found = {}
    for name in CONTACT_FILES:
        table = tables.get(name)
        for row, cells in table.rows if table is not None and "email" in table.columns else ():
            bad = split_addresses(cells.get("email", ""))[1]
            if bad:
                found[name, row] = bad
    return found


def _without_bad_contacts(tables: dict[str, Table], bad: dict[tuple[str, int], tuple[str, ...]]) -> dict[str, Table]:
    """The tables as the checks of a run see them: each email cell holding only its addresses."""
    changed = dict(tables)
    for name in {name for name, _ in bad}:
        table = tables[name]
        changed[name] = Table(table.columns, tuple(
            (row, {**cells, "email": ";".join(split_addresses(cells["email"])[0])}) if (name, row) in bad else (row, cells)
            for row, cells in table.rows))
    return changed


def _all_versions(kpis, initiatives, revisions, plan_start: int) -> tuple[tuple[str, tuple[Version, ...]], ...]:
    """Every item's definitions over the fiscal years (the plan as first set, then its revisions)."""
    by_item: dict[str, list[Revision]] = {}
    for r in revisions:
        by_item.setdefault(r.item_id, []).append(r)
    items = [*((k.kpi_id, k) for k in kpis), *((i.initiative_id, i) for i in initiatives)]
    return tuple((item_id, _versions(item, by_item.get(item_id, []), plan_start)) for item_id, item in items)


def _checked_marker(directory: Path) -> Path:
    """Where a sound catalogue is remembered: named by the digest of its files and of the code that checks them.
    The pandera checks (and their ~1 s of imports) then run once per catalogue, not in every command."""
    import hashlib
    import tempfile

    digest = hashlib.sha256()
    code = [Path(__file__), Path(catalogue_fields.__file__), ROOT / "schemas" / "catalogue.py"]
    for path in sorted(Path(directory).glob("*.csv")) + code:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return Path(tempfile.gettempdir()) / "shinchoku-catalogues-checked" / digest.hexdigest()


def _remember(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only temp folder only costs the check next time
        pass


def _versions(item: Kpi | Initiative, revisions: list[Revision], plan_start: int) -> tuple[Version, ...]:
    """An item's definitions over the fiscal years: the plan as first set, then each year a revision takes effect."""
    revisions = sorted(revisions, key=lambda r: (r.effective_fy, r.revision_id))
    start = getattr(item, "introduced_fy", None) or plan_start
    retired = getattr(item, "retired_fy", None)
    end = retired - 1 if retired is not None else None
    starts = sorted({start} | {r.effective_fy for r in revisions if r.effective_fy > start
                               and (end is None or r.effective_fy <= end)})
    versions = []
    for n, fy in enumerate(starts):
        fields: dict = {}
        for r in revisions:
            if r.effective_fy <= fy:
                fields.update(field_value(r.field, r.new_value))
        until = starts[n + 1] - 1 if n + 1 < len(starts) else end
        opened = tuple(r for r in revisions if r.effective_fy == fy or (n == 0 and r.effective_fy <= fy))
        versions.append(Version(dataclasses.replace(item, **fields), fy, until, opened))
    return tuple(versions)
