"""The progress facts the report and the site both show, read from the views for one fiscal year, and
how a figure, a year or a rate is written on either.

``ReportData`` reads only the analysts' views (``REPORT_VIEWS``, never a raw table); ``Kpi`` is a KPI
under the one definition its standing is judged by.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..workbook.messages import format_number
from ..workbook.parse import fiscal_year_end, fiscal_year_label
from ..workbook.text import writable_row

if TYPE_CHECKING:
    import duckdb

# The analysts' stable contract: names and listed columns keep their meaning, new columns are only appended.
# The one list: `shinchoku export` offers exactly these, and the docs' table of contract views is made from it.
CONTRACT_VIEWS = {  # each with the order `export` writes its rows in (views have no order of their own)
    "kpis": "area_id, kpi_id", "kpi_progress": "kpi_id, fiscal_year", "kpi_latest": "kpi_id", "kpi_outlook": "kpi_id",
    "kpi_explanations": "kpi_id, fiscal_year, version", "kpi_definitions": "kpi_id, valid_from_fy",
    "kpi_revisions": "effective_fy, row_order", "kpi_year_definitions": "kpi_id, fiscal_year",
    "submissions": "submission_id", "validation_issues": "submission_id, severity, sheet, cell",
    "observation_history": "kpi_id, fiscal_year, as_of, version", "submission_status": "fiscal_year, department",
    "initiatives": "area_order, initiative_id",
    "initiative_outcomes": "initiative_id, fiscal_year, coalesce(submission_id, 0), row_order",
    "kpi_trajectory": "kpi_id, fiscal_year", "grade_bands": "grade_rank", "outlooks": "outlook_rank",
    "component_history": "kpi_id, fiscal_year, local_government, component_id, as_of, version",
    "local_government_values": "kpi_id, fiscal_year, code", "kpi_aggregates": "kpi_id, fiscal_year, scope_kind, scope"}
# The only relations the report and the site's pages read: the analysts' contract.
REPORT_VIEWS = ("grade_bands", "kpi_year_status", "area_counts", "data_quality", "kpis", "kpi_progress",
                "kpi_trajectory", "initiatives", "initiative_outcomes", "submission_status", "validation_issues",
                "submissions", "outlooks", "kpi_year_outlook", "kpi_explanations", "kpi_definitions", "kpi_year_definitions", "kpi_revisions",
                "kpi_definition_trajectory", "warehouse_fingerprint", "local_government_values", "kpi_aggregates",
                "local_governments", "local_government_ranks")
# The rule every page states: one definition per KPI for its target, grade, outlook and chart.
DEFINITION_NOTE = ("基準値・目標値・評価・見通し・グラフは、指標ごとに、最新の実績の年度(実績がなければ報告年度)に効力のある"
                   "定義によります。後の年度からの改定は使いません(改定は「指標の改定」のとおり)。")
# Said (and put on every page) when the catalogue or settings in force differ from those the warehouse was built from.
STALE_NOTE = "ウェアハウスは指標一覧・設定の変更前に作成されています。shinchoku run で更新してください。"


class ReportError(Exception):
    """The warehouse cannot produce a report (missing, or without the views)."""


class NoActuals(ReportError):
    """The warehouse has no actual to show yet (a new plan year before the first returns)."""


def format_value(value: float | None, unit: str, decimals: int | None) -> str:
    """A figure as the seed writes it: written precision, thousands separators, unit: 48.2%, 40百万枚."""
    if value is None:
        return "不明"
    return f"{value:,.{decimals or 0}f}{unit}"


def format_reported(value: float | None, unit: str, plan_decimals: int | None) -> str:
    """A reported figure (an actual, an outcome's figure) with the digits the department gave, at least the plan's
    precision, thousands separators and unit: 16.8百万枚 where the plan writes 12百万枚, 61.0% where it writes 80.0%.
    Plan figures go through format_value."""
    if value is None:
        return "不明"
    return f"{format_number(value, plan_decimals)}{unit}"


# kpi_progress.value_source of a computed KPI's value: the prefecture-wide sum of local governments' counts.
COMPUTED = "集計"


def format_actual(progress: dict, kpi: Kpi) -> str:
    """An actual as reported, with the mark the return gave it (速報, 見込, 暫定) or its 時点 if mid-year, or the
    coverage of an aggregate not every local government has reported to: 61.0%(速報), 132人(2024/2/29時点),
    59.95%(集計中 58/59団体)."""
    return format_actual_value(progress, kpi) + provisional_mark(progress)


def format_actual_value(progress: dict, kpi: Kpi, unit: str | None = None) -> str:
    """An actual's figure without marks: as the department wrote it, or a computed KPI's ratio of sums (which no one
    wrote) to one digit more than the plan's precision: 59.95% where the plan writes 80.0%."""
    value, unit = progress["actual_value"], kpi.unit if unit is None else unit
    if progress.get("value_source") == COMPUTED and value is not None:
        return format_computed(value, kpi, unit)
    return format_reported(value, unit, kpi.decimals)


def format_computed(value: float | None, kpi: Kpi, unit: str | None = None) -> str:
    """A rate computed from counts (a 団体's, a region's, the prefecture's), which no one wrote: one digit more than
    the plan's precision, 59.95% where the plan writes 80.0%; "-" without a value."""
    if value is None:
        return "-"
    return format_value(value, kpi.unit if unit is None else unit, kpi.decimals + 1)


def format_count(count: float | None) -> str:
    """A count from a survey sheet (a numerator, a denominator, their sums), with thousands separators: 100,000;
    "-" without one."""
    return "-" if count is None else format_reported(count, "", 0)


# A 団体 whose counts for a computed KPI and year are not all in: never shown as 0.
UNREPORTED = "未提出"
# A 団体 whose latest survey sheet of the year was rejected, none accepted since (local_government_values.sheet_status):
# said in 庁内用 (the report, shinchoku status, the internal site); 公開用 says 未提出.
REJECTED = "差戻し"
# A 団体 that reported a denominator of 0 (0 of 0): reported, without a rate.
NO_DENOMINATOR = "0/0(率なし)"


def unreported_status(row: dict, public: bool = False) -> str:
    """What a 団体 that has not reported a KPI's year is called (a row of local_government_values): 差戻し where its
    latest survey sheet was rejected (the view's sheet_status), else 未提出; 公開用 (``public``) says 未提出 either way."""
    return REJECTED if not public and row.get("sheet_status") == REJECTED else UNREPORTED


def format_unit_rate(row: dict | None, kpi: Kpi) -> str:
    """A 団体's rate in one year (a row of local_government_values): 60.00%, 未提出, 差戻し, 0/0(率なし), or "-" where
    the rule was not in force (no row)."""
    if row is None:
        return "-"
    if not row["reported"]:
        return unreported_status(row)
    if row["value"] is None and row["denominator"] == 0:
        return NO_DENOMINATOR
    return format_computed(row["value"], kpi)


MAX_NAMES_SHOWN = 10


def names_text(names: list[str], limit: int | None = MAX_NAMES_SHOWN) -> str:
    """鮫川村、昭和村、金山町; past ``limit`` names, …ほか N団体."""
    if limit is None or len(names) <= limit:
        return "、".join(names)
    return "、".join(names[:limit]) + f" …ほか {len(names) - limit}団体"


def missing_units(missing: list[str], rejected=(), limit: int | None = MAX_NAMES_SHOWN) -> str:
    """The 団体 that have not reported a KPI's year (``missing``, names), those whose survey sheet was rejected
    (``rejected``, among them) apart: 未提出: 鮫川村、昭和村 / 差戻し: 金山町."""
    unsent = [n for n in missing if n not in set(rejected)]
    parts = [(UNREPORTED, unsent), (REJECTED, [n for n in missing if n in set(rejected)])]
    return " / ".join(f"{label}: {names_text(names, limit)}" for label, names in parts if names)


def format_unit_status(row: dict) -> str:
    """提出状況 of a 団体's counts for a KPI and year: 未提出, 差戻し, 提出済(未確定) or 確定, with the mark 速報・見込・暫定."""
    if not row["reported"]:
        return unreported_status(row)
    text = "確定" if row["value_status"] == "確定" else "提出済(未確定)"
    return text + (f"({row['provisional']})" if row.get("provisional") else "")


def coverage_text(row: dict) -> str:
    """「集計中 58/59団体」 for a computed KPI's value in a year not every expected local government has reported to
    (kpi_progress.aggregating, units_reported, units_expected); "" for a complete aggregate or a department's value.
    The one wording of 集計中: a partial sum is never shown as if complete."""
    if not row.get("aggregating"):
        return ""
    return coverage(row["units_reported"], row["units_expected"])


def coverage(reported: int, expected: int) -> str:
    """「集計中 58/59団体」: a computed KPI's year that not every expected local government has reported to."""
    return f"集計中 {reported}/{expected}団体"


def provisional_mark(progress: dict) -> str:
    """(速報), (2024/2/29時点), (未確定), (集計中 58/59団体), any of them, or "" for a confirmed final value as of the
    fiscal year's end."""
    marks = []
    if coverage := coverage_text(progress):
        marks.append(f"({coverage})")
    if progress.get("provisional"):
        marks.append(f"({progress['provisional']})")
    as_of, year = progress.get("as_of"), progress.get("fiscal_year")
    if as_of is not None and year is not None and as_of != fiscal_year_end(year):
        marks.append(f"({as_of.year}/{as_of.month}/{as_of.day}時点)")
    if progress.get("value_status") == "未確定":
        marks.append("(未確定)")
    return "".join(marks)


def format_outlook(outlook: dict | None) -> str:
    """見通し, with ※ when a point it rests on is provisional or mid-year."""
    if not outlook:
        return "-"
    return outlook["outlook"] + ("※" if outlook["includes_provisional"] else "")


def format_reach(outlook: dict | None) -> str:
    """達成見込年度: R7年度, or - where the line does not reach the target within ten years of it."""
    return format_year(outlook["projected_reach_fy"]) if outlook and outlook["projected_reach_fy"] else "-"


def format_year(year: int | None) -> str:
    """R3年度, or 不明."""
    return fiscal_year_label(year) if year else "不明"


def format_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


@dataclass
class Kpi:
    kpi_id: str
    name: str
    area_id: str
    initiative_id: str | None
    unit: str
    direction: str
    baseline_value: float | None
    baseline_fy: int | None
    target_value: float | None
    target_fy: int | None
    baseline_decimals: int | None
    target_decimals: int | None
    owner: str
    # where the committee revised it: the plan as first set, and the fiscal year the figure in force applies from
    first: dict | None = None
    baseline_since: int | None = None
    target_since: int | None = None
    # the one definition every figure of the KPI's standing comes from: its version and the fiscal year it is in
    # force in (the year of the latest actual shown, or the report year without one; kpi_year_outlook.definition_fy)
    version: int | None = None
    definition_fy: int | None = None
    revised: bool = False

    @property
    def definition_text(self) -> str:
        """「R6年度に効力のある定義」, with 「(改定後)」 or 「(当初)」 where the committee revised the KPI."""
        text = f"{format_year(self.definition_fy)}に効力のある定義" if self.definition_fy else "定義"
        if self.revised:
            text += "(当初の計画)" if self.version == 1 else f"(第{self.version}版・改定後)"
        return text

    @property
    def decimals(self) -> int:
        return max(self.baseline_decimals or 0, self.target_decimals or 0)

    @property
    def baseline_text(self) -> str:
        return self._plan_text("baseline", self.baseline_since)

    @property
    def target_text(self) -> str:
        return self._plan_text("target", self.target_since)

    def _plan_text(self, which: str, since: int | None) -> str:
        """48.2%(R3年度), or where revised 「当初 80.0%(R7年度) → 改定 90.0%(R7年度、R6年度から)」."""
        def text(source, tail=""):
            value = format_value(source[f"{which}_value"], self.unit, source[f"{which}_decimals"])
            return f"{value}({format_year(source[f'{which}_fy'])}{tail})"

        current = text(vars(self))
        if since is None or self.first is None:
            return current
        return f"当初 {text(self.first)} → 改定 {text(vars(self), f'、{format_year(since)}から')}"


def view_rows(con, sql: str, params=()) -> list[dict]:
    """A view's rows as dicts, their texts writable (the report and the site read through here: a control
    character stored before the reader removed them must not stop either)."""
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [writable_row(dict(zip(names, r))) for r in cur.fetchall()]


PLAN_FIELDS = ("name", "owner", "direction", "baseline_value", "baseline_decimals", "baseline_fy", "target_value",
               "target_decimals", "target_fy")


def _in_force(kpi: dict, versions: list[dict], version: int | None, definition_fy: int | None = None) -> Kpi:
    """The KPI as defined in one fiscal year (``version``, as kpi_year_definitions has it for ``definition_fy``;
    the last beyond its years), and since when its figures stand (kpi_definitions)."""
    if not versions:
        return Kpi(**kpi, definition_fy=definition_fy)
    n = (version or len(versions)) - 1
    current = {**kpi, **{f: versions[n][f] for f in PLAN_FIELDS}, "version": n + 1, "definition_fy": definition_fy,
               "revised": len(versions) > 1}

    def since(which: str) -> int | None:
        keys = (f"{which}_value", f"{which}_fy")
        if all(versions[0][k] == versions[n][k] for k in keys):
            return None
        start = n
        while start > 0 and all(versions[start - 1][k] == versions[n][k] for k in keys):
            start -= 1
        return versions[start]["valid_from_fy"]

    return Kpi(**current, first=versions[0], baseline_since=since("baseline"), target_since=since("target"))


def stale_note(con: duckdb.DuckDBPyConnection, current: str | None) -> str | None:
    """STALE_NOTE when ``current`` (warehouse.fingerprint of the catalogue and settings in force) is not what the
    warehouse was built from (the view warehouse_fingerprint); None when it is, or when there is nothing to compare."""
    if current is None:
        return None
    built = {r[0] for r in con.execute("select fingerprint from warehouse_fingerprint").fetchall()}
    return None if current in built else STALE_NOTE


def warehouse_is_stale(warehouse: Path, current: str | None) -> bool:
    """Whether the warehouse predates the catalogue and settings in force (for the command's own warning)."""
    from .. import database  # here: the formatters above serve the return sheet's writer too, which needs no DuckDB

    con = database.connect(warehouse)
    try:
        return stale_note(con, current) is not None
    finally:
        con.close()


class ReportData:
    """Everything the report shows, read from the views for one fiscal year. With ``current`` (the fingerprint of
    the catalogue and settings in force), ``stale`` holds STALE_NOTE when the warehouse predates them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, year: int | None, current: str | None = None):
        present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        missing = set(REPORT_VIEWS) - present
        if missing:
            raise ReportError(f"ウェアハウスにビューがありません: {', '.join(sorted(missing))}")
        self.stale = stale_note(con, current)
        kpis = view_rows(con, """
            select kpi_id, name, area_id, initiative_id, unit, direction, baseline_value, baseline_fy, target_value,
                   target_fy, baseline_decimals, target_decimals, owner from kpis order by area_id, kpi_id""")
        # each KPI's definitions in order of their fiscal years (the site's KPI pages list them too)
        self.definitions: dict[str, list[dict]] = {}
        for r in view_rows(con, "select * from kpi_definitions order by kpi_id, valid_from_fy"):
            self.definitions.setdefault(r["kpi_id"], []).append(r)
        self.revisions = view_rows(con, "select * from kpi_revisions order by effective_fy, row_order")
        self.initiatives = view_rows(con, "select * from initiatives order by area_order, initiative_id")
        self.areas = []
        for r in self.initiatives:
            if (r["area_id"], r["area"]) not in self.areas:
                self.areas.append((r["area_id"], r["area"]))
        self.grades = view_rows(con, "select grade, min_pace, label, is_floor from grade_bands order by grade_rank")
        self.area_groups = {r["area_id"]: r["area_group"] for r in view_rows(con, "select distinct area_id, area_group from kpis")}
        progress = view_rows(con, "select * from kpi_progress order by kpi_id, fiscal_year")
        years = sorted({p["fiscal_year"] for p in progress})
        self.year = year or (years[-1] if years else None)
        if self.year is None:
            raise NoActuals("実績がまだありません。--year で年度を指定してください。")
        self._kpi_rows = {r["kpi_id"]: r for r in kpis}
        self._version_in = {(k, fy): v for k, fy, v in con.execute(
            "select kpi_id, fiscal_year, version from kpi_year_definitions").fetchall()}
        self.outlook = {r["kpi_id"]: r for r in view_rows(con, "select * from kpi_year_outlook where report_fy = ?",
                                                        [self.year])}
        # each KPI under the one definition its standing in the report year is judged by (kpi_year_outlook)
        self.kpis = [self.kpi_as_of(r["kpi_id"], (self.outlook.get(r["kpi_id"]) or {}).get("definition_fy") or self.year)
                     for r in kpis]
        self.definition_trajectory = {(r["kpi_id"], r["version"], r["fiscal_year"]): r["expected_value"] for r in view_rows(
            con, "select kpi_id, version, fiscal_year, expected_value from kpi_definition_trajectory")}
        self.years = [y for y in years if y <= self.year]
        self.progress = {(p["kpi_id"], p["fiscal_year"]): p for p in progress}
        self.charted = sorted({p["kpi_id"] for p in progress})
        self.trajectory = {(r["kpi_id"], r["fiscal_year"]): r["expected_value"]
                           for r in view_rows(con, "select kpi_id, fiscal_year, expected_value from kpi_trajectory")}
        self.plan_years = sorted({fy for _, fy in self.trajectory})
        self.outcomes = view_rows(con, "select * from initiative_outcomes where is_current and fiscal_year = ? "
                                   "order by initiative_id, coalesce(submission_id, 0), row_order", [self.year])
        # every year's submission status, read once: the departments' return sheets, then the local governments'
        # survey sheets (in the catalogue's order), the latest year first, as the site's status page lists them
        self.all_status = view_rows(con, """
            select s.* from submission_status as s left join local_governments as g on g.code = s.local_government
            order by s.fiscal_year desc, s.unit_kind = '団体', g.row_order, s.department""")
        # the departments (the local governments' survey sheets are shinchoku status's and review's to show)
        departments = [r for r in self.all_status if r["unit_kind"] == "部局"]
        self.status_year = max((r["fiscal_year"] for r in departments if r["fiscal_year"] <= self.year), default=None)
        self.status = [r for r in departments if r["fiscal_year"] == self.status_year]
        self.confirmation = [{k: r[k] for k in ("department", "kpis_expected", "kpis_reported", "confirmed_at")}
                             for r in departments if r["fiscal_year"] == self.year]
        self.warnings = view_rows(con, "select * from data_quality where fiscal_year = ? or fiscal_year is null "
                                   "order by submission_id, sheet, cell", [self.year])
        year_status = view_rows(con, "select * from kpi_year_status where report_fy = ?", [self.year])
        self.standing = {r["kpi_id"]: r for r in year_status if r["fiscal_year"] is not None}
        self.unknown_plan = {r["kpi_id"] for r in kpis if any(
            r[f] is None for f in ("baseline_value", "baseline_fy", "target_value", "target_fy"))}
        self.not_reported = {r["kpi_id"] for r in year_status if not r["reported_this_year"]}
        self.outlooks = view_rows(con, "select * from outlooks order by outlook_rank")
        self.explanations = {r["kpi_id"]: r for r in view_rows(con, """
            select kpi_id, factor_analysis, future_direction from kpi_explanations
            where valid_to is null and fiscal_year = ?""", [self.year])}
        # the computed KPIs' local governments, by region (the prefecture first) and code, up to the report year
        self.unit_values = view_rows(con, """
            select v.*, g.region_order from local_government_values as v left join local_governments as g using (code)
            where v.fiscal_year <= ? order by v.kpi_id, v.fiscal_year, g.region_order nulls first, v.code""", [self.year])
        # their ranks on both bases (the local government pages show the 確定 one in 公開用), and as the 庁内用 site has
        # them (every reported rate: the 現行 basis), ※参考 and weight on the prefecture
        self.all_ranks = view_rows(con, "select * from local_government_ranks where fiscal_year <= ? "
                                        "order by kpi_id, fiscal_year, rank, code", [self.year])
        self.unit_ranks = {(r["kpi_id"], r["fiscal_year"], r["code"]): r for r in self.all_ranks if r["basis"] == "現行"}
        self.aggregates = view_rows(con, """
            select a.*
            from kpi_aggregates as a
            left join (select distinct region, region_order from local_governments) as r on a.scope_kind = '地方'
                and r.region = a.scope
            where a.fiscal_year <= ?
            order by a.kpi_id, a.fiscal_year,
                case a.scope_kind when '県全体' then 1 when '地方' then 2 else 3 end, r.region_order, a.scope""",
            [self.year])

    def kpi_as_of(self, kpi_id: str, year: int) -> Kpi:
        """The KPI under the definition in force in fiscal ``year`` (kpi_year_definitions), stated as such."""
        return _in_force(self._kpi_rows[kpi_id], self.definitions.get(kpi_id, []),
                         self._version_in.get((kpi_id, year)), year)

    def expected(self, kpi: Kpi, year: int) -> float | None:
        """The straight trajectory of the KPI's own definition (kpi_definition_trajectory) in ``year``: one line,
        from the baseline to the target the page shows."""
        if kpi.version is None:
            return self.trajectory.get((kpi.kpi_id, year))
        return self.definition_trajectory.get((kpi.kpi_id, kpi.version, year))

    def latest(self, kpi_id: str) -> dict | None:
        """The KPI's latest actual up to the report year (kpi_year_status)."""
        return self.standing.get(kpi_id)

    def in_area_order(self) -> list[Kpi]:
        """Every KPI, area by area as the plan orders them."""
        order = {area_id: n for n, (area_id, _) in enumerate(self.areas)}
        return sorted(self.kpis, key=lambda k: (order.get(k.area_id, len(order)), k.kpi_id))

    def computed(self) -> list[Kpi]:
        """The KPIs computed from local governments' counts in some year up to the report year, in area order."""
        ids = {r["kpi_id"] for r in self.unit_values}
        return [k for k in self.in_area_order() if k.kpi_id in ids]

    def unit_year(self, kpi_id: str) -> int | None:
        """The year a computed KPI's local governments are shown for: the report year, or the latest before it."""
        return max((r["fiscal_year"] for r in self.unit_values if r["kpi_id"] == kpi_id), default=None)

    def units(self, kpi_id: str, year: int) -> list[dict]:
        """local_government_values of a KPI and year, by region (the prefecture first) and code."""
        return [r for r in self.unit_values if r["kpi_id"] == kpi_id and r["fiscal_year"] == year]

    def aggregate(self, kpi_id: str, year: int, scope: str = "県全体") -> dict | None:
        return next((a for a in self.aggregates if (a["kpi_id"], a["fiscal_year"], a["scope"]) == (kpi_id, year, scope)),
                    None)

    def explanation(self, kpi_id: str) -> tuple[str, str]:
        """The year's 要因分析 and 今後の方向性 as the department last wrote them ("" where blank)."""
        texts = self.explanations.get(kpi_id) or {}
        return texts.get("factor_analysis") or "", texts.get("future_direction") or ""


def grade_legend(grades: list[dict]) -> str:
    """「評価: ペース…が A(順調) ≥ 100%、…、D(遅れ) それ未満。目標達成は A。」 from the configured bands."""
    parts = [f"{g['grade']}({g['label']}) それ未満" if g["is_floor"] else f"{g['grade']}({g['label']}) ≥ {g['min_pace']:.0%}"
             for g in grades]
    return f"評価: ペース(基準値から目標値への直線の軌道に対する実績)が {'、'.join(parts)}。目標達成は {grades[0]['grade']}。"


def outlook_legend(outlooks: list[dict]) -> str:
    """「見通し: 基準値と各年度の実績に当てはめた直線の傾き…達成見込み ≥ 100%、要加速 ≥ 60%…」 from the configuration."""
    parts = []
    for o in outlooks:
        if o["min_pace_ratio"] is not None:
            parts.append(f"{o['outlook']} ≥ {o['min_pace_ratio']:.0%}")
        elif o["below_pace_ratio"] is not None:
            parts.append(f"{o['outlook']} < {o['below_pace_ratio']:.0%}")
    return ("見通し: 基準値と各年度の実績に当てはめた直線(最小二乗法)の1年あたりの傾きを、目標年度までに必要な"
            f"1年あたりのペースと比べた比が {'、'.join(parts)}。傾きが目標から遠ざかる向きなら悪化、目標年度を過ぎて"
            "未到達なら未達成。達成見込年度は直線が目標値に届く年度。※は速報・見込・暫定または年度途中の値を含む。")


def trend_line(outlook: dict | None, kpi: Kpi) -> dict[int, float]:
    """The fitted line of kpi_outlook from the latest actual's year to the target year ({} when it has none)."""
    if not outlook or outlook["outlook"] in ("目標達成", "評価不能", "未達成") or outlook["trend_per_year"] is None:
        return {}
    end, at_end, slope = kpi.target_fy, outlook["projected_at_target"], outlook["trend_per_year"]
    return {y: at_end - slope * (end - y) for y in range(outlook["latest_fy"], end + 1)}
