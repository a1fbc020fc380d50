"""What `shinchoku demo` shows: its sample returns, ingested (without Prefect, as the benchmark does)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from browser import check_page, chromium, needs_chromium
from helpers import query, query_many
from test_site import parse
from shinchoku.settings import load_settings
from shinchoku.run.demo import (BROKEN_SAMPLES, CONFIRMED_YEARS, SURVEY_BROKEN, SURVEY_LATE, UNEXPLAINED, YEARS,
                                confirm_past_years, write_demo_inbox)
from shinchoku.run.steps import run_ingest
from shinchoku.documents.facts import format_year
from shinchoku.documents.report import build_report


@pytest.fixture(scope="module")
def demo(tmp_path_factory, catalogue):
    base = tmp_path_factory.mktemp("demo")
    settings = dataclasses.replace(load_settings(inbox=base / "inbox", warehouse=base / "warehouse" / "shinchoku.duckdb",
                                                 settle_seconds=0, config_file=base / "none.toml", env={}),
                                   site_build=False)
    write_demo_inbox(catalogue, settings.inbox)
    summary = run_ingest(settings, catalogue)
    # the deliberately broken samples, a return and a survey sheet, as `shinchoku demo`'s conclude recognises them
    rejected = [d for d in summary.decisions if d.status == "rejected"]
    assert sorted((d.candidate.path.parent.name, d.candidate.path.name) for d in rejected) == sorted(BROKEN_SAMPLES)
    assert [i.code for d in rejected if d.candidate.path.parent.name == SURVEY_BROKEN for i in d.issues] == \
        ["numerator_above_denominator"]
    confirm_past_years(settings)  # as `shinchoku demo` does after its run
    return settings.warehouse


def test_the_demo_has_confirmed_years_and_one_under_review(demo):
    got = query(demo, "select fiscal_year, min(value_status), max(value_status) from kpi_progress group by 1 order by 1")
    assert got == [(y, "確定", "確定") for y in CONFIRMED_YEARS] + [(CONFIRMED_YEARS[-1] + 1, "未確定", "未確定")]


def test_the_demo_aggregates_the_local_governments_survey_sheets(demo):
    """GOV-K01's FY2021 aggregate is the plan's 48.2%; the latest year is 集計中 (two sheets late, one rejected); 双葉町
    reported 0 of 0 in FY2021, which counts as reported; no department typed a computed KPI."""
    got = query_many(demo, {
        "progress": "select kpi_id, fiscal_year, actual_value, value_source, units_reported, units_expected, aggregating "
                    "from kpi_progress where kpi_id in ('GOV-K01', 'EDU-K01') order by 1, 2",
        "futaba": "select kpi_id, numerator, denominator, value, reported from local_government_values "
                  "where name = '双葉町' and fiscal_year = 2021 order by 1",
        "missing": "select kpi_id, name from local_government_values where fiscal_year = ? and not reported "
                   "order by 1, 2".replace("?", str(YEARS[-1])),
        "sheets": "select count(*) from raw_submissions where local_government is not null and status = 'accepted'",
        # the departments leave the computed KPIs' cells blank, as their rows ask, and are not told they forgot them
        "told": "select distinct code from validation_issues where code in ('computed_kpi_reported', 'no_values')",
    })
    assert got["told"] == []
    rows = {(k, y): r for k, y, *r in got["progress"]}
    value, source, reported, expected, aggregating = rows["GOV-K01", 2021]
    assert value == pytest.approx(48.2, abs=0.1) and source == "集計" and (reported, expected, aggregating) == (60, 60, False)
    assert all(r[1] == "集計" for r in rows.values()) and {y for _, y in rows} == set(YEARS)
    late = sorted([*SURVEY_LATE, SURVEY_BROKEN])
    for kpi_id, expected in (("GOV-K01", 60), ("EDU-K01", 59)):
        assert rows[kpi_id, YEARS[-1]][2:] == [expected - 3, expected, True]  # 集計中 (57/60, 56/59)
        assert all(not rows[kpi_id, y][4] for y in YEARS[:-1])
        assert sorted(n for k, n in got["missing"] if k == kpi_id) == late
    assert got["futaba"] == [("EDU-K01", 0, 0, None, True), ("GOV-K01", 0, 0, None, True)]
    assert got["sheets"] == [(60 * len(YEARS) - 3,)]


def test_the_demo_shows_each_kind_of_outlook(demo):
    outlooks = {r[0] for r in query(demo, "select outlook from kpi_outlook")}
    assert outlooks & {"目標達成", "達成見込み"}
    assert outlooks & {"要加速", "達成困難"}
    assert "評価不能" in outlooks


def test_the_demo_explains_every_kpi_behind_but_one(demo):
    got = query_many(demo, {
        "warned": "select kpi_id, s.declared_fiscal_year from data_quality d join submissions s using (submission_id) "
                  "where code = 'explanation_missing'",
        "unexplained": """
            select p.kpi_id, p.fiscal_year from kpi_progress p
            left join kpi_explanations e on e.kpi_id = p.kpi_id and e.fiscal_year = p.fiscal_year and e.valid_to is null
            where p.grade in ('C', 'D') and e.factor_analysis is null order by 1, 2""",
        "behind": "select count(*) from kpi_progress where grade in ('C', 'D')",
    })
    assert got["warned"] == [UNEXPLAINED] == got["unexplained"]
    assert got["behind"][0][0] >= 5  # the demo has KPIs behind to explain


@pytest.fixture(scope="module")
def demo_report(demo, tmp_path_factory):
    """The demo's default report (its latest year, 集計中), built once."""
    return load_workbook(build_report(demo, tmp_path_factory.mktemp("report") / "r.xlsx"))


def test_the_demo_reports_explanations_in_the_evaluation_sheet(demo_report):
    ws = demo_report["評価シート"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=6, values_only=True)}
    care = rows["介護ロボットやICT機器の導入施設数"]
    assert care[6] == "C" and care[9] and care[10]
    talks = rows["出前講座等を通じ防災に関し啓発を行った人数"]  # UNEXPLAINED: the warning's row
    assert talks[6] == "D" and talks[9] is None


def _number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def test_the_municipalities_sheets_rows_are_the_views(demo, demo_report, tmp_path):
    """Each 市町村別 sheet has a row per local government of the view, in region and code order, with its numerator,
    denominator and rate as numbers a manager can sort and sum (counts #,##0, rates to the site's digits), 未提出 (never
    0) for the late and 差戻し for the rejected, 0/0 for 双葉町's empty year, the view's rank and effect on the
    prefecture's rate, under an autofilter; the totals sheet has kpi_aggregates' rows, its sums and rates numbers. For
    the latest year (集計中) and for FY2022 (双葉町's 0 of 0)."""
    from shinchoku.documents.lg_pages import distinct_rates

    late = sorted([*SURVEY_LATE, SURVEY_BROKEN])
    for year, book in ((YEARS[-1], demo_report), (2022, load_workbook(build_report(demo, tmp_path / "r.xlsx", 2022)))):
        got = query_many(demo, {
            "units": "select kpi_id, fiscal_year, code, v.name, v.kind, coalesce(v.region, '-'), numerator, denominator, value, "
                     "reported from local_government_values v left join local_governments g using (code) "
                     f"where fiscal_year in ({year}, {year - 1}) order by kpi_id, fiscal_year, g.region_order nulls first, "
                     "code",
            "ranks": "select kpi_id, fiscal_year, code, rank, prefecture_effect, value from local_government_ranks "
                     f"where basis = '現行' and fiscal_year in ({year}, {year - 1})",
            "totals": "select kpi_id, fiscal_year, scope_kind, scope, numerator, denominator, value, units_reported, "
                      f"units_expected, share_of_last_year from kpi_aggregates where fiscal_year <= {year} order by all"})
        ranks = {(k, y, c): (rank, effect, value) for k, y, c, rank, effect, value in got["ranks"]}
        assert book.sheetnames[book.sheetnames.index("提出状況") + 1:][:3] == \
            ["市町村別_GOV-K01", "市町村別_EDU-K01", "地方・グループ別"]
        for kpi_id, expected in (("GOV-K01", 60), ("EDU-K01", 59)):
            ws = book[f"市町村別_{kpi_id}"]
            assert format_year(year) in ws["A1"].value
            assert [c.value for c in ws[5]][8:] == ["提出状況", "順位", "県全体の率への影響(ポイント)", "注"]
            cells = [r for r in ws.iter_rows(min_row=6) if r[0].value]
            rows = [tuple(c.value for c in r) for r in cells]
            view = [r for r in got["units"] if r[0] == kpi_id and r[1] == year]
            before = {r[2]: r for r in got["units"] if r[0] == kpi_id and r[1] == year - 1}
            assert len(rows) == len(view) == expected
            assert ws.auto_filter.ref == f"A5:L{5 + expected}"
            assert [r[:4] for r in rows] == [(region, kind, code, name) for _, _, code, name, kind, region, *_ in view]
            for cell, row, (*_, code, name, _, _, numerator, denominator, value, reported) in zip(cells, rows, view):
                rank = ranks.get((kpi_id, year, code))
                assert row[9:11] == (pytest.approx(rank[:2], rel=1e-12) if rank else ("-", "-")), name  # 15 digits
                if not reported:
                    said = "差戻し" if name == SURVEY_BROKEN else "未提出"  # its sheet rejected, none accepted since
                    assert row[4:7] == ("-", "-", said) and row[8] == said, name
                    continue
                assert row[4:6] == (numerator, denominator) and cell[4].number_format == cell[5].number_format == "#,##0"
                if denominator == 0:
                    assert row[6] == "0/0(率なし)", name
                else:
                    assert row[6] == pytest.approx(value, rel=1e-12) and re.fullmatch(r'0\.00+"%"', cell[6].number_format), name
                last = before[code]
                assert row[7] == ("未提出" if not last[9] else "0/0(率なし)" if last[7] == 0 else pytest.approx(last[8], rel=1e-12)), name
                assert row[8] in ("確定", "提出済(未確定)"), name
            # the rates as the formats show them: the site's texts, rates ranked apart never alike
            shown = {r[2]: f"{r[6]:,.{len(c[6].number_format.split('.')[1]) - 3}f}%" for c, r in zip(cells, rows)
                     if isinstance(r[6], (int, float)) and r[1] != "県"}  # the 県: not ranked, the site's digits
            assert shown == distinct_rates({c: v for (k, y, c), (_, _, v) in ranks.items() if (k, y) == (kpi_id, year)},
                                           "%", 2)
            missing = sorted(r[3] for r in rows if r[6] in ("未提出", "差戻し"))
            assert missing == (late if year == YEARS[-1] else [])
            if year == 2022 and kpi_id == "EDU-K01":
                assert next(r for r in rows if r[3] == "双葉町")[4:7] == (0, 0, "0/0(率なし)")
            coverage = f"集計中 {expected - 3}/{expected}団体" if year == YEARS[-1] else f"全団体報告 {expected}/{expected}団体"
            assert coverage in ws["A2"].value
        sheet = book["地方・グループ別"]
        totals = [r for r in sheet.iter_rows(min_row=5, values_only=True) if r[0]]
        view = got["totals"]
        assert sorted(r[:4] for r in totals) == sorted((k, format_year(y), kind, s) for k, y, kind, s, *_ in view)
        assert sheet.auto_filter.ref == f"A4:I{4 + len(totals)}"
        shown = {r[:4]: r for r in totals}
        for kpi_id, fy, kind, scope, numerator, denominator, value, reported, expected, share in view:
            row = shown[kpi_id, format_year(fy), kind, scope]
            assert row[7].endswith(f"{reported}/{expected}団体") and row[8] == (pytest.approx(share, rel=1e-12) if share is not None else "-")
            if reported:
                assert row[4:7] == pytest.approx((numerator, denominator, value), rel=1e-12)


def test_the_analysts_local_government_queries_answer_their_questions(demo):
    """The DuckDB CLI queries of docs/analysts.md on the local governments, read from the page, on the demo: the ten
    municipalities furthest below their region, a group's trend, the latest year's coverage, who pulls the
    prefecture's rate down most."""
    from shinchoku.config import ROOT

    text = (ROOT / "docs" / "analysts.md").read_text(encoding="utf-8")
    section = text.split("### Example queries: the local governments")[1].split("\n## ")[0]
    below, trend, coverage, pulling = re.findall(r'-readonly warehouse/shinchoku\.duckdb \\\n\s+"([^"]+)"', section)
    got = query_many(demo, {
        "below": below, "trend": trend, "coverage": coverage, "pulling": pulling,
        "effects": "select code, prefecture_effect from local_government_ranks where basis = '現行' "
                   f"and kpi_id = 'GOV-K01' and fiscal_year = {YEARS[-1]} order by 2",
        "gaps": "select v.code, v.value - a.value from local_government_values v join kpi_aggregates a "
                "on a.kpi_id = v.kpi_id and a.fiscal_year = v.fiscal_year and a.scope_kind = '地方' and a.scope = v.region "
                f"where v.kpi_id = 'GOV-K01' and v.fiscal_year = {YEARS[-1]} and v.value is not null order by 2"})
    # ten rows, each below its region, the largest gaps first, and no other municipality further below
    assert len(got["below"]) == 10
    assert all(rate < region and gap < 0 for _, _, _, rate, region, gap in got["below"])
    assert [r[0] for r in got["below"]] == [code for code, _ in got["gaps"][:10]]
    # the group's trend: a year per demo year, each of its twelve members reported, rate = Σ numerator ÷ Σ denominator
    assert [r[0] for r in got["trend"]] == list(YEARS)
    for _, rate, numerator, denominator, reported, expected, complete in got["trend"]:
        assert (reported, expected, complete) == (12, 12, True)
        assert rate == pytest.approx(100 * numerator / denominator, abs=0.005)
    # who pulls the prefecture's rate down: the ten most negative effects, the view's, in order
    assert [r[0] for r in got["pulling"]] == [code for code, _ in got["effects"][:10]]
    assert all(effect < 0 for *_, effect in got["pulling"])
    # the latest year's coverage: 集計中, the late and the rejected named, most of last year's denominator held
    late = sorted([*SURVEY_LATE, SURVEY_BROKEN])
    assert [r[:2] for r in got["coverage"]] == [("EDU-K01", YEARS[-1]), ("GOV-K01", YEARS[-1])]
    for _, _, reported, expected, complete, share, missing in got["coverage"]:
        assert (reported, expected - reported, complete) == (expected - 3, 3, False)
        assert sorted(missing) == late and 0.9 < share < 1


# The progress site over the demo warehouse.
@pytest.fixture(scope="module")
def demo_site(demo, tmp_path_factory):
    from shinchoku.documents.site import build_site

    return build_site(demo, tmp_path_factory.mktemp("site") / "site")


def lg_pages(catalogue) -> list[str]:
    """The local government pages: one per local government at lg/<code>.html (the KPI pages' maps link there), one
    per region and per named group, and the index."""
    regions = {g.region for g in catalogue.local_governments if g.region}
    groups = {m.group for m in catalogue.group_memberships}
    return ["lg/index.html", *(f"lg/{g.code}.html" for g in catalogue.local_governments),
            *(f"lg/region-{n}.html" for n in range(1, len(regions) + 1)),
            *(f"lg/group-{n}.html" for n in range(1, len(groups) + 1))]


def test_every_page_is_built_from_the_views(demo_site, catalogue):
    pages = sorted(p.relative_to(demo_site).as_posix() for p in demo_site.rglob("*.html"))
    assert len(catalogue.local_governments) == 60
    assert pages == sorted(["index.html", "status.html", "quality.html",
                            *(f"kpi/{k.kpi_id}.html" for k in catalogue.kpis),
                            *(f"area/{a.area_id}.html" for a in catalogue.areas), *lg_pages(catalogue)])
    index = parse(demo_site / "index.html")
    links = [a["href"] for tag, a in index.tags if tag == "a" and a.get("href", "").startswith("kpi/")]
    assert sorted(set(links)) == sorted(f"kpi/{k.kpi_id}.html" for k in catalogue.kpis)
    text = (demo_site / "kpi" / "GOV-K02.html").read_text(encoding="utf-8")
    assert "要加速" in text and "グラフのデータ" in text and "確定" in text and "未確定" in text
    page = parse(demo_site / "kpi" / "GOV-K02.html")
    [chart] = [s for s in page.scripts if s.startswith('Plotly.newPlot("chart"')]
    assert '"scatter"' in chart and "30.0" in chart  # the chart carries its data (FY2022's 30 百万枚)


def test_the_site_works_offline_with_one_shared_copy_of_plotly(demo_site):
    for page in demo_site.rglob("*.html"):
        tags = parse(page)
        for tag, attrs in tags.tags:
            for name in ("src", "href"):
                assert not re.match(r"^(https?:)?//", attrs.get(name) or ""), (page.name, tag, attrs)
        charted = any(s.startswith("Plotly.newPlot(") for s in tags.scripts)  # only those pages load Plotly
        mapped = any(s.startswith('shinchokuMap("lg-map"') for s in tags.scripts)  # and the boundaries
        root = "../" * page.relative_to(demo_site).as_posix().count("/")
        assert [a["src"] for t, a in tags.tags if t == "script" and "src" in a] == \
            [root + "assets/plotly.min.js"] * charted + [root + "assets/lg_map.js"] * mapped
        assert tags.tags[0] == ("html", {"lang": "ja"}) and any(t == "title" for t, _ in tags.tags)
    assert sorted(p.name for p in (demo_site / "assets").iterdir()) == ["lg_map.js", "plotly.min.js", "site.css"]
    size = sum(p.stat().st_size for p in demo_site.rglob("*") if p.is_file())
    assert size < 20 * 2**20




def charts(page) -> dict[str, list]:
    """Each chart's Plotly traces, as the page inlines them: {element id: data}."""
    charts = {}
    for script in parse(page).scripts:
        if script.startswith("Plotly.newPlot("):
            decoder = json.JSONDecoder()
            chart_id, end = decoder.raw_decode(script, len("Plotly.newPlot("))
            charts[chart_id], _ = decoder.raw_decode(script, end + 2)
    return charts


def test_the_site_reads_only_the_views(demo, demo_site, public_site, tmp_path):
    """A database holding nothing but the views the site names (as tables) gives the same site, both editions."""
    import duckdb

    from shinchoku.documents.facts import REPORT_VIEWS
    from shinchoku.documents.site import SITE_VIEWS, build_site

    only_views = tmp_path / "views_only.duckdb"
    con = duckdb.connect(str(only_views))
    con.execute(f"attach '{demo}' as w (read_only)")
    for view in {*REPORT_VIEWS, *SITE_VIEWS}:
        con.execute(f'create table "{view}" as select * from w."{view}"')
    con.execute("detach w")
    con.close()
    for public, site in ((False, demo_site), (True, public_site)):
        again = build_site(only_views, tmp_path / f"site-{public}", public=public)
        pages = sorted(p.relative_to(site) for p in site.rglob("*.html"))
        assert pages == sorted(p.relative_to(again) for p in again.rglob("*.html"))
        for page in pages:
            assert (again / page).read_text(encoding="utf-8") == (site / page).read_text(encoding="utf-8"), page


def test_the_top_page_counts_what_the_area_counts_view_counts(demo_site, demo):
    """Per area, compact: its KPIs, and only the grades and 見通し it has (「A 1・B 1」), as area_counts counts them."""
    rows = query(demo, "select area, measure, class, kpis from area_counts "
                       "where report_fy = (select max(fiscal_year) from kpi_progress) "
                       "order by area_order, measure_order, class_rank")
    expected: dict[str, list] = {}
    for area, measure, cls, kpis in rows:
        got = expected.setdefault(area, [0, [], []])
        got[0] += kpis if measure == "評価" else 0
        if kpis:
            got[1 if measure == "評価" else 2].append(f"{cls} {kpis}")
    expected = {a: [str(n), "・".join(g) or "-", "・".join(o) or "-"] for a, (n, g, o) in expected.items()}
    text = (demo_site / "index.html").read_text(encoding="utf-8")
    table = text[text.index("<caption>分野ごとの指標数"):]
    table = table[:table.index("</table>")]
    got = {m[0]: re.findall(r"<td[^>]*>([^<]*)</td>", m[1])
           for m in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', table)}
    assert got == expected


ATTENTION_OUTLOOKS = ("達成困難", "悪化", "未達成")


def top_sections(page) -> tuple[list[str], dict[str, str]]:
    """トップ's section headings in order, and its 要対応の指標 as {KPI id: grade}, parsed from the HTML."""
    text = page.read_text(encoding="utf-8")
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", text)
    section = text[text.index('<h2 id="attention">'):]
    section = section[:section.index("<h2", 5)]
    rows = re.findall(r'<a href="kpi/([^"]+)\.html">.*?<td class="grade">([^<]*)</td>', section, re.S)
    return headings, dict(rows)


def test_the_top_page_opens_with_the_kpis_that_need_attention(demo, demo_site, public_site):
    """First 要対応の指標: graded in the lowest band (grade_bands), worse than the baseline, or 見通し 達成困難, 悪化
    or 未達成; computed here from the views, for each edition: 庁内用 at the report year, 公開用 at each KPI's latest
    confirmed value. Then 未提出の部局・団体 (庁内用 only), the counts, the list, the legends last."""
    got = query_many(demo, {
        "internal": f"""
            select s.kpi_id, coalesce(s.grade, '-') from kpi_year_status s
            join kpi_year_outlook o on o.kpi_id = s.kpi_id and o.report_fy = s.report_fy
            where s.report_fy = (select max(fiscal_year) from kpi_progress)
              and (s.grade = (select grade from grade_bands where is_floor) or s.progress_rate < 0
                   or o.outlook in {ATTENTION_OUTLOOKS})""",
        "public": f"""
            with latest as (
                select * from kpi_progress where value_status = '確定'
                qualify row_number() over (partition by kpi_id order by fiscal_year desc) = 1)
            select l.kpi_id, coalesce(l.grade, '-') from latest l
            left join kpi_year_outlook o on o.kpi_id = l.kpi_id and o.report_fy = l.fiscal_year
            where l.grade = (select grade from grade_bands where is_floor) or l.progress_rate < 0
                  or o.outlook in {ATTENTION_OUTLOOKS}""",
        "unreported": "select department from submission_status where unit_kind = '部局' "
                      "and kpis_reported < kpis_expected and fiscal_year = "
                      "(select max(fiscal_year) from submission_status where fiscal_year <= "
                      "(select max(fiscal_year) from kpi_progress))",
    })
    assert got["internal"] and got["public"]  # the demo has KPIs behind: there is something to list
    headings, attention = top_sections(demo_site / "index.html")
    assert attention == dict(got["internal"])
    assert headings[:2] == ["要対応の指標", "未提出の部局・団体"] and headings[-1] == "凡例"
    assert headings[2].startswith("分野別の評価と見通し")
    unreported = (demo_site / "index.html").read_text(encoding="utf-8").split('<h2 id="unreported">')[1].split("<h2")[0]
    assert all(d in unreported for (d,) in got["unreported"])
    if not got["unreported"]:
        assert "すべての部局から届いています" in unreported
    headings, attention = top_sections(public_site / "index.html")
    assert attention == dict(got["public"])
    assert headings[0] == "要対応の指標" and "未提出の部局・団体" not in headings and headings[-1] == "凡例"


@pytest.fixture(scope="module")
def public_site(demo, tmp_path_factory):
    from shinchoku.documents.site import build_site

    return build_site(demo, tmp_path_factory.mktemp("public") / "site", public=True)


def test_the_public_edition_shows_confirmed_values_only(public_site, demo_site, demo, catalogue):
    got = query_many(demo, {
        "confirmed": "select kpi_id, fiscal_year, actual_value from kpi_progress where value_status = '確定'",
        "unconfirmed": "select count(*) from kpi_progress where value_status = '未確定'",
        # the returns whose values the site shows, named as 出典 (a survey sheet's counts are in an aggregate)
        "files": "select distinct s.file_name from observation_history o join raw_submissions s using (submission_id) "
                 "join kpi_progress p using (kpi_id, fiscal_year) where o.valid_to is null and p.value_source = '部局報告'",
        "surveys": "select distinct file_name from raw_submissions where local_government is not null",
        "texts": "select e.kpi_id, e.fiscal_year, c.department is not null from kpi_explanations e "
                 "left join confirmations c on c.department = e.department and c.fiscal_year = e.fiscal_year "
                 "and c.is_standing where e.valid_to is null and e.factor_analysis is not null",
    })
    assert got["unconfirmed"][0][0] > 0  # the demo's last year is under review: there is something to leave out
    pages = sorted(p.relative_to(public_site).as_posix() for p in public_site.rglob("*.html"))
    assert pages == sorted(["index.html", *(f"kpi/{k.kpi_id}.html" for k in catalogue.kpis),
                            *(f"area/{a.area_id}.html" for a in catalogue.areas),
                            *lg_pages(catalogue)])  # no 提出状況, no データ品質
    for kpi in catalogue.kpis:
        [actuals] = [t for t in charts(public_site / "kpi" / f"{kpi.kpi_id}.html")["chart"] if t["name"] == "実績"]
        shown = sorted(v for v in actuals["y"] if v is not None)
        assert shown == sorted(v for k, _, v in got["confirmed"] if k == kpi.kpi_id), kpi.kpi_id
        [everything] = [t for t in charts(demo_site / "kpi" / f"{kpi.kpi_id}.html")["chart"] if t["name"] == "実績"]
        assert len([v for v in everything["y"] if v is not None]) >= len(shown)
    public = "".join(p.read_text(encoding="utf-8") for p in public_site.rglob("*.html"))
    internal = "".join(p.read_text(encoding="utf-8") for p in demo_site.rglob("*.html"))
    for (name,) in got["files"]:
        assert name in internal and name not in public  # no file names (nor cells, nor receipts)
    assert got["surveys"] and not any(name in public for (name,) in got["surveys"])
    # no 出典 column (a value's file and cell); the maps' credit to their boundaries' source stays
    assert '<th scope="col">出典</th>' in internal and '<th scope="col">出典</th>' not in public
    assert public.count("出典") == public.count("出典: 国土交通省 国土数値情報") > 0
    assert "提出状況" not in public and "未確定" not in public
    # no contact's address in any file of the 公開用 edition (nor the 庁内用): they reach no reference table nor view
    addresses = [a for d in catalogue.organisation for a in d.emails] + [a for g in catalogue.local_governments for a in g.emails]
    assert len(addresses) > 60
    for site in (public_site, demo_site):
        text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in site.rglob("*") if p.is_file())
        assert "example.lg.jp" not in text and not [a for a in addresses if a in text]
    def explained(site) -> set[tuple[str, str]]:
        """(KPI, year) of every 要因分析 row the KPI pages show."""
        rows = set()
        for page in (site / "kpi").iterdir():
            text = page.read_text(encoding="utf-8")
            if "<caption>部局の説明</caption>" in text:
                table = text[text.index("<caption>部局の説明</caption>"):]
                rows |= {(page.stem, y) for y in re.findall(r'<th scope="row">([^<]+)</th>', table[:table.index("</table>")])}
        return rows

    assert explained(demo_site) == {(k, format_year(y)) for k, y, _ in got["texts"]}
    assert explained(public_site) == {(k, format_year(y)) for k, y, confirmed in got["texts"] if confirmed}
    assert explained(public_site) < explained(demo_site)
    assert "公開用(確定した値のみ)" in public and "R5年度" in (public_site / "index.html").read_text(encoding="utf-8")
    # every KPI's latest confirmed value is of R5: the heading says so, not the year under review
    assert "<h1>DX推進計画 指標の進捗 最新の確定値(R5年度)</h1>" in (public_site / "index.html").read_text(encoding="utf-8")


def test_the_public_top_page_says_each_rows_year_when_they_differ(demo, tmp_path):
    """One department's R6 confirmed: 10 of 11 KPIs still stand at R5, so the heading names no single year and
    each row its own."""
    import shutil

    from shinchoku.run.confirm import confirm
    from shinchoku.documents.site import build_site

    copy = tmp_path / "warehouse" / "shinchoku.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(demo, copy)
    settings = load_settings(inbox=tmp_path / "inbox", warehouse=copy, settle_seconds=0,
                             config_file=tmp_path / "none.toml", site_build=False, env={})
    confirm(settings, 2024, ["総務部"], allow_missing=True, allow_provisional=True)
    text = (build_site(copy, tmp_path / "site", public=True) / "index.html").read_text(encoding="utf-8")
    assert "<h1>DX推進計画 指標の進捗 最新の確定値(年度は各行)</h1>" in text
    listed = text[text.index('<h2 id="kpis">'):]
    actuals = re.findall(r'<td>([^<]*)</td><td class="num">', listed[:listed.index("</table>")])  # before 進捗率
    years = [re.search(r"\((R\d+年度)\)$", a)[1] for a in actuals]
    assert sorted(years) == ["R5年度"] * 10 + ["R6年度"]


def lg_map(page) -> dict[str, dict]:
    """A computed KPI page's map as it inlines it: {trace name: {code: z}}, and each code's hover text under "hover"."""
    [script] = [s for s in parse(page).scripts if s.startswith('shinchokuMap("lg-map", ')]
    figure, _ = json.JSONDecoder().raw_decode(script, len('shinchokuMap("lg-map", '))
    traces = {t["name"]: dict(zip(t["locations"], t["z"])) for t in figure["data"]}
    traces["hover"] = {code: text for t in figure["data"] for code, text in t["customdata"]}
    return traces


def test_the_map_of_a_computed_kpi_is_the_unit_view_in_its_latest_year(demo, demo_site, public_site, catalogue):
    """GOV-K01's map, 庁内用: each municipality's rate of the KPI's latest year as local_government_values has it; the
    two late and the rejected one 未提出 (not 0), with the year's coverage; the 県 in the table, not on the map.
    公開用: the latest confirmed year, every rate as the view has it (confirmed); the year under review nowhere."""
    from shinchoku.documents.site import MAP_SOURCE

    got = query_many(demo, {
        "years": "select max(fiscal_year), max(fiscal_year) filter (where value_status = '確定') from kpi_progress "
                 "where kpi_id = 'GOV-K01'",
        "units": "select fiscal_year, code, name, kind, reported, value, value_status from local_government_values "
                 "where kpi_id = 'GOV-K01'"})
    [(latest, confirmed)] = got["years"]
    assert (latest, confirmed) == (YEARS[-1], CONFIRMED_YEARS[-1])
    municipalities = {g.code for g in catalogue.local_governments if g.is_municipality}
    for site, year in ((demo_site, latest), (public_site, confirmed)):
        units = [u for u in got["units"] if u[0] == year]
        traces = lg_map(site / "kpi" / "GOV-K01.html")
        assert traces["率"] == {code: value for _, code, _, kind, reported, value, _ in units
                               if kind != "県" and reported and value is not None}
        unreported = "未提出" if site is public_site else "未提出・差戻し"
        assert set(traces["率"]) | set(traces.get(unreported, {})) == municipalities  # each drawn once, the 県 not
        text = (site / "kpi" / "GOV-K01.html").read_text(encoding="utf-8")
        assert MAP_SOURCE in text and "2021年1月1日時点" in MAP_SOURCE and "利用規約" in MAP_SOURCE  # licence, vintage
        beside = text[text.index('<h2 id="lg-map-heading">'):]
        beside = beside[:beside.index("</table>")]
        assert beside.count('<a href="../lg/07') == len(units) == 60  # the table beside the map: every expected unit
        if site is demo_site:
            missing = {code: name for _, code, name, _, reported, _, _ in units if not reported}
            assert sorted(missing.values()) == sorted([*SURVEY_LATE, SURVEY_BROKEN])
            assert traces[unreported] == dict.fromkeys(missing, 0) and not set(missing) & set(traces["率"])
            assert all(traces["hover"][c].endswith("<br>差戻し" if name == SURVEY_BROKEN else "<br>未提出")
                       and "件" not in traces["hover"][c] for c, name in missing.items())
            assert f"{format_year(year)} 集計中 57/60団体" in text
        else:
            assert all(status == "確定" for *_, reported, _, status in units if reported) and "未提出" not in traces
            section = text[text.index('<h2 id="lg-map-heading">'):]
            section = section[:section.index("</table>")]
            assert f"{format_year(year)} 60/60団体" in section and format_year(latest) not in section


def test_a_rejected_survey_sheet_is_said_rejected_in_the_internal_edition(demo, demo_site, public_site, catalogue):
    """From the clerk's trial: 金山町 sent its latest sheet and it was rejected, yet everything said 未提出. The view says
    差戻し (its latest sheet of the year rejected, none accepted since) where 昭和村, which sent none, is 未提出, and
    submission_status lists the KPIs so held; 庁内用 says 差戻し on its page, with the rejected file and its error (cell,
    code, message) in 提出, and shinchoku status names it apart; 公開用 says 未提出 and names no file. (The map and the
    report's 市町村別 sheets: their own tests.)"""
    from helpers import cli_in_process

    year, late = YEARS[-1], sorted([*SURVEY_LATE, SURVEY_BROKEN])
    got = query_many(demo, {
        "units": "select name, kpi_id, sheet_status, rejected_submission_id is not null from local_government_values "
                 f"where fiscal_year = {year} and not reported order by 1, 2",
        "sheet": "select s.file_name, i.sheet, i.cell, i.code from raw_submissions s join validation_issues i "
                 "using (submission_id) where s.local_government is not null and s.status = 'rejected'",
        "status": "select department, missing_kpi_ids, rejected_kpi_ids from submission_status where unit_kind = '団体' "
                  f"and fiscal_year = {year} and kpis_reported < kpis_expected order by 1",
        "kpis": "select kpi_id, name from kpis"})
    assert got["units"] == sorted((n, k, "差戻し" if n == SURVEY_BROKEN else "未提出", n == SURVEY_BROKEN)
                                  for n in late for k in COMPUTED_KPIS)
    assert got["status"] == [(n, sorted(COMPUTED_KPIS), sorted(COMPUTED_KPIS) if n == SURVEY_BROKEN else []) for n in late]
    [(file_name, sheet, cell, code)] = got["sheet"]
    kpis = dict(got["kpis"])
    for name in (SURVEY_BROKEN, SURVEY_LATE[0]):
        page = f"{catalogue.local_governments_by_name[name].code}.html"
        internal = (demo_site / "lg" / page).read_text(encoding="utf-8")
        public = (public_site / "lg" / page).read_text(encoding="utf-8")
        said = "差戻し" if name == SURVEY_BROKEN else "未提出"
        for kpi_id in COMPUTED_KPIS:
            rows = {r[0]: r for r in table_rows(internal, f"{name}の{kpis[kpi_id]}(年度ごと")}
            assert rows[format_year(year)][3] == said, (name, kpi_id)
        assert "差戻し" not in public and file_name not in public
    internal = (demo_site / "lg" / f"{catalogue.local_governments_by_name[SURVEY_BROKEN].code}.html").read_text(
        encoding="utf-8")
    [row] = [r for r in table_rows(internal, "件数の出典と差し戻した調査票") if r[2] == file_name]
    assert row[1] == format_year(year) and row[6] == "差戻し" and row[7].startswith(f"{sheet}!{cell} [{code}] ")
    assert sorted(row[0].split("、")) == sorted(kpis[k] for k in COMPUTED_KPIS)  # the sheet held both KPIs' counts
    status = cli_in_process("status", "--year", str(year), "--warehouse", str(demo))
    assert status.returncode == 0, status.stderr
    line = next(line for line in status.stdout.splitlines() if f"{format_year(year)}(期限" in line)
    assert line.endswith(f"未提出 2団体: {'、'.join(n for n in catalogue.local_governments_by_name if n in SURVEY_LATE)}"
                         f" / 差戻し 1団体: {SURVEY_BROKEN}"), line
    assert status.stdout.count(f"/ 差戻し: {SURVEY_BROKEN})") == len(COMPUTED_KPIS)  # each KPI's coverage


def test_the_top_page_and_status_name_the_local_governments_that_have_not_reported(demo, demo_site, public_site):
    """From the trial: トップ's 未提出 section named departments only. It names the local governments whose survey sheet
    for the latest ended year is missing, the rejected ones apart, each linking its page; status.html lists every 団体
    and year as submission_status has it (as shinchoku status does), with the KPIs whose sheet was rejected."""
    got = query_many(demo, {
        "year": "select max(fiscal_year) from submission_status where unit_kind = '部局' and fiscal_year <= "
                "(select max(fiscal_year) from kpi_progress)",
        "units": "select s.department, s.fiscal_year, s.kpis_expected, s.kpis_reported, s.missing_kpi_ids, "
                 "s.rejected_kpi_ids, s.local_government from submission_status s join local_governments g "
                 "on g.code = s.local_government order by s.fiscal_year desc, g.row_order"})
    [(year,)] = got["year"]
    assert year == YEARS[-1]
    text = (demo_site / "index.html").read_text(encoding="utf-8")
    section = text.split('<h2 id="unreported">')[1].split("<h2")[0]
    missing = [u for u in got["units"] if u[1] == year and u[3] < u[2]]
    unsent, rejected = [u for u in missing if not u[5]], [u for u in missing if u[5]]
    assert [u[0] for u in rejected] == [SURVEY_BROKEN] and sorted(u[0] for u in unsent) == sorted(SURVEY_LATE)
    said = re.sub(r"<[^>]+>", "", section)
    assert f"団体の調査票({format_year(year)}): 報告対象60団体のうち3団体の報告が済んでいません。" in said
    assert (f"未提出 2団体: {'、'.join(u[0] for u in unsent)}。差戻し 1団体: {SURVEY_BROKEN}。") in said
    assert all(f'<a href="lg/{u[6]}.html">{u[0]}</a>' in section for u in missing)
    assert '<a href="lg/index.html">' in section and "団体の調査票" not in (public_site / "index.html").read_text(
        encoding="utf-8")
    status = (demo_site / "status.html").read_text(encoding="utf-8")
    rows = table_rows(status, "団体・年度ごとの提出状況(調査票)")
    assert [(r[0], r[1], int(r[2]), int(r[3]), r[4], r[5]) for r in rows] == \
        [(n, format_year(y), e, r, "、".join(m) or "なし", "、".join(x) or "-") for n, y, e, r, m, x, _ in got["units"] if e or r]
    assert any(r[5] != "-" for r in rows) and '<h2 id="governments">' in status


# In a real browser: headless Chromium opens every page of both editions from file://.
# the docs' pictures (docs/operators.md): each page's picture, and the element scrolled to the top first (None: the
# page's top); a computed KPI's page at its map, a municipality's page at its top
SCREENSHOTS = {"index.html": ("top.png", None), "kpi/GOV-K02.html": ("kpi.png", None),
               "kpi/GOV-K01.html": ("kpi-map.png", "lg-map-heading"), "lg/072036.html": ("lg.png", None)}


@pytest.fixture(scope="module")
def browser():
    needs_chromium()
    with chromium() as driver:
        yield driver


def test_every_page_works_in_a_real_browser(browser, demo_site, public_site, tmp_path_factory):
    """No console error, no request outside the site, every chart drawn from its data, no dialog, and none of
    the axe rules broken, on every kind of page (each template, in both editions where it changes with the
    edition; of the pages sharing a template, a sample); screenshots of トップ, a KPI page, a computed KPI's map and a
    municipality's page (scripts/refresh_screenshots.py copies them into docs/ for operators.md)."""
    shots = Path(os.environ.get("SHINCHOKU_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    problems = {}
    # every page of the 庁内用 edition but the many of one template, of which a sample: of the KPI pages (11 of
    # one template) a computed KPI's (its map) and two others, of the area pages one; of the 公開用 edition (the
    # same templates, fewer columns and pages) the pages whose templates change with the edition: トップ, a KPI
    # page, an area page; of the local government pages (60 of one template, and its kin) the index (its search
    # script), a municipality, the prefecture, a group (regions share its template); in 公開用 the index and a
    # municipality
    lg_sample = ["lg/index.html", "lg/072036.html", "lg/070009.html", "lg/group-1.html"]
    sampled = {"kpi": {"GOV-K01.html", "GOV-K02.html", "HLT-K01.html"}, "area": {"GOV.html"}, "lg": set()}
    public_pages = [public_site / "index.html", public_site / "kpi" / "GOV-K02.html", public_site / "area" / "GOV.html",
                    public_site / "kpi" / "GOV-K01.html",  # a computed KPI's map, of the latest confirmed year
                    *(public_site / p for p in lg_sample[:2])]
    internal_pages = [p for p in sorted(demo_site.rglob("*.html"))
                      if p.parent.name not in sampled or p.name in sampled[p.parent.name]] + \
        [demo_site / p for p in lg_sample]
    for site, pages in ((demo_site, internal_pages), (public_site, public_pages)):
        for page in pages:
            name = page.relative_to(site).as_posix()
            found = check_page(browser, page, charts_expected=name == "index.html" or name.startswith("kpi/")
                               or (name.startswith("lg/") and name != "lg/index.html"))
            if found:
                problems[f"{site.parent.name}/{name}"] = found
            if site == demo_site and name in SCREENSHOTS:
                picture, at = SCREENSHOTS[name]
                browser.execute_script("window.scrollTo(0, 0)")  # axe scrolled through the page
                if at:
                    browser.execute_script("document.getElementById(arguments[0]).scrollIntoView()", at)
                browser.save_screenshot(str(shots / picture))
    assert problems == {}
    for picture, _ in SCREENSHOTS.values():
        assert (shots / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_docs_show_the_screenshots_the_script_refreshes():
    """Every picture the browser test takes is one scripts/refresh_screenshots.py copies into docs/, committed there
    and shown by a page of the docs: トップ, a KPI page, a computed KPI's map and a municipality's page."""
    import runpy

    from shinchoku.config import ROOT

    pictures = runpy.run_path(str(ROOT / "scripts" / "refresh_screenshots.py"))["PICTURES"]
    assert set(pictures) == {picture for picture, _ in SCREENSHOTS.values()}
    assert {"kpi/GOV-K01.html", "lg/072036.html"} <= set(SCREENSHOTS)  # a map page and a municipality's page
    docs = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    for name in pictures.values():
        assert (ROOT / "docs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"]({name})" in docs, name


# a point inside a municipality's polygon on the map, in the viewport's pixels (Plotly's hit test, not the DOM's,
# finds what is under the pointer: the polygons themselves take no pointer events)
INSIDE = """
const path = Array.from(document.querySelectorAll('#lg-map .choroplethlocation')).find(p => p.__data__.loc === arguments[0]);
path.scrollIntoView({block: 'center'});
const box = path.getBBox(), ctm = path.getScreenCTM(), inside = [];
for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++) {
  const p = new DOMPoint(box.x + box.width * i / 20, box.y + box.height * j / 20);
  if (path.isPointInFill(p)) { const s = p.matrixTransform(ctm); inside.push([s.x, s.y]); }
}
return inside[Math.floor(inside.length / 2)] || null;"""


def test_a_click_on_the_map_opens_the_municipalitys_page(browser, demo_site, catalogue):
    """GOV-K01's map in Chromium: a click on 郡山市 goes to lg/072036.html under the site's root (the page of each
    local government), and so does a click on a municipality drawn 未提出."""
    import time

    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    late = catalogue.local_governments_by_name[SURVEY_LATE[0]]
    for code, name in (("072036", "郡山市"), (late.code, late.name)):
        browser.get((demo_site / "kpi" / "GOV-K01.html").as_uri())
        x, y = browser.execute_script(INSIDE, code)
        click = ActionBuilder(browser)
        click.pointer_action.move_to_location(int(x), int(y)).pause(0.2).click()
        click.perform()
        target = demo_site / "lg" / f"{code}.html"
        for _ in range(50):
            if browser.current_url != (demo_site / "kpi" / "GOV-K01.html").as_uri():
                break
            time.sleep(0.1)
        assert browser.current_url == target.as_uri()
        if target.exists():  # the local governments' pages are built by their own part of the site
            assert name in browser.title


def test_a_kpi_page_prints_on_a4(browser, demo_site):
    """Chromium's own print of a KPI page: A4 pages (595 x 842 pt), its chart and its tables' text in them."""
    import base64

    browser.get((demo_site / "kpi" / "GOV-K02.html").as_uri())
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and {(round(float(w)), round(float(h))) for w, h in boxes} == {(595, 842)}
    assert 1 <= len(boxes) <= 4  # the page, its chart and its tables fit on a few sheets


def test_the_browser_check_finds_what_it_looks_for(browser, tmp_path):
    """The check of the test above, on a page that breaks each of its rules."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head></head><body>'
                    '<p style="color:#d0d0d0;background:#ffffff">薄い文字</p>'
                    '<img src="http://example.invalid/x.png"><input type="text">'
                    '<div class="chart" id="empty"></div>'
                    '<script>console.error("boom"); alert("xss")</script></body></html>', encoding="utf-8")
    found = "\n".join(check_page(browser, page, charts_expected=True))
    for expected in ("console error", "request outside the site: http://example.invalid/x.png",
                     "a dialog opened: alert: xss", "chart #empty carries no data", "axe html-has-lang",
                     "axe document-title", "axe color-contrast", "axe label", "axe image-alt"):
        assert expected in found, (expected, found)


# The local government pages (issue 26): lg/<code>.html, a page per region and group, lg/index.html.
def table_rows(text: str, caption_start: str) -> list[list[str]]:
    """The rows of the table whose caption starts with ``caption_start``: each row's cells' text, its <th> first."""
    table = text[text.index(f"<caption>{caption_start}"):]
    table = table[:table.index("</table>")]
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1])]


def test_a_municipalitys_rank_and_its_regions_rate_are_the_views(demo, demo_site, public_site):
    """Each year's 順位 (among the municipalities, within the region) and the region's and the prefecture's rates on a
    municipality's page are local_government_ranks's (現行 in 庁内用, 確定 in 公開用) and kpi_aggregates's."""
    got = query_many(demo, {
        basis: f"""select r.code, k.name, r.fiscal_year, r.rank, r.ranked, r.region_rank, r.region_ranked,
                          round(r.region_value, 2), round(r.prefecture_value, 2),
                          round((select value from kpi_aggregates a where a.kpi_id = r.kpi_id
                                 and a.fiscal_year = r.fiscal_year and a.scope_kind = '地方' and a.scope = r.region), 2)
                   from local_government_ranks r join kpis k using (kpi_id)
                   where basis = '{basis}' and code in ('072036', '075418', '074021')"""
        for basis in ("現行", "確定")})
    assert len(got["現行"]) > len(got["確定"]) > 0
    for basis, site in (("現行", demo_site), ("確定", public_site)):
        for code, kpi, year, rank, ranked, region_rank, region_ranked, region, prefecture, aggregate in got[basis]:
            assert region == aggregate
            text = (site / "lg" / f"{code}.html").read_text(encoding="utf-8")
            name = text[text.index("<h1>") + 4:text.index("</h1>")]
            rows = {r[0]: r for r in table_rows(text, f"{name}の{kpi}(年度ごと")}
            _, _, _, _, shown_rank, shown_region_rank, shown_region, shown_prefecture, _ = rows[format_year(year)]
            assert (shown_rank, shown_region_rank) == (f"{rank}位/{ranked}", f"{region_rank}位/{region_ranked}")
            assert (shown_region.split("(集計中 ")[0], shown_prefecture.split("(集計中 ")[0]) == \
                (f"{region:.2f}%", f"{prefecture:.2f}%")
            # a partial sum is never shown as if complete: the latest year's prefecture-wide rate is 集計中
            assert ("(集計中 " in shown_prefecture) == (basis == "現行" and year == YEARS[-1]), shown_prefecture


def test_a_group_pages_rate_is_the_ratio_of_the_sums_over_its_members(demo, demo_site):
    """A group's (and a region's) rate each year is Σ numerator ÷ Σ denominator over its members that reported, from
    local_government_values: never an average of their rates."""
    got = query_many(demo, {
        "groups": """select g.group_name, k.name, v.fiscal_year, sum(v.numerator) * 100 / sum(v.denominator),
                            avg(v.value), count(*)
                     from local_government_values v join local_government_groups g using (code) join kpis k using (kpi_id)
                     where v.reported group by all""",
        "regions": """select region, k.name, v.fiscal_year, sum(v.numerator) * 100 / sum(v.denominator)
                      from local_government_values v join kpis k using (kpi_id)
                      where v.reported and region is not null group by all""",
        "region_order": "select distinct region, region_order from local_governments where region is not null"})
    group_page = {}
    for n in (1, 2):
        text = (demo_site / "lg" / f"group-{n}.html").read_text(encoding="utf-8")
        group_page[text[text.index("<h1>") + 4:text.index("(グループ)</h1>")]] = text
    assert sorted(group_page) == sorted({g for g, *_ in got["groups"]})
    assert any(abs(ratio - mean) > 0.01 for *_, ratio, mean, _ in got["groups"])  # the two differ: the test can tell
    for group, kpi, year, ratio, _, members in got["groups"]:
        rows = {r[0]: r for r in table_rows(group_page[group], f"{group}の{kpi}(")}
        assert rows[format_year(year)][3].split("(集計中 ")[0] == f"{ratio:.2f}%", (group, kpi, year)
    aizu = {r[0]: r for r in table_rows(group_page["会津13市町村"], "会津13市町村の教員のICT")}
    assert aizu[format_year(YEARS[-1])][3].endswith("(集計中 11/13団体)")  # 昭和村 late, 金山町 rejected
    order = dict(got["region_order"])
    for region, kpi, year, ratio in got["regions"]:
        text = (demo_site / "lg" / f"region-{order[region]}.html").read_text(encoding="utf-8")
        rows = {r[0]: r for r in table_rows(text, f"{region}の{kpi}(")}
        assert rows[format_year(year)][3].split("(集計中 ")[0] == f"{ratio:.2f}%", (region, kpi, year)
    members = table_rows(group_page["避難地域12市町村"], "避難地域12市町村の市町村")
    assert len(members) == 12 and all(re.match(r"\d{6}\.html", m) for m in
                                      re.findall(r'<th scope="row"><a href="([^"]+)"',
                                                 group_page["避難地域12市町村"].split("<h2>構成する市町村")[1]))


def test_the_public_edition_shows_no_unconfirmed_year_of_a_municipality(demo, demo_site, public_site):
    """A municipality's year that is not 確定 shows nowhere in 公開用 — not on its page (neither its counts nor its
    rank), not in a region's, group's or another municipality's tables — and no file name or cell; 庁内用 shows it."""
    got = query_many(demo, {
        "unconfirmed": """select code, fiscal_year, numerator, denominator, file_name, numerator_cell
                          from local_government_values where reported and value_status = '未確定'""",
        "confirmed_years": "select distinct fiscal_year from local_government_values where value_status = '確定'"})
    assert got["unconfirmed"]  # the demo's latest year is under review
    confirmed_years = {format_year(y) for (y,) in got["confirmed_years"]}
    public = {p.name: p.read_text(encoding="utf-8") for p in (public_site / "lg").iterdir()}
    for code, year, numerator, denominator, file_name, cell in got["unconfirmed"]:
        internal = (demo_site / "lg" / f"{code}.html").read_text(encoding="utf-8")
        text = public[f"{code}.html"]
        assert format_year(year) in internal and file_name in internal and cell in internal
        assert format_year(year) not in text and file_name not in text and cell not in text, (code, year)
        assert f"{denominator:,.0f}" in internal
    for name, text in public.items():
        years = set(re.findall(r"R\d+年度", text))
        assert years <= confirmed_years, (name, years - confirmed_years)
        assert "未確定" not in text and "調査票!" not in text and ".xlsx" not in text, name


def distribution_tables(text: str, kpi_id: str | None = None) -> dict[str, tuple[str, list[list[str]]]]:
    """A page's tables of the municipalities' distribution, by KPI: a KPI's page (``kpi_id``) its one, a local
    government's one per KPI section: {kpi_id: (year, rows)}, each row [順位, 市町村, 種別, 地方, 率, 分母, …]."""
    sections = [(kpi_id, text)] if kpi_id else \
        re.findall(r'<h2 id="([A-Z]+-K\d+)">(.*?)(?=<h2 id="[A-Z]+-K\d+">|$)', text, re.S)
    found = {}
    for kpi, section in sections:
        if '<table class="distribution">' in section:
            year = re.search(r"<caption>(R\d+年度)の市町村の率\(グラフのデータ\)", section)[1]
            found[kpi] = (year, table_rows(section, f"{year}の市町村の率(グラフのデータ)"))
    return found


COMPUTED_KPIS = ("GOV-K01", "EDU-K01")


def test_a_computed_kpis_page_shows_the_distribution_of_the_municipalities_rates(demo, demo_site, public_site):
    """A computed KPI's page, like a municipality's, shows the distribution of the municipalities' rates in its map's
    year — 庁内用 the latest (集計中), 公開用 the latest confirmed, confirmed rates only: the chart's points are the views'
    rates, its table their ranks (local_government_ranks, 現行 / 確定), each municipality with those of similar size the
    view picks, under the rule that picks them."""
    from shinchoku.documents.lg_pages import PUBLIC_RANK_RULE, RANK_RULE, SIMILAR_RULE

    got = query_many(demo, {
        "years": "select kpi_id, max(fiscal_year), max(fiscal_year) filter (where value_status = '確定') "
                 "from kpi_progress group by 1",
        "units": "select kpi_id, fiscal_year, name, value, value_status from local_government_values "
                 "where kind <> '県' and reported and value is not null",
        "ranks": "select basis, kpi_id, fiscal_year, rank, name, (select list(g.name order by i) from "
                 "unnest(similar_codes) with ordinality as s(c, i) join local_governments g on g.code = s.c) "
                 "from local_government_ranks order by basis, kpi_id, fiscal_year, rank, code"})
    years = {k: (latest, confirmed) for k, latest, confirmed in got["years"]}
    for kpi_id in COMPUTED_KPIS:
        assert years[kpi_id] == (YEARS[-1], CONFIRMED_YEARS[-1])  # the editions' years differ: 公開用 has less to show
        for site, basis, year, rule in ((demo_site, "現行", YEARS[-1], RANK_RULE),
                                        (public_site, "確定", CONFIRMED_YEARS[-1], PUBLIC_RANK_RULE)):
            page = site / "kpi" / f"{kpi_id}.html"
            text = page.read_text(encoding="utf-8")
            expected = {name: value for k, y, name, value, status in got["units"]
                        if k == kpi_id and y == year and (basis == "現行" or status == "確定")}
            assert len(expected) >= 55, (kpi_id, basis)
            [box] = [t for t in charts(page)[f"dist-{kpi_id}"] if t["type"] == "box"]
            assert {label.split(": ")[0]: x for label, x in zip(box["text"], box["x"])} == expected, (kpi_id, basis)
            shown_year, rows = distribution_tables(text, kpi_id)[kpi_id]
            assert shown_year == format_year(year) and f"<h2 id=\"lg-dist-heading\">市町村の分布({shown_year})</h2>" in text
            ranks = [r for r in got["ranks"] if r[:3] == (basis, kpi_id, year)]
            assert [(int(r[0]), r[1], r[6]) for r in rows] == \
                [(rank, name, "、".join(similar or []) or "-") for *_, rank, name, similar in ranks], (kpi_id, basis)
            assert any(similar for *_, similar in ranks)
            assert rule in text and SIMILAR_RULE in text
        # 公開用: the year under review shows nowhere in the distribution, its rates (not yet 確定) neither
        public = (public_site / "kpi" / f"{kpi_id}.html").read_text(encoding="utf-8")
        section = public[public.index('<h2 id="lg-dist-heading">'):public.index("<h2>年度別の実績</h2>")]
        assert format_year(YEARS[-1]) not in section and "未確定" not in section


def test_a_computed_kpis_yearly_values_are_its_aggregates(demo, demo_site, public_site):
    """年度別の実績 of a computed KPI lists each year's value as kpi_progress has it — the ratio of sums, with 集計中 and
    its coverage while the year is aggregating, its 時点 and 確定, its source 集計 — and in 庁内用 where it came from (how
    many local governments' survey sheets, the latest received); 公開用 only its confirmed years. A department's KPI
    keeps its rows, their source 部局報告."""
    got = query_many(demo, {
        "progress": "select kpi_id, fiscal_year, actual_value, aggregating, units_reported, units_expected, "
                    "value_status, value_source, as_of from kpi_progress order by kpi_id, fiscal_year",
        "received": "select kpi_id, fiscal_year, max(received_at) from local_government_values where reported "
                    "group by all"})
    received = {(k, y): r for k, y, r in got["received"]}
    for site, public in ((demo_site, False), (public_site, True)):
        for kpi_id in COMPUTED_KPIS:
            rows = table_rows((site / "kpi" / f"{kpi_id}.html").read_text(encoding="utf-8"), "現行の値")
            expected = [p for p in got["progress"] if p[0] == kpi_id and (not public or p[6] == "確定")]
            assert [r[0] for r in rows] == [format_year(p[1]) for p in expected] and len(rows) >= 3, (kpi_id, public)
            assert any(p[3] for p in expected) != public  # 庁内用 has a year 集計中; 公開用 none
            for row, (_, year, value, aggregating, reported, units, status, source, as_of) in zip(rows, expected):
                figure, _, coverage = row[1].partition("(")
                assert figure.endswith("%") and _number(figure) == pytest.approx(value, abs=0.005), row
                assert coverage == (f"集計中 {reported}/{units}団体)" if aggregating else ""), row
                assert (row[2], row[4], row[5]) == (as_of, status, source) and source == "集計", row  # as_of: ISO text
                if public:
                    assert len(row) == 6  # no 出典, no 受付
                else:
                    assert row[6:] == [f"団体の調査票({reported}/{units}団体)の分子の合計÷分母の合計",
                                       f"{received[kpi_id, year][:16]}(最新)"], row
        rows = table_rows((site / "kpi" / "GOV-K02.html").read_text(encoding="utf-8"), "現行の値")
        assert rows and all(r[5] == "部局報告" for r in rows) and all(len(r) == (6 if public else 8) for r in rows)


def test_distinct_rates_writes_rates_ranked_apart_apart():
    """Rates that read the same at the precision but differ get the digits that tell them apart, all of their group
    alike; equal rates (one rank) stay one text; the others keep the precision."""
    from shinchoku.documents.lg_pages import distinct_rates

    got = distinct_rates({"a": 75.5114294, "b": 75.5114213, "c": 75.514, "d": 80.0, "e": 75.5114294, "f": 61.24},
                         "%", 2)
    assert got == {"a": "75.51143%", "b": "75.51142%", "c": "75.51400%", "e": "75.51143%", "d": "80.00%",
                   "f": "61.24%"}
    assert distinct_rates({"a": 1 / 3 * 100, "b": 2 / 6 * 100}, "%", 2) == {"a": "33.33%", "b": "33.33%"}


def test_rates_ranked_apart_never_read_the_same(demo, demo_site, public_site, catalogue):
    """From the manager trial: 61.5% ranked 3rd beside 61.5% ranked 4th looked like a tie that was not one. Where the
    view ranks two municipalities apart whose rates read the same at the site's precision (one digit more than the
    plan's), each table ranking them — on a KPI's page and a municipality's, both editions — shows them with the
    digits that tell them apart; each text is the view's rate, rounded; one text, one rank."""
    places = {k.kpi_id: max(k.baseline_decimals or 0, k.target_decimals or 0) + 1 for k in catalogue.kpis}
    got = query(demo, "select basis, kpi_id, fiscal_year, name, value, rank from local_government_ranks")
    rates = {(b, k, format_year(y), n): (v, r) for b, k, y, n, v, r in got}
    # the demo has such rates in a year its pages show: the site at its precision would tie them
    read_alike = {(b, k, y) for b, k, y, n, v, r in got for *_, n2, v2, r2 in
                  [o for o in got if o[:3] == (b, k, y) and o[5] != r]
                  if f"{v:.{places[k]}f}" == f"{v2:.{places[k]}f}"}
    assert {("現行", k, YEARS[-1]) for k in COMPUTED_KPIS} & read_alike
    checked = 0
    for site, basis in ((demo_site, "現行"), (public_site, "確定")):
        pages = [site / "kpi" / f"{k}.html" for k in COMPUTED_KPIS] + sorted((site / "lg").glob("07*.html"))
        for page in pages:
            text = page.read_text(encoding="utf-8")
            tables = distribution_tables(text, None if page.parent.name == "lg" else page.stem)
            for kpi_id, (year, rows) in tables.items():
                ranks_of: dict[str, set] = {}
                for rank, name, _, _, rate, *_ in rows:
                    ranks_of.setdefault(rate, set()).add(rank)
                    value, view_rank = rates[basis, kpi_id, year, name]
                    digits = len(rate.rstrip("%").partition(".")[2])
                    assert digits >= places[kpi_id] and str(view_rank) == rank, (page.name, name, rate)
                    assert abs(_number(rate) - value) <= 0.5 * 10 ** -digits + 1e-9, (page.name, name, rate, value)
                    checked += 1
                assert all(len(r) == 1 for r in ranks_of.values()), (page.name, kpi_id, ranks_of)
    assert checked > 4 * 59 * 50


def test_the_search_finds_a_municipality_by_its_reading_and_a_region_or_group_by_its_name(browser, public_site, demo):
    """lg/index.html's search needs no server: typing a reading (こおりやま, or in katakana) lists 郡山市 and links to
    its page; a code finds it too. A region's name or reading (会津, あいづ, アイヅ, ｱｲﾂﾞ) links the region's page and
    lists its members; a group's name (避難地域, 会津１３) its page and its members."""
    from selenium.webdriver.common.by import By

    got = query_many(demo, {
        "regions": "select region, region_order, list(code order by code) from local_governments "
                   "where region is not null group by all",
        "groups": "select group_name, list(code order by code) from local_government_groups group by all"})
    regions = {name: (order, codes) for name, order, codes in got["regions"]}
    groups = {name: codes for name, codes in got["groups"]}
    browser.get((public_site / "lg" / "index.html").as_uri())
    box = browser.find_element(By.ID, "lg-search")

    def search(typed: str) -> list[tuple[str, str]]:
        box.clear()
        box.send_keys(typed)
        return [(a.text, a.get_attribute("href").rsplit("/", 1)[1])
                for a in browser.find_elements(By.CSS_SELECTOR, "#lg-results a")]

    for typed in ("こおりやま", "コオリヤマ", "07203", "ｺｵﾘﾔﾏ", "０７２０３６", "72036"):  # as any keyboard types it
        assert search(typed) == [("郡山市(こおりやまし)", "072036.html")], typed
    order, members = regions["会津"]
    for typed in ("会津", "あいづ", "ｱｲﾂﾞ"):
        found = search(typed)
        assert (f"会津(地方・{len(members)}市町村)", f"region-{order}.html") in found, typed
        assert set(members) <= {href.removesuffix(".html") for _, href in found}, typed
        # 南会津 (みなみあいづ) is found too; 県中 (けんちゅう) and its members are not
        assert f"region-{regions['南会津'][0]}.html" in {h for _, h in found}, typed
        assert not {h for _, h in found} & {f"{c}.html" for c in regions["県中"][1]}, typed
    for typed, group in (("避難地域", "避難地域12市町村"), ("会津１３", "会津13市町村")):
        found = search(typed)
        assert [t for t, h in found if h.startswith("group-")] == [f"{group}(グループ・{len(groups[group])}市町村)"], typed
        assert {h.removesuffix(".html") for _, h in found if h[0].isdigit()} == set(groups[group]), typed
    found = {text for text, _ in search("ふくしま")}
    assert {"福島県(ふくしまけん)", "福島市(ふくしまし)"} <= found
    browser.find_element(By.CSS_SELECTOR, "#lg-results a[href$='072010.html']").click()
    assert browser.execute_script("return document.title").startswith("福島市")


def kpi_section(text: str, kpi_id: str) -> str:
    """A local government's page's section of one KPI (from its <h2 id> to the next KPI's)."""
    return re.search(rf'<h2 id="{kpi_id}">(.*?)(?=<h2 id="[A-Z]+-K\d+">|<h2>提出|$)', text, re.S)[1]


def test_every_member_of_a_region_is_listed_and_in_one_year(demo, demo_site, public_site, catalogue):
    """From the trial: 「会津の市町村(R6年度)」 listed 11 of 13, and the region's page showed 金山町's and 昭和村's R5 rates
    among the others' R6 ones. A municipality's page lists every member of its region, the ranked ones with the view's
    rank, those without a rate with their state (差戻し, 未提出; 公開用 未提出) and no rank or size; the region's page
    gives every member's rate or state in the year its table ends with, named in the column's heading."""
    got = query_many(demo, {
        "members": "select name, code from local_governments where region = '会津'",
        "ranks": "select basis, kpi_id, fiscal_year, name, rank from local_government_ranks where region = '会津'",
        "values": "select kpi_id, fiscal_year, name, value from local_government_values where region = '会津'",
        "order": "select region_order from local_governments where region = '会津' limit 1"})
    members = dict(got["members"])
    assert len(members) == 13 and {SURVEY_BROKEN, SURVEY_LATE[1]} <= set(members)  # 金山町 rejected, 昭和村 late
    ranks = {(b, k, format_year(y), n): str(r) for b, k, y, n, r in got["ranks"]}
    for site, basis, public in ((demo_site, "現行", False), (public_site, "確定", True)):
        text = (site / "lg" / "072028.html").read_text(encoding="utf-8")  # 会津若松市
        for kpi_id in COMPUTED_KPIS:
            section = kpi_section(text, kpi_id)
            year = re.search(r"<h3>会津の市町村\((R\d+年度)\)</h3>", section)[1]
            rows = table_rows(section, "同じ地方の市町村の率")
            assert sorted(r[0] for r in rows) == sorted(members), (public, kpi_id)
            for name, rank, rate, size in rows:
                if (basis, kpi_id, year, name) in ranks:
                    assert rank == ranks[basis, kpi_id, year, name] and rate[0].isdigit(), (name, rate)
                else:
                    said = "差戻し" if name == SURVEY_BROKEN and not public else "未提出"
                    assert (rank, rate, size) == ("-", said, "-"), (public, kpi_id, name)
            if not public:
                assert year == format_year(YEARS[-1]) and rows[-2:] == [[n, "-", s, "-"] for n, s in
                                                                       ((SURVEY_BROKEN, "差戻し"), (SURVEY_LATE[1], "未提出"))]
        page = (site / "lg" / f"region-{got['order'][0][0]}.html").read_text(encoding="utf-8")
        heading = page[page.index('<table class="members">'):]
        years = re.findall(r"\((R\d+年度)\)</th>", heading[:heading.index("</thead>")])
        assert years == [format_year(CONFIRMED_YEARS[-1] if public else YEARS[-1])] * len(COMPUTED_KPIS)
        rows = {r[0]: r[4:] for r in table_rows(page, "会津の市町村と率")}
        assert sorted(rows) == sorted(members)
        if not public:
            assert rows[SURVEY_BROKEN] == ["差戻し"] * 2 and rows[SURVEY_LATE[1]] == ["未提出"] * 2
        assert not any("(R" in cell for cells in rows.values() for cell in cells)  # no member in a year of its own


def test_a_small_denominator_is_ranked_but_marked_for_reference(demo, demo_site, public_site, demo_report):
    """From the trial: 双葉町's EDU-K01, 1 teacher of 1, read 100% and 1位 without a caution. local_government_ranks marks
    a rate on a denominator below its limit (the macro's) ※参考, still ranked; the pages mark it beside its size, on the
    municipality's page and in the distributions, and say once what ※参考 means with the limit."""
    from shinchoku.documents.lg_pages import REFERENCE

    got = query_many(demo, {
        "ranks": "select basis, kpi_id, fiscal_year, code, name, rank, denominator, reference_only, reference_below "
                 "from local_government_ranks"})
    [limit] = {r[-1] for r in got["ranks"]}
    assert all(r[7] == (r[6] < limit) for r in got["ranks"])
    futaba = {(b, k, y): (rank, marked) for b, k, y, code, name, rank, _, marked, _ in got["ranks"] if name == "双葉町"}
    assert futaba["現行", "EDU-K01", YEARS[-1]] == (1, True)
    note = f"{REFERENCE}: 分母が小さい({limit}未満)ため率が大きく動きます"
    for site, basis, year in ((demo_site, "現行", YEARS[-1]), (public_site, "確定", CONFIRMED_YEARS[-1])):
        text = (site / "kpi" / "EDU-K01.html").read_text(encoding="utf-8")
        assert note in text
        _, rows = distribution_tables(text, "EDU-K01")["EDU-K01"]
        marked = sorted(r[1] for r in rows if r[5].endswith(f" {REFERENCE}"))
        assert marked == sorted(n for b, k, y, _, n, _, _, m, _ in got["ranks"] if (b, k, y) == (basis, "EDU-K01", year) and m)
        assert marked and "双葉町" in marked
        page = (site / "lg" / "075469.html").read_text(encoding="utf-8")
        rows = {r[0]: r for r in table_rows(page, "双葉町の教員のICT")}
        assert rows[format_year(year)][2] == f"1 {REFERENCE}" and note in page
    sheet = demo_report["市町村別_EDU-K01"]
    header = [c.value for c in sheet[5]]
    futaba = next(r for r in sheet.iter_rows(min_row=6, values_only=True) if r[3] == "双葉町")
    assert futaba[header.index("注")] == REFERENCE and note in "".join(str(c.value or "") for c in sheet["A"][:4])


def test_a_kpi_page_shows_who_pulls_the_prefectures_rate_down(demo, demo_site, public_site):
    """From the trial: nothing showed how much each municipality weighs on the ratio of sums. local_government_ranks's
    prefecture_effect is the points the prefecture's rate would move back were the municipality at that rate itself —
    (Σnum − numᵢ + rate × denᵢ) / Σden − rate, negated — computed here from the units' counts; the KPI page lists the ten
    pulling it down most, in that order, with the rule."""
    got = query_many(demo, {
        "units": "select kpi_id, fiscal_year, code, kind, numerator, denominator, value_status from local_government_values "
                 "where reported",
        "ranks": "select basis, kpi_id, fiscal_year, code, name, numerator, denominator, prefecture_effect, rank "
                 "from local_government_ranks"})
    sums: dict[tuple, list[float]] = {}
    for kpi_id, year, _, _, numerator, denominator, status in got["units"]:
        for basis in ("現行", "確定") if status == "確定" else ("現行",):
            total = sums.setdefault((basis, kpi_id, year), [0, 0])
            total[0] += numerator
            total[1] += denominator
    unconfirmed = {(k, y) for k, y, *_, s in got["units"] if s != "確定"}
    for basis, kpi_id, year, _, name, numerator, denominator, effect, _ in got["ranks"]:
        if basis == "確定" and (kpi_id, year) in unconfirmed:  # no confirmed prefecture rate while one count is not
            assert effect is None
            continue
        all_num, all_den = sums[basis, kpi_id, year]
        rate = all_num / all_den
        moved = (all_num - numerator + rate * denominator) / all_den - rate
        assert effect == pytest.approx(-100 * moved, abs=1e-9), (basis, kpi_id, year, name)
    for site, basis, year in ((demo_site, "現行", YEARS[-1]), (public_site, "確定", CONFIRMED_YEARS[-1])):
        text = (site / "kpi" / "GOV-K01.html").read_text(encoding="utf-8")
        heading = f"県全体の率を押し下げている市町村(上位10)({format_year(year)})"
        assert f'<h2 id="lg-pulling-heading">{heading}</h2>' in text and "× その市町村の分母 ÷ 県全体の分母の合計" in text
        rows = table_rows(text, "県全体の率を押し下げている市町村(上位10)")
        expected = sorted((effect, name) for b, k, y, _, name, _, _, effect, _ in got["ranks"]
                          if (b, k, y) == (basis, "GOV-K01", year) and effect < 0)[:10]
        assert [r[0] for r in rows] == [name for _, name in expected] and len(rows) == 10
        assert [float(r[1].removesuffix("ポイント").replace("−", "-")) for r in rows] == \
            [pytest.approx(e, abs=0.0005) for e, _ in expected]


def test_a_municipalitys_page_reads_as_the_trial_asked(demo, demo_site, catalogue):
    """From the trial's smaller points: 双葉町's 0 of 0 year says 0/0(率なし), not 「-」; the KPIs come in the catalogue's
    order, not by ID; the similar-size table starts with the municipality itself, highlighted; the prefecture's page
    claims no 地方 column and states that the 県 is not ranked instead of the ranking rules."""
    from shinchoku.documents.lg_pages import PREFECTURE_RULE, RANK_RULE

    [(year,)] = query(demo, "select fiscal_year from local_government_values where name = '双葉町' and kpi_id = 'GOV-K01' "
                            "and reported and denominator = 0")
    text = (demo_site / "lg" / "075469.html").read_text(encoding="utf-8")
    rows = {r[0]: r for r in table_rows(text, "双葉町の県及び市町村の行政手続")}
    assert rows[format_year(year)][1:4] == ["0", "0", "0/0(率なし)"]
    order = [k.kpi_id for k in catalogue.kpis if k.kpi_id in COMPUTED_KPIS]
    assert order == ["GOV-K01", "EDU-K01"] and re.findall(r'<h2 id="([A-Z]+-K\d+)">', text) == order
    page = (demo_site / "lg" / "072036.html").read_text(encoding="utf-8")  # 郡山市
    similar = page[page.index('<table class="similar">'):]
    similar = similar[:similar.index("</table>")]
    assert re.search(r'<tbody><tr class="own"><th scope="row"><a href="072036.html">郡山市</a>', similar)
    assert similar.count('class="own"') == 1 and len(re.findall(r"<tr", similar)) >= 3
    prefecture = (demo_site / "lg" / "070009.html").read_text(encoding="utf-8")
    assert "地方・県全体の率と並べて" not in prefecture and "(年度ごと。県全体の率と並べて)" in prefecture
    assert PREFECTURE_RULE in prefecture and RANK_RULE not in prefecture and RANK_RULE in page
