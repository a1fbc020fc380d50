"""The progress site: nothing from a return sheet runs as script (in the HTML, and in headless Chromium), and the
rebuild after every run. (Its pages over the demo warehouse, both editions and every page in the browser, are
checked in test_demo.py, which builds that warehouse once.)"""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

import pytest

from browser import check_page, chromium, needs_chromium
from helpers import drop, query
from shinchoku.run.steps import run_ingest
from shinchoku.documents.site import build_site
from shinchoku.documents.summary import summary_markdown, summary_text
from shinchoku.documents.template import fill_outcomes, fill_template

PAYLOADS = ("<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>", "javascript:alert(1)")


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of every inline script."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)


def parse(path):
    tags = Tags()
    tags.feed(path.read_text(encoding="utf-8"))
    return tags


@pytest.fixture(scope="module")
def payload_site(catalogue, tmp_path_factory):
    """A site whose 要因分析, outcome and file name carry script payloads, ingested the normal way."""
    from shinchoku.settings import load_settings
    from shinchoku.documents.template import write_survey, write_template

    base = tmp_path_factory.mktemp("payloads")
    settings = load_settings(inbox=base / "inbox", warehouse=base / "warehouse" / "shinchoku.duckdb",
                             settle_seconds=0, config_file=base / "none.toml", site_build=False, env={})
    path = fill_template(write_template(catalogue, "企画調整部", 2022, base / "t.xlsx"), {"GOV-K01": 57.0, "REG-K01": 128},
                         explanations={"REG-K01": (PAYLOADS[0], PAYLOADS[1])})
    fill_outcomes(path, [("GOV-01", PAYLOADS[2], PAYLOADS[1], None, None, None)])
    drop(settings, path, "企画調整部", f"{PAYLOADS[0]}.xlsx")
    # a local government's survey sheet under the same name: its file name is on its page (lg/072036.html, 庁内用)
    survey = write_survey(catalogue, "郡山市", 2022, base / "s.xlsx", counts={
        ("GOV-K01", "online"): 60, ("GOV-K01", "total"): 100, ("EDU-K01", "ict_teachers"): 5, ("EDU-K01", "teachers"): 10})
    drop(settings, survey, "郡山市", f"{PAYLOADS[0]}.xlsx")
    assert run_ingest(settings, catalogue).exit_code == 0
    return build_site(settings.warehouse, base / "site")


def test_text_from_a_return_never_runs_as_script(payload_site):
    site = payload_site
    for page in (site / "kpi" / "REG-K01.html", site / "area" / "GOV.html"):
        text = page.read_text(encoding="utf-8")
        tags = parse(page)
        assert not [t for t, _ in tags.tags if t == "img"], page.name  # the payload is text, not an element
        for script in tags.scripts:  # chart data carries the payload as JSON text, its markup escaped
            if "alert(1)" in script:
                assert "Plotly.newPlot" in script and "<img" not in script and "</script" not in script.lower(), page.name
        assert not [a for t, a in tags.tags if t == "a" and (a.get("href") or "").startswith("javascript:")]
        assert "&lt;img src=x onerror=alert(1)&gt;" in text or "&lt;/script&gt;" in text, page.name
    kpi_page = (site / "kpi" / "REG-K01.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;.xlsx" in kpi_page  # the file name, shown as text
    lg_page = site / "lg" / "072036.html"  # and a survey sheet's, on its local government's page
    assert "&lt;img src=x onerror=alert(1)&gt;.xlsx" in lg_page.read_text(encoding="utf-8")
    assert not [t for t, _ in parse(lg_page).tags if t == "img"]


def test_text_from_a_return_never_runs_in_a_real_browser(payload_site):
    """The same payloads, opened in headless Chromium: no dialog opens, nothing is fetched, no error."""
    needs_chromium()
    with chromium() as driver:
        for page in (payload_site / "kpi" / "REG-K01.html", payload_site / "area" / "GOV.html",
                     payload_site / "quality.html", payload_site / "lg" / "072036.html"):
            assert check_page(driver, page) == [], page.name


# The nightly rebuild: the last step of every run.
def _return(settings, template, department="総務部", year=2022, values=None):
    path = fill_template(template(department, year), values or {"GOV-K02": 30})
    drop(settings, path, department, f"{year}.xlsx")


def test_each_run_rebuilds_the_site_and_says_where(settings, catalogue, template, tmp_path):
    settings = dataclasses.replace(settings, site_build=True, public_site_dir=tmp_path / "public")
    _return(settings, template)
    summary = run_ingest(settings, catalogue)
    index = settings.warehouse.parent / "site" / "index.html"  # the default: beside the warehouse
    assert summary.site == [f"進捗サイト(庁内用): {index}",
                            "進捗サイト(公開用): 作成していません。確定した実績がまだありません"
                            "(shinchoku confirm で確定すると公開用に載ります)。"]
    assert index.is_file() and "30百万枚" in (index.parent / "kpi" / "GOV-K02.html").read_text(encoding="utf-8")
    assert f"進捗サイト(庁内用): {index}" in summary_text(summary)
    assert "## 進捗サイト" in summary_markdown(summary)
    _return(settings, template, year=2023, values={"GOV-K02": 24})
    run_ingest(settings, catalogue)  # the next night's run replaces it whole
    assert "24百万枚" in (index.parent / "kpi" / "GOV-K02.html").read_text(encoding="utf-8")
    assert [p.name for p in index.parent.parent.iterdir() if p.name.startswith(".site")] == []  # no leftovers


def test_a_warehouse_without_actuals_gets_no_site_and_no_failure(settings, catalogue):
    summary = run_ingest(dataclasses.replace(settings, site_build=True), catalogue)  # an empty inbox
    assert summary.site_error is None and summary.site[0].startswith("進捗サイト(庁内用): 作成していません。実績がまだありません")


def _fail_mid_build(monkeypatch):
    """Make the site build fail after its KPI pages are written (into the temporary folder)."""
    import shinchoku.documents.site

    def broken(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shinchoku.documents.site._Pages, "quality", broken)


def test_a_site_folder_that_cannot_be_written_never_undoes_the_run(settings, catalogue, template, tmp_path):
    """The run is published and keeps its exit status; the summary names the failure."""
    blocked = tmp_path / "blocked"
    blocked.write_text("x")  # the configured folder's parent is a file
    settings = dataclasses.replace(settings, site_build=True, site_dir=blocked / "site")
    _return(settings, template)
    summary = run_ingest(settings, catalogue)
    assert summary.exit_code == 0 and summary.count("accepted") == 1 and summary.site == []
    assert summary.site_error.startswith(("FileExistsError", "NotADirectoryError")), summary.site_error
    assert "進捗サイトの作成に失敗しました" in summary_text(summary)
    assert "進捗サイトの作成に失敗しました" in summary_markdown(summary)
    assert query(settings.warehouse, "select actual_value from kpi_progress where kpi_id = 'GOV-K02'") == [(30.0,)]


def test_a_site_build_failing_midway_leaves_the_last_site_whole(settings, catalogue, template, tmp_path, monkeypatch):
    site = tmp_path / "www" / "site"
    settings = dataclasses.replace(settings, site_build=True, site_dir=site)
    _return(settings, template)
    assert run_ingest(settings, catalogue).site == [f"進捗サイト(庁内用): {site / 'index.html'}"]
    before = (site / "kpi" / "GOV-K02.html").read_text(encoding="utf-8")
    _fail_mid_build(monkeypatch)
    _return(settings, template, year=2023, values={"GOV-K02": 24})
    summary = run_ingest(settings, catalogue)
    assert summary.exit_code == 0 and summary.site_error == "OSError: [Errno 28] No space left on device"
    assert query(settings.warehouse, "select actual_value from kpi_progress where kpi_id = 'GOV-K02' "
                                     "and fiscal_year = 2023") == [(24.0,)]  # the run stands
    assert (site / "kpi" / "GOV-K02.html").read_text(encoding="utf-8") == before  # the last site, whole
    assert not list(site.parent.glob(".site.*"))  # and no half-built one beside it


def test_the_boundaries_hold_every_municipality_once_wound_as_plotly_draws_them(catalogue):
    """The shipped boundaries (shinchoku/documents/boundaries) have one feature per municipality of the catalogue, keyed
    by its 6-digit code and named as the catalogue names it, and no other; each outer ring runs clockwise and each hole
    anticlockwise (wound the other way, d3-geo draws a ring as the whole globe but itself), and every ring is closed."""
    import json

    from shinchoku.documents.site import BOUNDARIES

    features = json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]
    got = [(f["properties"]["code"], f["properties"]["name"]) for f in features]
    municipalities = sorted((g.code, g.name) for g in catalogue.local_governments if g.is_municipality)
    assert len(municipalities) == 59 and sorted(got) == municipalities

    def clockwise(ring):
        return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) < 0

    for f in features:
        geometry = f["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        assert geometry["type"] in ("Polygon", "MultiPolygon") and polygons, f["properties"]
        for polygon in polygons:
            assert [clockwise(r) for r in polygon] == [True] + [False] * (len(polygon) - 1), f["properties"]
            assert all(len(r) >= 4 and r[0] == r[-1] for r in polygon), f["properties"]


def test_a_municipality_the_kpi_does_not_ask_for_is_drawn_as_such():
    """On the map every municipality of the boundaries is drawn: one outside a KPI's reporters is 対象外 (not a hole,
    not 未提出), the 県 has no polygon, an unreported one is 未提出 and a reported one is shaded by its rate."""
    from types import SimpleNamespace

    from shinchoku.documents.site import _boundary_names, _lg_map_figure

    codes = sorted(_boundary_names())
    row = {"kind": "市", "shown": True, "reported": True, "value": 50.0, "status": "提出済", "numerator_text": "1",
           "denominator_text": "2", "rate_text": "50.00%"}
    rows = [{**row, "code": "070009", "name": "福島県", "kind": "県"},
            {**row, "code": codes[0], "name": "a", "value": 40.0},
            {**row, "code": codes[1], "name": "b", "shown": False, "reported": False, "value": None, "status": "未提出"}]
    rows += [{**row, "code": c, "name": c} for c in codes[2:-1]]
    for public, unreported in ((True, "未提出"), (False, "未提出・差戻し")):  # 庁内用 tells the two apart in the hover
        figure = _lg_map_figure(rows, SimpleNamespace(unit="%"), "率", public)
        traces = {t["name"]: t["locations"] for t in figure["data"]}
        assert traces == {"率": [codes[0], *codes[2:-1]], unreported: [codes[1]], "対象外": [codes[-1]]}


def test_the_maps_lowest_rates_are_not_blank():
    """From the trial: the scale's low end was nearly white, the lowest rates looked like no data. Its lowest colour
    stands apart from the page's white (a contrast of at least 1.5) and from both greys of the units without a rate."""
    from shinchoku.documents.site import MAP_NO_RATE, MAP_SCALE, MAP_UNREPORTED

    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    def contrast(a: str, b: str) -> float:
        hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    lowest = MAP_SCALE[0][1]
    assert contrast(lowest, "#ffffff") >= 1.5 and contrast(lowest, MAP_NO_RATE) >= 1.4
    assert lowest.lower() not in (MAP_UNREPORTED.lower(), MAP_NO_RATE.lower())
