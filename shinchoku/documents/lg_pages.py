"""The progress site's local government pages (issue 26): one page per local government (``lg/<code>.html``), one per
region and per named group, and an index with a search that needs no server (``lg/index.html``).

Every figure comes from the views in ``LG_VIEWS``, each read once for the whole site (``read``); the pages are then
rendered from those rows grouped in memory. Ranks and the similar-size rule are the view local_government_ranks's
(its 現行 basis in 庁内用, its 確定 basis in 公開用). 公開用 shows confirmed values only — a municipality's year that is
not 確定 appears nowhere — and no file, cell or receipt.
"""

from __future__ import annotations

from .facts import (NO_DENOMINATOR, REJECTED, UNREPORTED, coverage, format_computed, format_count, format_value, format_year,
                    unreported_status, view_rows)

# the views these pages read (beyond the facts'); never a raw table
LG_VIEWS = ("local_governments", "local_government_groups", "local_government_values", "kpi_aggregates",
            "local_government_ranks", "submissions", "validation_issues")
CONFIRMED = "確定"
REPORTED = "提出済"
# a unit that reported a year 公開用 does not show yet (its counts not 確定)
NOT_PUBLIC = "確定前(非公表)"
DASH = "-"
PREFECTURE = "県全体"
# the rules the views apply (local_government_ranks, 005_macros.sql's rank_by_rate and of_similar_size), as the pages say them
RANK_RULE = ("順位: その年度に率のある市町村の中で、指標の向きでよい順(高いほどよい指標は高い順)。同じ率は同順位。"
             "県は市町村と並べず、順位をつけません。順位の違う率が表示の桁では同じになるときは、違いの分かる桁まで"
             "表示します(例: 75.511429% と 75.511421%)。")
PUBLIC_RANK_RULE = RANK_RULE.replace("率のある市町村", "確定した率のある市町村")
SIMILAR_RULE = ("規模の近い市町村: 種別(市・町・村)が同じで、規模(分母の件数)がこの市町村の0.5倍〜2倍の市町村のうち、"
                "規模の比が近い順に最大5団体。")
RATIO_RULE = "地方・グループ・県全体の率は、報告した団体の分子の合計÷分母の合計です(団体ごとの率の平均ではありません)。"
PREFECTURE_RULE = "県は市町村と並べず、順位をつけません(県の件数は県全体の率に含まれます)。"
# a rate on a denominator below local_government_ranks.reference_below (its macro, small_denominator_limit): ranked, marked
REFERENCE = "※参考"
# how many of the municipalities weighing most on the prefecture's rate a KPI's page lists
PULLING_SHOWN = 10


def read(con, data, public: bool) -> dict:
    """Every row the local government pages show, up to the report year: the views the report's facts (``data``,
    ReportData) read already taken from them, the others one query each; in 公開用 only confirmed values
    (value_status 確定) and the ranks on the 確定 basis. ``all_values`` holds every edition's
    ``local_government_values`` rows up to the year, for the pages and the KPI pages' maps."""
    year = data.year
    # the facts' rows are in region order (the prefecture first): these pages list by code
    all_values = sorted(({k: v for k, v in r.items() if k != "region_order"} for r in data.unit_values),
                        key=lambda r: (r["kpi_id"], r["fiscal_year"], r["code"]))
    return {
        "governments": view_rows(con, "select * from local_governments order by row_order"),
        "groups": view_rows(con, "select * from local_government_groups order by row_order"),
        "all_values": all_values,
        "values": [v for v in all_values if not public or v["value_status"] == CONFIRMED],
        "aggregates": [a for a in data.aggregates if not public or a["value_status"] == CONFIRMED],
        "ranks": [r for r in data.all_ranks if r["basis"] == (CONFIRMED if public else "現行")],
        # 庁内用: the survey sheets a unit's year stands rejected by (local_government_values.rejected_submission_id),
        # with their errors; 公開用 names no file
        "rejected": [] if public else view_rows(con, """
            select s.submission_id, s.file_name, s.received_at, i.sheet, i.cell, i.code, i.message
            from submissions as s
            left join validation_issues as i on i.submission_id = s.submission_id and i.severity = 'error'
            where s.submission_id in (
                select rejected_submission_id from local_government_values where fiscal_year <= ?)
            order by s.submission_id, i.sheet, i.cell, i.code""", [year]),
    }


def region_path(order: int) -> str:
    return f"region-{order}.html"


def reference_note(limit: float | None) -> str:
    """What ※参考 means, with the limit local_government_ranks states (reference_below); "" without one. The pages and
    the report's 市町村別 sheets say it alike."""
    if limit is None:
        return ""
    return (f"{REFERENCE}: 分母が小さい({format_count(limit)}未満)ため率が大きく動きます(1件で5ポイントより大きく動きます)。"
            "順位はつけていますが、比べるときは参考にとどめてください。")


def distinct_places(values: dict[str, float], unit: str, places: int, most: int = 15) -> dict[str, int]:
    """The decimals each code's rate is written to: ``places``, except where different rates would read the same:
    each such group gets as many more as tell its rates apart (75.511429% and 75.511421%, not twice 75.51%), so that
    two rates ranked differently never look like a tie. Equal rates (a tie, one rank) keep one text. The site's texts
    (distinct_rates) and the report's number formats both take their digits from here."""
    texts = {code: format_value(v, unit, places) for code, v in values.items()}
    digits = dict.fromkeys(values, places)
    alike: dict[str, list[str]] = {}
    for code, text in texts.items():
        alike.setdefault(text, []).append(code)
    for codes in alike.values():
        rates = {values[c] for c in codes}
        if len(rates) < 2:
            continue
        more = next((p for p in range(places + 1, most + 1)
                     if len({format_value(r, unit, p) for r in rates}) == len(rates)), most)
        digits.update(dict.fromkeys(codes, more))
    return digits


def distinct_rates(values: dict[str, float], unit: str, places: int, most: int = 15) -> dict[str, str]:
    """Each code's rate written to its distinct_places: rates ranked apart never read alike."""
    return {code: format_value(values[code], unit, p) for code, p in distinct_places(values, unit, places, most).items()}


class LocalGovernmentPages:
    """Renders lg/ through the site's ``pages`` (its ``render``, edition and the KPIs as the edition shows them)."""

    def __init__(self, pages, rows: dict):
        self.pages, self.public = pages, pages.scope.public
        self.governments = [g for g in rows["governments"]]
        self.by_code = {g["code"]: g for g in self.governments}
        self.regions = sorted({(g["region_order"], g["region"]) for g in self.governments if g["region"]})
        self.region_order = {name: order for order, name in self.regions}
        group_names = list(dict.fromkeys(r["group_name"] for r in rows["groups"]))
        self.group_path = {name: f"group-{n}.html" for n, name in enumerate(group_names, 1)}
        self.members = {name: [r["code"] for r in rows["groups"] if r["group_name"] == name] for name in group_names}
        self.groups_of: dict[str, list[str]] = {}
        for name, codes in self.members.items():
            for code in codes:
                self.groups_of.setdefault(code, []).append(name)
        self.values = {(v["kpi_id"], v["fiscal_year"], v["code"]): v for v in rows["values"]}
        # every expected unit of a KPI's year, reported or not, in code order (公開用 too: a member is listed, its
        # unconfirmed counts are not shown)
        self.units_in: dict[tuple[str, int], list[dict]] = {}
        for v in rows["all_values"]:
            self.units_in.setdefault((v["kpi_id"], v["fiscal_year"]), []).append(v)
        self.all_values = {(v["kpi_id"], v["fiscal_year"], v["code"]): v for v in rows["all_values"]}
        self.aggregates = {(a["kpi_id"], a["fiscal_year"], a["scope_kind"], a["scope"]): a for a in rows["aggregates"]}
        self.ranks = {(r["kpi_id"], r["fiscal_year"], r["code"]): r for r in rows["ranks"]}
        self.ranked_in: dict[tuple, list[dict]] = {}
        for r in rows["ranks"]:
            self.ranked_in.setdefault((r["kpi_id"], r["fiscal_year"]), []).append(r)
        kpi_ids = {v["kpi_id"] for v in rows["values"]}
        # in the catalogue's order (area by area), as every other page lists the KPIs
        self.kpis = [pages.shown[k.kpi_id] for k in pages.data.in_area_order() if k.kpi_id in kpi_ids]
        self.reference_below = next((r["reference_below"] for r in rows["ranks"]), None)
        self.years = sorted({v["fiscal_year"] for v in rows["values"]})
        self.rate_texts: dict[tuple[str, int], dict[str, str]] = {}
        self.errors: dict[int, list[dict]] = {}
        for e in rows["rejected"]:
            self.errors.setdefault(e["submission_id"], []).append(e)

    @property
    def rank_rule(self) -> str:
        """The rule of the ranks this edition shows, as the pages say it."""
        return PUBLIC_RANK_RULE if self.public else RANK_RULE

    @property
    def reference_note(self) -> str:
        """What ※参考 means, with the view's limit (local_government_ranks.reference_below); "" with no rank to mark."""
        return reference_note(self.reference_below)

    # formatting
    def status(self, v: dict) -> str:
        """A unit's state in a KPI's year (a row of local_government_values) as this edition says it: 提出済,
        提出済(0/0(率なし)), 未提出 or, in 庁内用, 差戻し (its sheet rejected: the view's sheet_status); 公開用 says 確定前(非公表)
        of counts not yet 確定, and 未提出 of a rejected sheet. The map, the tables and the member lists say it alike."""
        if not v["reported"]:
            return unreported_status(v, self.public)
        if self.public and v["value_status"] != CONFIRMED:
            return NOT_PUBLIC
        return REPORTED if v["value"] is not None or v["rule"] == "sum" else f"{REPORTED}({NO_DENOMINATOR})"

    def rate(self, value, kpi) -> str:
        """A rate as the KPI page writes a computed value: one digit more than the plan's precision."""
        return format_computed(value, kpi)

    def rate_text(self, kpi, year: int, v: dict) -> str:
        """A unit's rate in ``year`` as a table cell says it: its rate (unit_rate), 0/0(率なし), or its state where the
        edition shows no rate (未提出, 差戻し, 確定前(非公表): status)."""
        if not v["reported"] or (self.public and v["value_status"] != CONFIRMED):
            return self.status(v)
        return NO_DENOMINATOR if v["value"] is None else self.unit_rate(kpi, year, v["code"], v["value"])

    @staticmethod
    def size(r: dict) -> str:
        """A ranked municipality's denominator (its size), marked ※参考 where it is too small to compare by."""
        return format_count(r["denominator"]) + (f" {REFERENCE}" if r["reference_only"] else "")

    def ranked_row(self, kpi, year: int, r: dict, prefix: str = "", own: str | None = None) -> dict:
        """A ranked municipality (a row of local_government_ranks) as the tables list it: its link, rank, rate and size."""
        return {**self.link(r["code"], prefix), "rank": r["rank"], "rate": self.unit_rate(kpi, year, r["code"], r["value"]),
                "denominator": self.size(r), "own": r["code"] == own, "reference": r["reference_only"]}

    def member_row(self, kpi, year: int, v: dict, own: str | None = None) -> dict:
        """A unit of a list of members (a row of local_government_values), ranked or not: one that has not reported
        is listed with its state (未提出, 差戻し) and no rate, never left out."""
        r = self.ranks.get((kpi.kpi_id, year, v["code"]))
        if r:
            return self.ranked_row(kpi, year, r, own=own)
        shown = v["reported"] and (not self.public or v["value_status"] == CONFIRMED)
        return {**self.link(v["code"]), "rank": DASH, "rate": self.rate_text(kpi, year, v),
                "denominator": format_count(v["denominator"]) if shown else DASH, "own": v["code"] == own,
                "reference": False}

    def unit_rate(self, kpi, year: int, code: str, value) -> str:
        """A municipality's rate in ``year`` as every table, hover and page of the site writes it: as ``rate`` does,
        or, where a rate ranked differently would read the same, with the digits that tell them apart
        (distinct_rates over the year's ranked rates)."""
        key = (kpi.kpi_id, year)
        if key not in self.rate_texts:
            self.rate_texts[key] = distinct_rates({r["code"]: r["value"] for r in self.ranked_in.get(key, [])},
                                                  kpi.unit, kpi.decimals + 1)
        return self.rate_texts[key].get(code) or self.rate(value, kpi)

    def link(self, code: str, prefix: str = "") -> dict:
        g = self.by_code[code]
        return {"href": f"{prefix}{code}.html", "name": g["name"], "reading": g["reading"], "kind": g["kind"],
                "region": g["region"] or DASH, "code": code}

    def aggregate_rate(self, a: dict | None, kpi) -> str:
        """A region's, a group's or the prefecture's rate (a row of kpi_aggregates), with 集計中 and its coverage
        while not every expected unit has reported: a partial sum is never shown as if complete."""
        if a is None:
            return DASH
        text = self.rate(a["value"], kpi)
        if a["complete"] or a["value"] is None:
            return text
        return f"{text}({coverage(a['units_reported'], a['units_expected'])})"

    def scope_rate(self, kpi, year: int, kind: str, scope: str | None) -> str:
        return self.aggregate_rate(self.aggregates.get((kpi.kpi_id, year, kind, scope)), kpi)

    def build(self) -> None:
        self.index()
        for g in self.governments:
            self.unit(g)
        for order, region in self.regions:
            codes = [g["code"] for g in self.governments if g["region"] == region]
            self.scope("地方", region, region_path(order), codes)
        for name, codes in self.members.items():
            self.scope("グループ", name, self.group_path[name], codes)

    def index(self) -> None:
        """市町村の一覧: a search over an inline list (a local government's name, reading or code; a region's name or
        reading, a group's name, which list their members), then by reading, by region, groups."""
        municipalities = [g for g in self.governments if g["kind"] != "県"]
        prefecture = [self.link(g["code"]) for g in self.governments if g["kind"] == "県"]
        by_reading = [self.link(g["code"]) for g in sorted(municipalities, key=lambda g: (g["reading"], g["code"]))]
        by_region = [{"name": region, "href": region_path(order),
                      "members": [self.link(g["code"]) for g in municipalities if g["region"] == region]}
                     for order, region in self.regions]
        # the search's list: every local government, then each region (its name and reading) and each named group
        # (its name: the catalogue gives a group no reading) with its members, which a match on it lists
        readings = {g["region"]: g["region_reading"] for g in municipalities}
        search = {"units": [{"code": g["code"], "name": g["name"], "reading": g["reading"]} for g in self.governments],
                  "scopes": [{"kind": "地方", "name": r["name"], "reading": readings[r["name"]], "href": r["href"],
                              "codes": [m["code"] for m in r["members"]]} for r in by_region] +
                            [{"kind": "グループ", "name": n, "reading": "", "href": p, "codes": self.members[n]}
                             for n, p in self.group_path.items()]}
        self.pages.render("lg_index.html", "lg/index.html", "市町村別の状況", prefecture=prefecture,
                          by_reading=by_reading, by_region=by_region, search=search,
                          groups=[{"name": n, "href": p, "count": len(self.members[n])} for n, p in self.group_path.items()])

    def unit(self, g: dict) -> None:
        code, is_municipality = g["code"], g["kind"] != "県"
        sections, charts, submissions = [], [], []
        rejected: dict[tuple[int, int], list[str]] = {}  # 庁内用: a rejected survey sheet, its year: the KPIs it held
        for kpi in self.kpis:
            rows, latest = [], None
            for y in self.years:
                v = self.values.get((kpi.kpi_id, y, code))
                if v is None:
                    continue
                r = self.ranks.get((kpi.kpi_id, y, code))
                if v["reported"]:
                    latest = y
                rows.append({
                    "year": format_year(y), "numerator": format_count(v["numerator"]) if v["reported"] else DASH,
                    "denominator": self.size(r) if r else format_count(v["denominator"]) if v["reported"] else DASH,
                    "rate": self.rate_text(kpi, y, v),
                    "rank": f"{r['rank']}位/{r['ranked']}" if r else DASH,
                    "region_rank": f"{r['region_rank']}位/{r['region_ranked']}" if r else DASH,
                    "region_rate": self.scope_rate(kpi, y, "地方", g["region"]) if g["region"] else DASH,
                    "prefecture_rate": self.scope_rate(kpi, y, PREFECTURE, PREFECTURE),
                    "status": v["value_status"]})
                if not self.public and v["reported"]:
                    submissions.append({"kpi": kpi.name, "year": format_year(y), "file": v["file_name"] or DASH,
                                        "numerator_cell": v["numerator_cell"] or DASH,
                                        "denominator_cell": v["denominator_cell"] or DASH,
                                        "received": f"{v['received_at']:%Y-%m-%d %H:%M}" if v["received_at"] else DASH,
                                        "status": v["value_status"], "errors": []})
                if not self.public and v["rejected_submission_id"] is not None:
                    rejected.setdefault((v["rejected_submission_id"], y), []).append(kpi.name)
            if not rows:
                continue
            section = {"kpi": kpi, "rows": rows, "dist": None}
            year = latest if latest in {y for (k, y) in self.ranked_in if k == kpi.kpi_id} else \
                max((y for (k, y) in self.ranked_in if k == kpi.kpi_id), default=None)
            if year is not None and (comparison := self.comparison(kpi, year, g)):
                section.update(comparison)
                charts.append({"id": comparison["dist"]["chart"], "figure": comparison["dist"]["figure"]})
            sections.append(section)
        submissions += [self.rejected_sheet(sid, y, kpis) for (sid, y), kpis in sorted(rejected.items(), key=lambda r: r[0][1])]
        region_order = self.region_order.get(g["region"])
        self.pages.render(
            "lg_unit.html", f"lg/{code}.html", g["name"], charts, unit=g, is_municipality=is_municipality,
            region_href=region_path(region_order) if region_order else None,
            groups=[{"name": n, "href": self.group_path[n]} for n in self.groups_of.get(code, [])],
            sections=sections, submissions=submissions, similar_rule=SIMILAR_RULE, ratio_rule=RATIO_RULE,
            rank_rule=self.rank_rule if is_municipality else PREFECTURE_RULE,
            reference_note=self.reference_note if is_municipality else "")

    def rejected_sheet(self, submission_id: int, year: int, kpis: list[str]) -> dict:
        """A row of 提出(庁内用) for a survey sheet the unit's year stands rejected by (差戻し): its file, its receipt and
        each of its errors (sheet!cell, code, message) as validation_issues has them."""
        rows = self.errors[submission_id]
        return {"kpi": "、".join(kpis), "year": format_year(year), "file": rows[0]["file_name"] or DASH,
                "numerator_cell": DASH, "denominator_cell": DASH,
                "received": f"{rows[0]['received_at']:%Y-%m-%d %H:%M}" if rows[0]["received_at"] else DASH,
                "status": REJECTED,
                "errors": [(f"{e['sheet']}!{e['cell']} " if e["cell"] else "") + f"[{e['code']}] {e['message']}"
                           for e in rows if e["code"]]}

    def comparison(self, kpi, year: int, g: dict) -> dict | None:
        """A local government's comparison in ``year``: the distribution with it highlighted; every member of its
        region, ranked ones by rank, then those without a rate (未提出, 差戻し, 0/0) with their state; itself and the
        municipalities of similar size (local_government_ranks's similar_codes), nearest first."""
        dist = self.distribution(kpi, year, g)
        if dist is None:
            return None
        own = self.ranks.get((kpi.kpi_id, year, g["code"]))
        members = [self.member_row(kpi, year, v, g["code"]) for v in self.units_in.get((kpi.kpi_id, year), [])
                   if g["region"] and v["region"] == g["region"]]
        members.sort(key=lambda m: (m["rank"] == DASH, m["rank"] if m["rank"] != DASH else 0, m["code"]))
        return {"dist": dist, "region_members": members,
                "similar": [self.ranked_row(kpi, year, self.ranks[(kpi.kpi_id, year, c)], own=g["code"])
                            for c in [g["code"], *own["similar_codes"]]] if own and own["similar_codes"] else [],
                "own_size": self.size(own) if own else None}

    def distribution(self, kpi, year: int, own: dict | None = None, prefix: str = "") -> dict | None:
        """The distribution of the municipalities' rates in ``year`` (on this edition's basis), the one chart of a KPI's
        page and a local government's: a strip over a box, the prefecture's ratio of sums a diamond, ``own`` (a local
        government's page) highlighted; with its data as a table in rank order, each municipality with its kind,
        region, size and those of similar size (links under ``prefix``). None where no municipality has a rate."""
        ranked = self.ranked_in.get((kpi.kpi_id, year))
        if not ranked:
            return None
        table = [{**self.ranked_row(kpi, year, r, prefix, own["code"] if own else None),
                  "similar": [self.link(c, prefix) for c in r["similar_codes"]]} for r in ranked]
        label = f"市町村({len(ranked)})"
        # each point's hover: its municipality and its rate as the table writes it (Plotly's box statistics read in English)
        traces = [{"type": "box", "orientation": "h", "name": label, "x": [r["value"] for r in ranked],
                   "y": [label] * len(ranked), "text": [f"{row['name']}: {row['rate']}" for row in table],
                   "boxpoints": "all", "jitter": 0.6, "pointpos": 0, "fillcolor": "rgba(0,0,0,0)",
                   "hovertemplate": "%{text}<extra></extra>", "hoveron": "points",
                   "line": {"color": "#767676"}, "marker": {"color": "#1f4e78", "size": 6, "opacity": 0.6}}]
        prefecture = self.aggregates.get((kpi.kpi_id, year, PREFECTURE, PREFECTURE))
        if prefecture and prefecture["value"] is not None:
            traces.append({"type": "scatter", "mode": "markers", "name": PREFECTURE, "x": [prefecture["value"]],
                           "y": [label], "text": [f"{PREFECTURE}: {self.aggregate_rate(prefecture, kpi)}"],
                           "hovertemplate": "%{text}<extra></extra>",
                           "marker": {"symbol": "diamond", "size": 14, "color": "#c55a11"}})
        own_value = (self.values.get((kpi.kpi_id, year, own["code"])) or {}).get("value") if own else None
        if own_value is not None and (own["kind"] == "県" or (kpi.kpi_id, year, own["code"]) in self.ranks):
            # the prefecture's own counts: shown, not ranked
            traces.append({"type": "scatter", "mode": "markers", "name": own["name"], "x": [own_value], "y": [label],
                           "text": [f"{own['name']}: {self.unit_rate(kpi, year, own['code'], own_value)}"],
                           "hovertemplate": "%{text}<extra></extra>",
                           "marker": {"symbol": "circle", "size": 16, "color": "#c00000",
                                      "line": {"color": "#ffffff", "width": 2}}})
        figure = {"data": traces, "layout": {
            "xaxis": {"title": {"text": f"{kpi.name}({kpi.unit})"}}, "yaxis": {"visible": False},
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "margin": {"l": 20, "r": 20, "t": 30, "b": 50},
            "font": {"family": "Noto Sans CJK JP, sans-serif"}}}
        return {"chart": f"dist-{kpi.kpi_id}", "figure": figure, "year": format_year(year), "table": table,
                "own": own["name"] if own else None}

    def pulling(self, kpi, year: int, prefix: str = "") -> dict | None:
        """Who weighs on the prefecture's rate in ``year`` (a KPI's page): the municipalities moving it most the wrong way
        (down for a KPI that should increase, up for one that should decrease) by local_government_ranks's
        prefecture_effect, at most PULLING_SHOWN of them, with the rule stated. None without ranks or a prefecture rate."""
        ranked = [r for r in self.ranked_in.get((kpi.kpi_id, year), []) if r["prefecture_effect"] is not None]
        if not ranked:
            return None
        worse = -1 if ranked[0]["direction"] == "decrease" else 1  # the sign of an effect that makes the rate worse
        down = "押し上げている" if worse < 0 else "押し下げている"
        heaviest = sorted((r for r in ranked if r["prefecture_effect"] * worse < 0),
                          key=lambda r: (r["prefecture_effect"] * worse, r["code"]))[:PULLING_SHOWN]
        points = "ポイント" if kpi.unit == "%" else kpi.unit
        places = kpi.decimals + 2
        return {"title": f"県全体の率を{down}市町村(上位{PULLING_SHOWN})", "year": format_year(year),
                "rule": (f"県全体の率への影響: (その市町村の率 − 県全体の率) × その市町村の分母 ÷ 県全体の分母の合計({points})。"
                         "その市町村が県全体と同じ率だったら、県全体の率はこの値だけ逆に動きます。分母の大きい市町村ほど"
                         f"大きく効きます。影響の大きい順に最大{PULLING_SHOWN}市町村。"),
                "prefecture": self.scope_rate(kpi, year, PREFECTURE, PREFECTURE),
                "rows": [{**self.ranked_row(kpi, year, r, prefix),
                          "effect": f"{r['prefecture_effect']:+.{places}f}{points}".replace("-", "−")}
                         for r in heaviest]}

    def scope(self, kind: str, name: str, path: str, codes: list[str]) -> None:
        """A region's or a group's page: its ratio of sums over the years (kpi_aggregates) with the prefecture's
        beside it, as a chart and a table, and every member with its rate (or its state) in the table's last year."""
        sections, charts = [], []
        for kpi in self.kpis:
            rows, xs, ys, pref = [], [], [], []
            for y in self.years:
                a = self.aggregates.get((kpi.kpi_id, y, kind, name))
                if a is None:
                    continue
                p = self.aggregates.get((kpi.kpi_id, y, PREFECTURE, PREFECTURE))
                rows.append({"year": format_year(y), "numerator": format_count(a["numerator"]),
                             "denominator": format_count(a["denominator"]), "rate": self.aggregate_rate(a, kpi),
                             "reported": f"{a['units_reported']}/{a['units_expected']}",
                             "prefecture": self.aggregate_rate(p, kpi), "status": a["value_status"]})
                xs.append(format_year(y))
                ys.append(a["value"])
                pref.append(p["value"] if p else None)
            if not rows:
                continue
            chart = f"trend-{kpi.kpi_id}"
            if any(v is not None for v in ys):
                charts.append({"id": chart, "figure": {"data": [
                    {"type": "scatter", "mode": "lines+markers", "name": name, "x": xs, "y": ys,
                     "line": {"color": "#1f4e78", "width": 3}},
                    {"type": "scatter", "mode": "lines+markers", "name": "県全体", "x": xs, "y": pref,
                     "line": {"color": "#c55a11", "dash": "dash"}}],
                    "layout": {"yaxis": {"title": {"text": kpi.unit}}, "legend": {"orientation": "h"},
                               "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
                               "font": {"family": "Noto Sans CJK JP, sans-serif"}}}})
            else:
                chart = None
            # the members in the year the table ends with, every one with its rate or its state (未提出, 差戻し): one
            # year for all of them, never a member's last reported year among the others' latest
            year = max(y for y in self.years if (kpi.kpi_id, y, kind, name) in self.aggregates)
            latest = {code: self.rate_text(kpi, year, v) for code in codes
                      if (v := self.all_values.get((kpi.kpi_id, year, code)))}
            sections.append({"kpi": kpi, "rows": rows, "chart": chart, "latest": latest, "year": format_year(year)})
        members = [self.link(c) for c in codes]
        self.pages.render("lg_scope.html", f"lg/{path}", f"{name}({kind})", charts, kind=kind, name=name,
                          sections=sections, members=members, ratio_rule=RATIO_RULE)
