"""Numbers shown as the department reported them: a correction of copy paper (GOV-K02, whose plan figures are
whole numbers: 40 → 12 百万枚) from 17.5 to 16.8 shows as 17.5 and 16.8 in the report and on the site, never
rounded to the plan's precision (18, 17)."""

from __future__ import annotations


import pytest
from openpyxl import load_workbook

from helpers import drop, query
from shinchoku.run.steps import run_ingest
from shinchoku.documents.report import CHART_DATA_COLUMN, build_report
from shinchoku.documents.review import ReviewItem, review
from shinchoku.documents.site import build_site
from shinchoku.documents.template import fill_template, write_template

PAPER = "コピー用紙購入量(本庁(知事部局))"


@pytest.fixture(scope="module")
def corrected(catalogue, tmp_path_factory):
    """総務部's FY2022 return with copy paper 17.5, its report built; then a second return correcting it to 16.8.
    Returns (the warehouse, the report built before the correction)."""
    from shinchoku.settings import load_settings

    root = tmp_path_factory.mktemp("digits")
    settings = load_settings(inbox=root / "inbox", warehouse=root / "w" / "shinchoku.duckdb", settle_seconds=0,
                             site_build=False, env={}, config_file=root / "none.toml")
    before = None
    for name, value in (("R4_総務部.xlsx", 17.5), ("R4_総務部_訂正.xlsx", 16.8)):
        path = fill_template(write_template(catalogue, "総務部", 2022, root / "t" / name), {"GOV-K02": value})
        drop(settings, path, "総務部", name)
        assert run_ingest(settings, catalogue).exit_code == 0
        before = before or build_report(settings.warehouse, root / "before.xlsx")
    assert query(settings.warehouse, "select actual_value, valid_to is null from observation_history "
                                     "where kpi_id = 'GOV-K02' order by version") == [(17.5, False), (16.8, True)]
    return settings.warehouse, before


def _paper_cells(path) -> list:
    """Every cell of the report that shows copy paper's FY2022 actual (its rows' cells ending in 百万枚 or (R4年度))."""
    wb = load_workbook(path)
    cells = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            names = [c.value for c in row if isinstance(c.value, str)]
            if PAPER in names:
                cells += [c for c in row if isinstance(c.value, str) and "百万枚" in c.value
                          and "R2年度" not in c.value and "R7年度" not in c.value]  # not the plan's figures
    return cells


def test_the_report_shows_the_reported_digits_before_and_after_the_correction(corrected):
    warehouse, before = corrected
    after = build_report(warehouse, before.with_name("after.xlsx"))
    for path, shown in ((before, "17.5百万枚"), (after, "16.8百万枚")):
        cells = _paper_cells(path)
        # 評価シート, 概要 (the latest actual) and the area sheet (the R4年度実績 column)
        assert len(cells) == 3, [c.value for c in cells]
        for cell in cells:
            assert cell.data_type == "s" and cell.value.startswith(shown), (cell.parent.title, cell.value)
    texts = [c.value for c in _paper_cells(after)]
    assert not any(t.startswith(("17百万枚", "18百万枚")) for t in texts)
    # the chart's data, beside the printed area: the number itself, in the General format that shows it whole
    ws = load_workbook(after)["行政のDX"]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=CHART_DATA_COLUMN).value == "GOV-K02")
    cell = next(ws.cell(row=r, column=CHART_DATA_COLUMN + 1) for r in range(top + 1, top + 10)
                if ws.cell(row=r, column=CHART_DATA_COLUMN).value == "R4年度")
    assert (cell.value, cell.number_format) == (16.8, "General")


def test_the_site_shows_the_current_and_the_superseded_version_as_reported(corrected, tmp_path):
    warehouse, _ = corrected
    page = (build_site(warehouse, tmp_path / "site") / "kpi" / "GOV-K02.html").read_text(encoding="utf-8")
    values = page[page.index("現行の値"):page.index("</table>", page.index("現行の値"))]
    superseded = page[page.index("<caption>置き換わった版"):page.index("</table>", page.index("<caption>置き換わった版"))]
    assert '<td class="num">16.8百万枚</td>' in values
    assert '<td class="num">17.5百万枚</td>' in superseded
    assert "<dd>16.8百万枚(未確定)(R4年度)</dd>" in page  # 最新の実績
    assert '<td class="num">16.8</td>' in page  # the chart's data table
    assert "17百万枚" not in page and "18百万枚" not in page


def test_the_review_shows_the_correction_as_reported(corrected):
    warehouse, _ = corrected
    [item] = review(warehouse, 2022, "総務部")
    # old, new and the plan's decimals (40 → 12 百万枚: none), read with the values
    assert [(v[0], v[1], v[2], v[6]) for v in item.values] == [("GOV-K02", 17.5, 16.8, 0)]
    assert [r[:3] for r in item.rows() if r[0] == "値"] == [("値", "GOV-K02", "17.5 → 16.8")]


def test_the_review_keeps_every_reported_digit_and_the_plans_precision():
    item = ReviewItem("企画調整部", 2022, values=[("GOV-K01", 61.0, 61.25, 3, "E7", None, 1),
                                                 ("REG-K01", None, 1234567.5, 3, "E8", "速報", 0)])
    assert [r[2] for r in item.rows()] == ["61.0 → 61.25", "新規 1,234,567.5(速報)"]
