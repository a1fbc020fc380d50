"""The progress site: static HTML pages, offline from file://, built from the views alone (shinchoku site).

Pages are Jinja2 templates with autoescaping on; data inside <script> goes through ``|tojson``.
Charts are Plotly's, its JavaScript copied once into ``assets/``; every chart has its data as a
table. The site is built in a temporary folder and swapped in, so a reader never sees half of one.

Two editions: 庁内用 (every current value, with its file, cell and receipt, and the submission and
data-quality pages) and 公開用 (``public=True``: confirmed values only, nothing about files or
submissions), for the prefecture's website.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

from ..workbook.parse import fiscal_year_label
from .facts import (COMPUTED, DEFINITION_NOTE, MAX_NAMES_SHOWN, REJECTED, UNREPORTED, NoActuals, ReportData, ReportError, coverage_text,
                    format_actual, format_count,
                    format_actual_value, format_outlook, format_rate, format_reach, format_reported, format_value,
                    format_year, grade_legend, outlook_legend, trend_line, view_rows)
from .lg_pages import LG_VIEWS, SIMILAR_RULE, LocalGovernmentPages, read as read_local_governments

TEMPLATES = Path(__file__).with_name("site_templates")
# the views the site reads beyond the report's (REPORT_VIEWS); never a raw table
SITE_VIEWS = ("observation_history", "kpi_explanations", "kpi_definitions", "initiative_outcomes", "submissions",
              "audit_log", "submission_status", "confirmations", "kpi_year_outlook", *LG_VIEWS)
DASH = "-"
CONFIRMED = "確定"
# The municipalities' boundaries the maps are drawn from, shipped with the project (its README: source, licence,
# processing; scripts/reduce_boundaries.py), and the credit every map states under it.
BOUNDARIES = Path(__file__).with_name("boundaries") / "fukushima.geojson"
MAP_SOURCE = ("出典: 国土交通省 国土数値情報(行政区域データ N03、2021年1月1日時点の境界)を加工して作成"
              "(簡素化: スマートニュース メディア研究所 japan-topography)。利用条件: 国土数値情報ダウンロードサイト"
              "コンテンツ利用規約(出所を示し加工を明記すれば、商用を含め利用可)。")


def build_site(warehouse: Path, out: Path, year: int | None = None, public: bool = False,
               current: str | None = None) -> Path:
    """Write the site for ``year`` (default: the latest with an actual, or with a confirmed one when
    ``public``) into ``out``, replacing it whole. ``current``: the fingerprint of the catalogue and settings in
    force; a warehouse built from others gets STALE_NOTE on every page."""
    from .. import database
    import jinja2

    if not Path(warehouse).exists():
        raise ReportError(f"ウェアハウスがありません: {warehouse}")
    con = database.connect(warehouse, snapshot=True)
    try:
        if public and year is None:
            [(year,)] = con.execute("select max(fiscal_year) from kpi_progress where value_status = ?",
                                    [CONFIRMED]).fetchall()
            if year is None:
                raise NoActuals("確定した実績がまだありません(shinchoku confirm で確定すると公開用に載ります)。")
        data = ReportData(con, year, current)
        # each page's rows, grouped once by KPI or initiative
        extra = {
            "history": _by(view_rows(con, "select * from observation_history order by kpi_id, fiscal_year, as_of, version"),
                           "kpi_id"),
            "explanations": _by(view_rows(con, "select * from kpi_explanations where valid_to is null "
                                           "order by kpi_id, fiscal_year"), "kpi_id"),
            "definitions": data.definitions,
            "outcomes": _by(view_rows(con, "select o.*, s.department from initiative_outcomes as o "
                                       "left join submissions as s using (submission_id) where o.is_current "
                                       "order by o.initiative_id, o.fiscal_year, coalesce(o.submission_id, 0), o.row_order"),
                            "initiative_id"),
            "run": view_rows(con, "select occurred_at, run_id from audit_log where action = 'run' order by event_id desc limit 1"),
            # the departments' return sheets, then the local governments' survey sheets (in the catalogue's order)
            "status": data.all_status,
            "confirmed": view_rows(con, "select department, fiscal_year, confirmed_at from confirmations where is_standing"),
            # the public edition's outlooks stand at each KPI's latest confirmed year
            "year_outlook": view_rows(con, "select * from kpi_year_outlook") if public else [],
            # the local government pages' rows, each view read once for all of them (the maps' units among them)
            "local_governments": read_local_governments(con, data, public),
        }
        # a computed KPI's units for its map, every edition's (no file, no cell: the map shows none in either)
        extra["lg_values"] = _by(extra["local_governments"]["all_values"], "kpi_id")
    finally:
        con.close()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "assets").mkdir(parents=True)
        (tmp / "kpi").mkdir()
        (tmp / "area").mkdir()
        (tmp / "lg").mkdir()
        _copy_assets(tmp / "assets")
        pages = _Pages(env, _Scope(data, extra, public), extra, tmp)
        pages.index()
        for kpi in data.kpis:
            pages.kpi(kpi)
        for area_id, area in data.areas:
            pages.area(area_id, area)
        pages.lg.build()
        if not public:
            pages.status()
            pages.quality()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # the old site stays as it was
        raise
    _swap(tmp, out)
    return out


class _Scope:
    """What the pages may show of the views' values.

    庁内用: every current value, as the views have them. 公開用: a KPI's values of confirmed department-years
    only (value_status 確定); its latest confirmed actual stands for it; its 見通し is the one of that year
    (kpi_year_outlook), shown only when every point it rests on is confirmed; 要因分析 and outcomes only of
    confirmed department-years.
    """

    def __init__(self, data: ReportData, extra: dict, public: bool):
        self.data, self.public = data, public
        self.confirmed = {(r["department"], r["fiscal_year"]) for r in extra["confirmed"]}
        self.last_confirmed = max((r["confirmed_at"] for r in extra["confirmed"]), default=None)
        self.year_outlook = {(r["kpi_id"], r["report_fy"]): r for r in extra["year_outlook"]}

    def value(self, kpi_id: str, year: int) -> dict | None:
        """The KPI's value of ``year`` (kpi_progress), if the report year reaches it and the edition shows it."""
        p = self.data.progress.get((kpi_id, year))
        if p is None or year > self.data.year or (self.public and p["value_status"] != CONFIRMED):
            return None
        return p

    def latest(self, kpi_id: str) -> dict | None:
        if not self.public:
            return self.data.latest(kpi_id)
        shown = [y for y in self.data.years if self.value(kpi_id, y)]
        return self.value(kpi_id, shown[-1]) if shown else None

    def outlook(self, kpi_id: str) -> dict | None:
        if not self.public:
            return self.data.outlook.get(kpi_id)
        latest = self.latest(kpi_id)
        if latest is None:
            return None
        rests_on = [self.data.progress.get((kpi_id, y)) for y in self.data.years if y <= latest["fiscal_year"]]
        if any(p and p["value_status"] != CONFIRMED for p in rests_on):
            return None
        return self.year_outlook.get((kpi_id, latest["fiscal_year"]))

    def kpi(self, kpi):
        """The KPI under the one definition its standing here is judged by: the report's (the definition in force
        in its latest actual's year) in 庁内用; in 公開用 the one of its latest confirmed actual's year."""
        if not self.public:
            return kpi
        latest = self.latest(kpi.kpi_id)
        return self.data.kpi_as_of(kpi.kpi_id, latest["fiscal_year"] if latest else self.data.year)

    def shows(self, department: str | None, year: int) -> bool:
        """Whether a department's text of ``year`` (要因分析, an outcome) is shown; the plan's own always is."""
        return not self.public or department is None or (department, year) in self.confirmed


def rebuild(settings) -> list[str]:
    """After a run: the 庁内用 edition into the configured folder, and the 公開用 one where configured.
    One line each for the run's summary; a warehouse without an actual (or a confirmed one) yet is said, not failed."""
    lines = []
    for label, folder, public in (("庁内用", settings.site_folder, False), ("公開用", settings.public_site_dir, True)):
        if folder is None:
            continue
        try:
            lines.append(f"進捗サイト({label}): {build_site(settings.warehouse, folder, public=public) / 'index.html'}")
        except NoActuals as e:
            lines.append(f"進捗サイト({label}): 作成していません。{e}")
    return lines


def _by(rows: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row[key], []).append(row)
    return grouped


def _copy_assets(folder: Path) -> None:
    from importlib.util import find_spec

    plotly = Path(find_spec("plotly").submodule_search_locations[0])  # its bundled JavaScript, without importing it
    shutil.copyfile(plotly / "package_data" / "plotly.min.js", folder / "plotly.min.js")
    shutil.copyfile(TEMPLATES / "site.css", folder / "site.css")
    # the boundaries as a script (a page from file:// may not fetch a file), then the map's own function
    (folder / "lg_map.js").write_text(
        f"var SHINCHOKU_BOUNDARIES = {BOUNDARIES.read_text(encoding='utf-8').strip()};\n"
        + (TEMPLATES / "lg_map.js").read_text(encoding="utf-8"), encoding="utf-8")


def _swap(tmp: Path, out: Path) -> None:
    """Put the new site in place of the old one: two renames, the old site removed after."""
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def _version(h: dict, kpi) -> dict:
    """One row of observation_history as the KPI page's tables show it."""
    return {"year": format_year(h["fiscal_year"]), "fiscal_year": h["fiscal_year"], "version": h["version"], "current": h["valid_to"] is None,
            "value": format_reported(h["actual_value"], kpi.unit, kpi.decimals), "as_of": f"{h['as_of']:%Y-%m-%d}",
            "mark": h["provisional"] or "", "status": h["value_status"], "source": f"{h['file_name']} {h['source_cell']}",
            "received": f"{h['valid_from']:%Y-%m-%d %H:%M}" if h["valid_from"] else DASH}


def _number(value, kpi) -> str:
    """A derived figure (the trajectory, the trend) at the plan's precision."""
    return DASH if value is None else format_value(value, "", kpi.decimals)


def _reported(progress: dict | None, kpi, unit: str = "") -> str:
    """A year's actual (a kpi_progress row) as format_actual_value writes it (without its unit unless given), with
    集計中 and its coverage where a computed KPI's year is not complete."""
    if progress is None:
        return DASH
    coverage = coverage_text(progress)
    return format_actual_value(progress, kpi, unit) + (f"({coverage})" if coverage else "")


class _Pages:
    """Renders each page with what every page shares (navigation, the data's date, the edition)."""

    def __init__(self, env, scope: _Scope, extra: dict, root: Path):
        self.env, self.scope, self.data, self.extra, self.root = env, scope, scope.data, extra, root
        run = extra["run"][0] if extra["run"] else None
        self.as_of = (f"{run['occurred_at']:%Y-%m-%d %H:%M}(日本時間)の取込(実行番号 {run['run_id']})まで"
                      if run else "取込の記録なし")
        if scope.public:
            self.as_of += f"、最終の確定 {scope.last_confirmed:%Y-%m-%d}" if scope.last_confirmed else ""
        self.areas = [{"id": a, "name": n} for a, n in self.data.areas]
        self.area_names = dict(self.data.areas)
        self.shown = {kpi.kpi_id: scope.kpi(kpi) for kpi in self.data.kpis}  # as this edition judges each KPI
        self.standing = {k: self._standing(kpi) for k, kpi in self.shown.items()}  # each page shows the same
        # the local government pages, and what the KPI pages share with them (the distribution, the rates' texts)
        self.lg = LocalGovernmentPages(self, extra["local_governments"])

    def render(self, template: str, path: str, title: str, charts: list | None = None, **context) -> None:
        depth = path.count("/")
        html = self.env.get_template(template).render(
            title=title, root="../" * depth, areas=self.areas, data_as_of=self.as_of, public=self.scope.public,
            stale_note=self.data.stale,
            charts=charts or [], **context)
        (self.root / path).write_text(html, encoding="utf-8")

    def _standing(self, kpi) -> dict:
        """A KPI's latest actual, grade and outlook as this edition shows them."""
        scope = self.scope
        latest, outlook = scope.latest(kpi.kpi_id), scope.outlook(kpi.kpi_id)
        return {"kpi_id": kpi.kpi_id, "name": kpi.name, "latest": latest, "outlook_row": outlook,
                "definition": kpi.definition_text,
                "actual": f"{format_actual(latest, kpi)}({format_year(latest['fiscal_year'])})" if latest else "実績なし",
                "rate": format_rate(latest["progress_rate"]) if latest else DASH,
                "grade": (latest["grade"] if latest else None) or DASH, "outlook": format_outlook(outlook)}

    def index(self) -> None:
        """トップ: first what needs attention (the KPIs, then the departments that have not reported), then the
        counts by area without their all-zero columns, then every KPI; the legends last."""
        data = self.data
        classes = [("評価", g["grade"]) for g in data.grades] + [("評価", "評価不能")] + \
            [("見通し", o["outlook"]) for o in data.outlooks]
        counts = {area_id: dict.fromkeys(classes, 0) for area_id, _ in data.areas}
        rows, charts, attention = [], [], []
        for kpi in data.in_area_order():
            kpi = self.shown[kpi.kpi_id]
            row = dict(self.standing[kpi.kpi_id])
            if kpi.area_id in counts:
                counts[kpi.area_id][("評価", (row["latest"] or {}).get("grade") or "評価不能")] += 1
                if row["outlook_row"]:
                    counts[kpi.area_id][("見通し", row["outlook_row"]["outlook"])] += 1
            points = [(y, p["actual_value"]) for y in data.years if (p := self.scope.value(kpi.kpi_id, y))]
            row["spark"] = f"spark-{kpi.kpi_id}" if len(points) > 1 else None
            if row["spark"]:
                charts.append({"id": row["spark"], "figure": _sparkline(points)})
            rows.append({**row, "baseline": kpi.baseline_text, "target": kpi.target_text})
            reasons = self._needs_attention(row)
            if reasons:
                attention.append({**row, "area": self.area_names.get(kpi.area_id, kpi.area_id),
                                  "reasons": "、".join(reasons)})
        years = {row["latest"]["fiscal_year"] for row in rows if row["latest"]}
        if not self.scope.public:
            heading = format_year(data.year)
        else:  # each KPI's latest confirmed value stands for it, of whichever year that is
            heading = "最新の確定値" + (f"({format_year(next(iter(years)))})" if len(years) == 1 else "(年度は各行)")
        self.render("index.html", "index.html", f"DX推進計画 指標の進捗 {heading}", charts,
                    grade_legend=grade_legend(data.grades), outlook_legend=outlook_legend(data.outlooks),
                    counts_label=f"({format_year(data.year)})" if not self.scope.public else "(各指標の最新の確定値)",
                    definition_note=DEFINITION_NOTE, area_counts=[_area_counts(self.area_names[a], c)
                                                                  for a, c in counts.items()],
                    kpi_rows=rows, attention=attention, attention_rule=self._attention_rule(),
                    unreported=None if self.scope.public else self._unreported(),
                    governments=None if self.scope.public else self._unreported_governments(),
                    status_year=format_year(data.status_year) if data.status_year else None)

    # 見通し that need attention besides the floor grade and a value worse than the baseline
    ATTENTION_OUTLOOKS = ("達成困難", "悪化", "未達成")

    def _needs_attention(self, row: dict) -> list[str]:
        """Why a KPI needs attention, as this edition shows it: graded in the lowest band (grade_bands' floor), its
        latest value worse than the baseline (a negative 進捗率), or its 見通し 達成困難, 悪化 or 未達成. [] if none."""
        latest, outlook = row["latest"] or {}, row["outlook_row"] or {}
        floor = next((g for g in self.data.grades if g["is_floor"]), None)
        reasons = []
        if floor and latest.get("grade") == floor["grade"]:
            reasons.append(f"評価 {floor['grade']}({floor['label']})")
        if latest.get("progress_rate") is not None and latest["progress_rate"] < 0:
            reasons.append("基準値より悪化")
        if outlook.get("outlook") in self.ATTENTION_OUTLOOKS:
            reasons.append(f"見通し {outlook['outlook']}")
        return reasons

    def _attention_rule(self) -> str:
        floor = next((g["grade"] for g in self.data.grades if g["is_floor"]), None)
        return (f"評価が{floor}(最も低い区分)、最新の実績が基準値より悪い、または見通しが"
                f"{'・'.join(self.ATTENTION_OUTLOOKS)}の指標です。")

    def _unreported(self) -> list[dict]:
        """The departments that have not reported every KPI due for the latest ended fiscal year (submission_status)."""
        rows = []
        for r in self.extra["status"]:
            if r["unit_kind"] == "部局" and r["fiscal_year"] == self.data.status_year and \
                    r["kpis_reported"] < r["kpis_expected"]:
                names = [self.shown[k].name if k in self.shown else k for k in r["missing_kpi_ids"]]
                rows.append({"department": r["department"], "year": format_year(r["fiscal_year"]),
                             "reported": f"{r['kpis_reported']}/{r['kpis_expected']}", "missing": "、".join(names),
                             "due": r["due_date"].isoformat()})
        return rows

    def _unreported_governments(self) -> dict | None:
        """The local governments that have not reported every computed KPI due for the latest ended fiscal year
        (submission_status's 団体 rows), those whose survey sheet was rejected apart (rejected_kpi_ids); None without
        a 団体 due that year. Each links its page; past MAX_NAMES_SHOWN of a kind, the rest are counted."""
        units = [r for r in self.extra["status"]
                 if r["unit_kind"] == "団体" and r["fiscal_year"] == self.data.status_year and r["kpis_expected"]]
        if not units:
            return None
        missing = [r for r in units if r["kpis_reported"] < r["kpis_expected"]]
        groups = []
        for label, members in ((UNREPORTED, [r for r in missing if not r["rejected_kpi_ids"]]),
                               (REJECTED, [r for r in missing if r["rejected_kpi_ids"]])):
            if members:
                groups.append({"label": label, "count": len(members), "more": max(0, len(members) - MAX_NAMES_SHOWN),
                               "units": [{"name": r["department"], "href": f"lg/{r['local_government']}.html"}
                                         for r in members[:MAX_NAMES_SHOWN]]})
        return {"year": format_year(self.data.status_year), "expected": len(units), "missing": len(missing),
                "none_yet": len(missing) == len(units) and not any(r["rejected_kpi_ids"] for r in missing),
                "groups": groups}

    def kpi(self, kpi) -> None:
        data, extra, scope = self.data, self.extra, self.scope
        kpi = self.shown[kpi.kpi_id]  # target, trajectory, grade, outlook and trend: one definition
        standing = self.standing[kpi.kpi_id]
        outlook = standing["outlook_row"]
        line = trend_line(outlook, kpi)
        chart_rows, xs, actual, expected, trend = [], [], [], [], []
        for y in data.plan_years:
            p = scope.value(kpi.kpi_id, y)
            a = p["actual_value"] if p else None
            e = data.expected(kpi, y) if kpi.baseline_fy is not None and y >= kpi.baseline_fy else None
            t = line.get(y)
            xs.append(format_year(y))
            actual.append(a)
            expected.append(e)
            trend.append(t)
            chart_rows.append({"year": format_year(y), "actual": _reported(p, kpi), "expected": _number(e, kpi),
                               "trend": _number(t, kpi)})
        figure = _kpi_figure(kpi, xs, actual, expected, trend)
        history = [_version(h, kpi) for h in extra["history"].get(kpi.kpi_id, [])]
        # a department's value in a year a computed KPI's aggregate replaces it is history, not the year's value
        computed = {y for (k, y), p in data.progress.items() if k == kpi.kpi_id and p["value_source"] == COMPUTED}
        values = [{**h, "origin": data.progress[(kpi.kpi_id, h["fiscal_year"])]["value_source"]
                   if (kpi.kpi_id, h["fiscal_year"]) in data.progress else DASH}
                  for h in history if h["current"] and (not scope.public or h["status"] == CONFIRMED)
                  and h["fiscal_year"] not in computed]
        # a computed KPI's years: its value as kpi_progress has it (the aggregate), in year order among the others
        values = sorted(values + [self._aggregate_value(kpi, p) for y in sorted(computed)
                                  if (p := scope.value(kpi.kpi_id, y))], key=lambda v: v["fiscal_year"])
        superseded = [] if scope.public else [h for h in history if not h["current"]]
        explanations = [{"year": format_year(e["fiscal_year"]), "factor": e["factor_analysis"] or "(記入なし)",
                         "direction": e["future_direction"] or "(記入なし)"}
                        for e in extra["explanations"].get(kpi.kpi_id, [])
                        if (e["factor_analysis"] or e["future_direction"]) and scope.shows(e["department"], e["fiscal_year"])]
        definitions = [{"span": f"{format_year(d['valid_from_fy'])}〜{format_year(d['valid_to_fy']) if d['valid_to_fy'] else ''}",
                        "baseline": f"{format_value(d['baseline_value'], kpi.unit, d['baseline_decimals'])}"
                                    f"({format_year(d['baseline_fy'])})",
                        "target": f"{format_value(d['target_value'], kpi.unit, d['target_decimals'])}"
                                  f"({format_year(d['target_fy'])})",
                        "owner": d["owner"], "revision": d["revision_id"] or "当初", "reason": d["reason"] or ""}
                       for d in extra["definitions"].get(kpi.kpi_id, [])]
        lg_map = self._lg_map(kpi, standing["latest"])
        # the municipalities' distribution in the map's year: the local government pages' chart, no one highlighted
        dist = self.lg.distribution(kpi, lg_map["fiscal_year"], prefix="../lg/") if lg_map else None
        # who weighs on the prefecture's rate that year (local_government_ranks.prefecture_effect)
        pulling = self.lg.pulling(kpi, lg_map["fiscal_year"], prefix="../lg/") if lg_map else None
        charts = [{"id": "chart", "figure": figure}] + ([{"id": dist["chart"], "figure": dist["figure"]}] if dist else [])
        self.render("kpi.html", f"kpi/{kpi.kpi_id}.html", kpi.name, charts,
                    kpi=kpi, area_name=self.area_names.get(kpi.area_id, kpi.area_id),
                    latest=standing["actual"], grade=standing["grade"], outlook=standing["outlook"],
                    definition=standing["definition"], definition_note=DEFINITION_NOTE,
                    reach=format_reach(outlook) if outlook and outlook["projected_reach_fy"] else "",
                    chart_rows=chart_rows, values=values, superseded=superseded, explanations=explanations,
                    definitions=definitions, lg_map=lg_map, dist=dist, pulling=pulling, rank_rule=self.lg.rank_rule,
                    reference_note=self.lg.reference_note, similar_rule=SIMILAR_RULE)

    def _aggregate_value(self, kpi, progress: dict) -> dict:
        """A computed KPI's year in 年度別の実績 as kpi_progress has it: the prefecture-wide aggregate (with 集計中 and its
        coverage while the year is aggregating), its 時点, mark and 確定, and where it came from: the local governments'
        survey sheets (how many reported) and the latest of their receipts (local_government_values)."""
        year = progress["fiscal_year"]
        units = [u for u in self.extra["lg_values"].get(kpi.kpi_id, []) if u["fiscal_year"] == year and u["reported"]]
        received = max((u["received_at"] for u in units if u["received_at"]), default=None)
        rule = _sums(units[0]["rule"]) if units else DASH
        return {"year": format_year(year), "fiscal_year": year, "value": _reported(progress, kpi, kpi.unit),
                "as_of": f"{progress['as_of']:%Y-%m-%d}" if progress["as_of"] else DASH,
                "mark": progress["provisional"] or "", "status": progress["value_status"],
                "origin": progress["value_source"],
                "source": f"団体の調査票({progress['units_reported']}/{progress['units_expected']}団体)の{rule}",
                "received": f"{received:%Y-%m-%d %H:%M}(最新)" if received else DASH}

    def _lg_map(self, kpi, latest: dict | None) -> dict | None:
        """A computed KPI's map of the municipalities in the year of its latest value as this edition shows it (公開用:
        the latest confirmed), with every expected unit in the table beside it; None for a department's KPI.
        A unit that has not reported is 未提出, never zero; in 公開用 a unit's unconfirmed counts are not shown."""
        if not latest or latest.get("value_source") != COMPUTED:
            return None
        year = latest["fiscal_year"]
        units = [u for u in self.extra["lg_values"].get(kpi.kpi_id, []) if u["fiscal_year"] == year]
        if not units:
            return None
        rows = []
        for u in units:
            shown = u["reported"] and (not self.scope.public or u["value_status"] == CONFIRMED)
            rows.append({**u, "shown": shown, "status": self.lg.status(u),
                         "numerator_text": format_count(u["numerator"]) if shown else DASH,
                         "denominator_text": format_count(u["denominator"]) if shown else DASH,
                         "rate_text": self.lg.unit_rate(kpi, year, u["code"], u["value"]) if shown else DASH})
        measure = "率" if units[0]["rule"] == "ratio_of_sums" else "値"
        coverage = coverage_text(latest) or f"{latest['units_reported']}/{latest['units_expected']}団体の報告がそろっています"
        return {"year": format_year(year), "fiscal_year": year, "measure": measure,
                "coverage": f"{format_year(year)} {coverage}",
                "rule": f"県全体の値は報告した団体の{_sums(units[0]['rule'])}です"
                        + ("(団体ごとの率の平均ではありません)。" if measure == "率" else "。")
                        + ("未提出の団体は灰色で示し" if self.scope.public else
                           f"未提出の団体と、調査票を差し戻した団体({REJECTED})は灰色で示し")
                        + "、0 とはしません。地図の団体をクリックすると、その団体のページを開きます。",
                "source": MAP_SOURCE, "figure": _lg_map_figure(rows, kpi, measure, self.scope.public),
                "rows": [{"code": r["code"], "name": r["name"] + ("(地図外)" if r["kind"] == "県" else ""),
                          "region": r["region"] or DASH, "numerator": r["numerator_text"],
                          "denominator": r["denominator_text"], "rate": r["rate_text"], "status": r["status"]}
                         for r in rows]}

    def area(self, area_id: str, area: str) -> None:
        data = self.data
        blocks = []
        for initiative in (i for i in data.initiatives if i["area_id"] == area_id):
            outcomes = [{"year": format_year(o["fiscal_year"]), "activities": o["activities"] or initiative["activities"],
                         "text": o["outcome_text"] or format_reported(o["figure_value"], o["figure_unit"] or "", None)}
                        for o in self.extra["outcomes"].get(initiative["initiative_id"], [])
                        if self.scope.shows(o["department"], o["fiscal_year"])]
            kpis = [self.standing[k.kpi_id] for k in data.kpis if k.initiative_id == initiative["initiative_id"]]
            blocks.append({"name": f"項目: {initiative['name']}", "outcomes": outcomes, "kpis": kpis})
        loose = [self.standing[k.kpi_id] for k in data.kpis if k.area_id == area_id and k.initiative_id is None]
        if loose:
            blocks.append({"name": "重点取組項目の指標", "outcomes": [], "kpis": loose})
        self.render("area.html", f"area/{area_id}.html", area, blocks=blocks)

    def status(self) -> None:
        """提出状況: each department's return sheets by year, then each local government's survey sheets (as shinchoku
        status shows both, from submission_status), with the KPIs whose sheet was rejected (差戻し)."""
        def row(r) -> list:
            return [r["department"], fiscal_year_label(r["fiscal_year"]), r["kpis_expected"], r["kpis_reported"],
                    "、".join(r["missing_kpi_ids"]) or "なし"] + \
                (["、".join(r["rejected_kpi_ids"]) or DASH] if r["unit_kind"] == "団体" else []) + \
                [r["due_date"].isoformat(), DASH if r["on_time"] is None else ("期限内" if r["on_time"] else "未完了・期限後"),
                 f"確定 {r['confirmed_at']:%Y-%m-%d}" if r["confirmed_at"] else "未確定"]

        due = [r for r in self.extra["status"] if r["kpis_expected"] or r["kpis_reported"]]
        self.render("table.html", "status.html", "提出状況", sections=[
            {"title": "部局・年度ごとの提出状況(実績報告)", "rows": [row(r) for r in due if r["unit_kind"] == "部局"],
             "header": ["部局", "年度", "報告対象", "報告済み", "未報告の指標", "提出期限", "期限内", "確定"]},
            {"title": "団体・年度ごとの提出状況(調査票)", "id": "governments", "rows": [row(r) for r in due if r["unit_kind"] == "団体"],
             "header": ["団体", "年度", "報告対象", "報告済み", "未報告の指標", f"{REJECTED}(調査票を差し戻した指標)",
                        "提出期限", "期限内", "確定"]}])

    def quality(self) -> None:
        data = self.data
        unknown = [[k.kpi_id, k.name, k.baseline_text, k.target_text] for k in data.kpis if k.kpi_id in data.unknown_plan]
        missing = [[k.kpi_id, k.name, format_year(latest["fiscal_year"]) if (latest := data.latest(k.kpi_id))
                    else "実績なし"] for k in data.kpis if k.kpi_id in data.not_reported]
        warnings = [[w["department"], w["file_name"], f"{w['sheet']}!{w['cell']}" if w["cell"] else DASH, w["message"]]
                    for w in data.warnings]
        self.render("table.html", "quality.html", f"データ品質 {format_year(data.year)}", sections=[
            {"title": "不明な基準値・目標年度", "header": ["指標ID", "指標名", "基準値(年度)", "目標値(年度)"], "rows": unknown},
            {"title": f"{format_year(data.year)}の実績がない指標", "header": ["指標ID", "指標名", "最新の実績"], "rows": missing},
            {"title": "警告(受理したが確認が必要な値)", "header": ["部局", "ファイル", "セル", "内容"], "rows": warnings}])


def _area_counts(area: str, counts: dict[tuple[str, str], int]) -> dict:
    """One area's row of トップ's counts, compact: its KPIs, and only the grades and 見通し it has, best first
    (「A 1・B 1」), so that a table of mostly zeros does not hide what is there."""
    def listed(measure: str) -> str:
        return "・".join(f"{c} {n}" for (m, c), n in counts.items() if m == measure and n) or DASH

    return {"area": area, "kpis": sum(n for (m, _), n in counts.items() if m == "評価"), "grades": listed("評価"),
            "outlooks": listed("見通し")}


def _kpi_figure(kpi, xs: list[str], actual: list, expected: list, trend: list) -> dict:
    """Plotly figure data: actuals, the straight trajectory, the target, the fitted trend dotted."""
    target = [kpi.target_value if x == format_year(kpi.target_fy) else None for x in xs]
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": "実績", "x": xs, "y": actual,
         "line": {"color": "#1f4e78", "width": 3}},
        {"type": "scatter", "mode": "lines", "name": "軌道(基準値→目標値)", "x": xs, "y": expected,
         "line": {"color": "#767676", "dash": "dash"}},
        {"type": "scatter", "mode": "markers", "name": "目標値", "x": xs, "y": target,
         "marker": {"symbol": "diamond", "size": 12, "color": "#c00000"}},
        {"type": "scatter", "mode": "lines", "name": "傾向(見通し)", "x": xs, "y": trend,
         "line": {"color": "#c55a11", "dash": "dot"}},
    ]
    layout = {"yaxis": {"title": {"text": kpi.unit}}, "legend": {"orientation": "h"},
              "margin": {"l": 60, "r": 20, "t": 20, "b": 40}, "font": {"family": "Noto Sans CJK JP, sans-serif"}}
    return {"data": data, "layout": layout}


def _sums(rule: str) -> str:
    """What a computed KPI's rule (computed_kpis.rule) sums, in the pages' words."""
    return "分子の合計÷分母の合計" if rule == "ratio_of_sums" else "値の合計"


# the map's colours: a sequential scale for the rate, and a grey (no part of the scale) for the units without one: those
# that have not reported (庁内用 tells 差戻し from 未提出 in the hover and the table), and those without a rate to show
# (its lowest end a blue that stays visible on white, apart from both greys: the lowest rates are not blank)
MAP_SCALE = [[0, "#9ecae1"], [0.5, "#4292c6"], [1, "#08306b"]]
MAP_UNREPORTED, MAP_NO_RATE = "#9e9e9e", "#f0f0f0"


@functools.cache
def _boundary_names() -> dict[str, str]:
    """{code: name} of the municipalities the shipped boundaries draw."""
    features = json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]
    return {f["properties"]["code"]: f["properties"]["name"] for f in features}


def _lg_map_figure(rows: list[dict], kpi, measure: str, public: bool) -> dict:
    """Plotly figure data of a computed KPI's map: the municipalities (the 県 is not a polygon of its own) shaded by
    their rate, and those without one in fixed greys, each a trace of its own with a legend entry; every polygon's
    customdata is [code, hover text]. The boundaries (SHINCHOKU_BOUNDARIES, features keyed by properties.code) are
    added by the page's script."""
    def hover(r) -> str:
        return (f"{r['name']}<br>分子 {r['numerator_text']}<br>分母 {r['denominator_text']}<br>{measure} {r['rate_text']}"
                + ("" if r["shown"] and r["value"] is not None else f"<br>{r['status']}"))

    mapped = [r for r in rows if r["kind"] != "県"]
    rated = [r for r in mapped if r["shown"] and r["value"] is not None]
    base = {"type": "choropleth", "featureidkey": "properties.code", "hovertemplate": "%{customdata[1]}<extra></extra>",
            "marker": {"line": {"color": "#ffffff", "width": 0.6}}}
    data = []
    if rated:
        values = [r["value"] for r in rated]
        data.append({**base, "name": measure, "locations": [r["code"] for r in rated], "z": values,
                     "customdata": [[r["code"], hover(r)] for r in rated], "colorscale": MAP_SCALE,
                     "zmin": min(values), "zmax": max(values) if max(values) > min(values) else min(values) + 1,
                     "colorbar": {"title": {"text": kpi.unit}, "thickness": 14}, "showlegend": False})
    unreported = UNREPORTED if public else f"{UNREPORTED}・{REJECTED}"
    for label, colour, absent in ((unreported, MAP_UNREPORTED, True), ("率なし・非公表", MAP_NO_RATE, False)):
        units = [r for r in mapped if r not in rated and (not r["reported"]) == absent]
        if units:
            data.append({**base, "name": label, "locations": [r["code"] for r in units], "z": [0] * len(units),
                         "customdata": [[r["code"], hover(r)] for r in units],
                         "colorscale": [[0, colour], [1, colour]], "showscale": False, "showlegend": True})
    # a municipality on the map the KPI does not ask to report (none in the demo) is drawn as such, not left a hole
    expected = {r["code"] for r in rows}
    others = {code: name for code, name in _boundary_names().items() if code not in expected}
    if others:
        data.append({**base, "name": "対象外", "locations": list(others), "z": [0] * len(others),
                     "customdata": [[code, f"{name}<br>対象外"] for code, name in others.items()],
                     "colorscale": [[0, "#ffffff"], [1, "#ffffff"]], "showscale": False, "showlegend": True,
                     "marker": {"line": {"color": "#9e9e9e", "width": 0.6}}})
    layout = {"geo": {"fitbounds": "locations", "visible": False, "projection": {"type": "mercator"}},
              "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "legend": {"orientation": "h", "x": 0, "y": 0},
              "font": {"family": "Noto Sans CJK JP, sans-serif"}}
    return {"data": data, "layout": layout}


def _sparkline(points: list[tuple[int, float]]) -> dict:
    return {"data": [{"type": "scatter", "mode": "lines", "x": [fiscal_year_label(y) for y, _ in points],
                      "y": [v for _, v in points], "line": {"color": "#1f4e78"}, "hoverinfo": "x+y"}],
            "layout": {"margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "xaxis": {"visible": False},
                       "yaxis": {"visible": False}, "showlegend": False}}
