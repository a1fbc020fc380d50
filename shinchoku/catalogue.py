"""The KPI catalogue: the plan's areas, initiatives and KPIs, transcribed from the seed.

The reference data lives in ``catalogue/*.csv``, reviewable as text. Values are
kept as the seed writes them (40 with unit 百万枚), with their written precision
(80.0 has one decimal, 85 none). Unknown figures are empty with a note.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path

from .config import catalogue_dir

DIRECTIONS = ("increase", "decrease")


class CatalogueError(Exception):
    """The catalogue files are inconsistent; the message names the entry."""


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

    def expected(self, fiscal_year: int) -> float | None:
        """The straight trajectory's value in a fiscal year (the target from the target year on), as kpi_trajectory."""
        b, t, b_fy, t_fy = self.baseline_value, self.target_value, self.baseline_fy, self.target_fy
        if b is None or t is None or b_fy is None or t_fy is None:
            return None
        if fiscal_year >= t_fy:
            return t
        return b + (t - b) * (fiscal_year - b_fy) / (t_fy - b_fy)

    def pace(self, fiscal_year: int, value: float) -> float | None:
        """pace_rate as kpi_progress has it: how far along the trajectory the value is (None at or before the baseline year)."""
        expected = self.expected(fiscal_year)
        if expected is None or fiscal_year <= self.baseline_fy or expected == self.baseline_value:
            return None
        return (value - self.baseline_value) / (expected - self.baseline_value)

    def reached(self, value: float) -> bool:
        """Whether a value meets the target, in the KPI's direction."""
        if self.target_value is None:
            return False
        return value <= self.target_value if self.direction == "decrease" else value >= self.target_value

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
class Catalogue:
    """The whole plan, validated, with lookups."""

    areas: tuple[Area, ...]
    initiatives: tuple[Initiative, ...]
    kpis: tuple[Kpi, ...]
    owners_illustrative: bool
    seed_outcomes: tuple[SeedOutcome, ...] = ()

    @cached_property
    def kpis_by_id(self) -> dict[str, Kpi]:
        return {k.kpi_id: k for k in self.kpis}

    @cached_property
    def initiatives_by_id(self) -> dict[str, Initiative]:
        return {i.initiative_id: i for i in self.initiatives}

    @cached_property
    def departments(self) -> tuple[str, ...]:
        """Every department that owns a KPI or an initiative, in catalogue order."""
        seen: dict[str, None] = {}
        for item in (*self.kpis, *self.initiatives):
            seen.setdefault(item.owner, None)
        return tuple(seen)

    def kpis_of(self, department: str) -> list[Kpi]:
        return [k for k in self.kpis if k.owner == department]

    def initiatives_of(self, department: str) -> list[Initiative]:
        return [i for i in self.initiatives if i.owner == department]

    @cached_property
    def first_year(self) -> int:
        """The earliest baseline year: the start of the plan's range."""
        return min(k.baseline_fy for k in self.kpis if k.baseline_fy is not None)

    @cached_property
    def last_year(self) -> int:
        """The latest target year: the end of the plan's range."""
        return max(k.target_fy for k in self.kpis if k.target_fy is not None)


def _read(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise CatalogueError(f"{path.name}: missing columns {', '.join(missing)}")
            return [(n, {k: (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, start=2)]
    except OSError as e:
        raise CatalogueError(f"cannot read {path}: {e}") from None


def _number(text: str, where: str) -> tuple[float | None, int | None]:
    """'80.0' -> (80.0, 1); '' -> (None, None)."""
    if text == "":
        return None, None
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise CatalogueError(f"{where}: {text!r} is not a number") from None
    if not d.is_finite():
        raise CatalogueError(f"{where}: {text!r} is not a number")
    return float(d), max(0, -d.as_tuple().exponent)


def _year(text: str, where: str) -> int | None:
    if text == "":
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise CatalogueError(f"{where}: fiscal year {text!r} must be a Gregorian year such as 2021")
    return int(text)


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Read and validate the catalogue (the project's, by default); raise CatalogueError naming the bad entry."""
    directory = catalogue_dir() if directory is None else directory
    owners: dict[str, str] = {}
    illustrative = False
    for n, row in _read(directory / "owners.csv", ["item_id", "owner", "basis"]):
        where = f"owners.csv line {n} ({row['item_id']})"
        if not row["item_id"] or not row["owner"]:
            raise CatalogueError(f"{where}: item_id and owner are required")
        if row["item_id"] in owners:
            raise CatalogueError(f"{where}: item listed twice")
        _check_department_name(row["owner"], where)
        owners[row["item_id"]] = row["owner"]
        illustrative |= row["basis"] == "illustrative"

    areas = []
    for n, row in _read(directory / "areas.csv", ["area_id", "area_group", "name", "sort_order"]):
        where = f"areas.csv line {n} ({row['area_id']})"
        if not row["area_id"] or not row["name"]:
            raise CatalogueError(f"{where}: area_id and name are required")
        try:
            order = int(row["sort_order"])
        except ValueError:
            raise CatalogueError(f"{where}: sort_order must be an integer") from None
        areas.append(Area(row["area_id"], row["area_group"], row["name"], order, row.get("new_value", "")))
    _unique([a.area_id for a in areas], "areas.csv")
    area_ids = {a.area_id for a in areas}

    initiatives = []
    for n, row in _read(directory / "initiatives.csv", ["initiative_id", "area_id", "name", "activities"]):
        where = f"initiatives.csv line {n} ({row['initiative_id']})"
        if not row["initiative_id"] or not row["name"]:
            raise CatalogueError(f"{where}: initiative_id and name are required")
        if row["area_id"] not in area_ids:
            raise CatalogueError(f"{where}: unknown area_id {row['area_id']!r}")
        if row["initiative_id"] not in owners:
            raise CatalogueError(f"{where}: no owner in owners.csv")
        initiatives.append(
            Initiative(row["initiative_id"], row["area_id"], row.get("section", ""), row["name"],
                       row["activities"], owners[row["initiative_id"]], row.get("note", ""))
        )
    _unique([i.initiative_id for i in initiatives], "initiatives.csv")
    initiative_area = {i.initiative_id: i.area_id for i in initiatives}

    kpis = []
    columns = ["kpi_id", "area_id", "initiative_id", "name", "unit", "direction",
               "baseline_value", "baseline_fy", "target_value", "target_fy", "note"]
    for n, row in _read(directory / "kpis.csv", columns):
        where = f"kpis.csv line {n} ({row['kpi_id']})"
        for key in ("kpi_id", "name", "unit"):
            if not row[key]:
                raise CatalogueError(f"{where}: {key} is required")
        if row["area_id"] not in area_ids:
            raise CatalogueError(f"{where}: unknown area_id {row['area_id']!r}")
        initiative = row["initiative_id"] or None
        if initiative is not None and initiative_area.get(initiative) != row["area_id"]:
            raise CatalogueError(f"{where}: initiative {initiative!r} is not in area {row['area_id']!r}")
        if row["direction"] not in DIRECTIONS:
            raise CatalogueError(f"{where}: direction must be increase or decrease, got {row['direction']!r}")
        if row["kpi_id"] not in owners:
            raise CatalogueError(f"{where}: no owner in owners.csv")
        b_value, b_dec = _number(row["baseline_value"], f"{where} baseline_value")
        t_value, t_dec = _number(row["target_value"], f"{where} target_value")
        b_fy = _year(row["baseline_fy"], f"{where} baseline_fy")
        t_fy = _year(row["target_fy"], f"{where} target_fy")
        unknown = [k for k, v in (("baseline_value", b_value), ("baseline_fy", b_fy),
                                  ("target_value", t_value), ("target_fy", t_fy)) if v is None]
        if unknown and not row["note"]:
            raise CatalogueError(f"{where}: {', '.join(unknown)} unknown without a note saying why")
        if b_fy is not None and t_fy is not None and t_fy <= b_fy:
            raise CatalogueError(f"{where}: target_fy must be after baseline_fy")
        if b_value is not None and t_value is not None:
            going_up = t_value > b_value
            if going_up != (row["direction"] == "increase"):
                raise CatalogueError(f"{where}: target contradicts direction {row['direction']}")
        kpis.append(Kpi(row["kpi_id"], row["area_id"], initiative, row["name"], row["unit"], row["direction"],
                        b_value, b_dec, b_fy, t_value, t_dec, t_fy, owners[row["kpi_id"]], row["note"]))
    _unique([k.kpi_id for k in kpis], "kpis.csv")
    if not kpis:
        raise CatalogueError("kpis.csv: no KPIs")
    known = {*initiative_area, *(k.kpi_id for k in kpis)}
    stray = sorted(set(owners) - known)
    if stray:
        raise CatalogueError(f"owners.csv: unknown items {', '.join(stray)}")
    outcomes = []
    if (directory / "outcomes.csv").exists():
        columns = ["initiative_id", "fiscal_year", "label", "outcome_text", "figure_value", "figure_unit", "as_of", "note"]
        for n, row in _read(directory / "outcomes.csv", columns):
            where = f"outcomes.csv line {n} ({row['initiative_id']})"
            if row["initiative_id"] not in initiative_area:
                raise CatalogueError(f"{where}: unknown initiative_id")
            if not row["outcome_text"]:
                raise CatalogueError(f"{where}: outcome_text is required")
            value, _ = _number(row["figure_value"], f"{where} figure_value")
            if (value is None) != (not row["figure_unit"]):
                raise CatalogueError(f"{where}: figure_value and figure_unit go together")
            outcomes.append(SeedOutcome(row["initiative_id"], _year(row["fiscal_year"], where), row["label"],
                                        row["outcome_text"], value, row["figure_unit"] or None, row["as_of"] or None,
                                        row["note"]))
    return Catalogue(tuple(sorted(areas, key=lambda a: a.sort_order)), tuple(initiatives), tuple(kpis), illustrative,
                     tuple(outcomes))


def _unique(ids: list[str], name: str) -> None:
    seen = set()
    for item in ids:
        if item in seen:
            raise CatalogueError(f"{name}: {item!r} appears twice")
        seen.add(item)


def _check_department_name(name: str, where: str) -> None:
    # A department names an inbox folder, so it must be a safe single path component.
    if name in (".", "..") or name.startswith(("_", ".")) or name == "rejected" or any(c in name for c in '/\\:\0'):
        raise CatalogueError(f"{where}: {name!r} cannot be a department folder name")
