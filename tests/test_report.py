"""The progress report, built from a small known warehouse, checked cell by cell."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import duckdb
import pytest

from openpyxl import load_workbook

from helpers import drop
from shinchoku.run.steps import run_ingest
from shinchoku.documents.facts import REPORT_VIEWS, format_reported, format_value
from shinchoku.documents.report import CHART_DATA_COLUMN, EVALUATION_HEADER, build_report
from shinchoku.documents.template import fill_outcomes, fill_template

FACTOR = "両面印刷の徹底は進んだが、会議資料の電子化が一部の部署にとどまった。"
DIRECTION = "R5年度から全庁でペーパーレス会議システムを導入する。"


@pytest.fixture(scope="module")
def known(tmp_path_factory, catalogue):
    """A warehouse with copy paper 35 (FY2021) and 30 (FY2022) with its 要因分析 and 今後の方向性,
    online use 55.0 (FY2022), 課題解決プロジェクト 132 as a provisional mid-year value, one outcome."""
    from shinchoku.settings import load_settings
    from shinchoku.documents.template import write_template

    root = tmp_path_factory.mktemp("report")
    settings = load_settings(inbox=root / "inbox", warehouse=root / "w" / "shinchoku.duckdb", settle_seconds=0,
                             site_build=False, env={}, config_file="/none")
    for dept, year, values in (("総務部", 2021, {"GOV-K02": 35}), ("総務部", 2022, {"GOV-K02": 30}),
                               ("企画調整部", 2022, {"GOV-K01": 55.0, "REG-K01": "132(速報)"})):
        path = write_template(catalogue, dept, year, root / "t" / f"{dept}{year}.xlsx")
        fill_template(path, values, as_of={"REG-K01": "2023/2/28"},
                      explanations={"GOV-K02": (FACTOR, DIRECTION)} if year == 2022 else None)
        if (dept, year) == ("企画調整部", 2022):
            fill_outcomes(path, [("GOV-04", "全庁展開", "年間で約1,500時間の削減見込", 1500, "時間", None)])
        drop(settings, path, dept)
    assert run_ingest(settings, catalogue).exit_code == 0
    return settings.warehouse


@pytest.fixture(scope="module")
def report(known, tmp_path_factory):
    """The default report of the known warehouse, built once (tests only read it)."""
    return build_report(known, tmp_path_factory.mktemp("built") / "r.xlsx")


@pytest.fixture(scope="module")
def book(report):
    return load_workbook(report)


def test_summary_sheet(book):
    wb = book
    assert wb.sheetnames[:2] == ["評価シート", "概要"] and {"提出状況", "データ品質"} <= set(wb.sheetnames)
    ws = wb["概要"]
    assert "R4年度" in ws["A1"].value
    rows = {r[1]: r for r in ws.iter_rows(values_only=True) if r[1] and r[0] in ("行政のDX",) and r[1] != "A"}
    paper = rows["コピー用紙購入量(本庁(知事部局))"]
    assert paper[2:7] == ("40百万枚(R2年度)", "12百万枚(R7年度)", "30百万枚(未確定)(R4年度)", "35.7%", "B")
    online = rows["県及び市町村の行政手続のオンライン利用率"]
    assert online[2:4] == ("48.2%(R3年度)", "80.0%(R7年度)")
    # 55.0 in FY2022: expected 48.2 + 31.8 / 4 = 56.15, pace 6.8 / 7.95 = 0.855 -> B; progress 6.8 / 31.8 = 21.4%
    assert online[4:7] == ("55.0%(未確定)(R4年度)", "21.4%", "B")  # nothing confirmed yet
    assert [c.value for c in ws[4]][1:7:5] == ["評価", "見通し"]
    assert [c.value for c in ws[5]][6:13] == ["目標達成", "達成見込み", "要加速", "達成困難", "悪化", "未達成", "評価不能"]
    counts = {r[0]: r[1:13] for r in ws.iter_rows(min_row=6, max_row=13, values_only=True)}
    # grades A B C D 評価不能, then outlooks: copy paper 0.833 and online use 6.8 / 8.33 = 0.816 are both 要加速
    assert counts["行政のDX"] == (0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0)
    assert counts["産業振興"] == (0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 2)
    assert paper[7:9] == ("要加速", "R8年度")


def test_area_sheet_like_the_seed(book):
    wb = book
    ws = wb["行政のDX"]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "項目: RPAの導入" in cells
    assert "年間で約1,500時間の削減見込" in cells
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "指標名")
    assert header[:5] == ("指標名", "基準値(基準年度)", "目標値(目標年度)", "R3年度実績", "R4年度実績")
    assert header[5:7] == ("進捗率", "評価")
    paper = next(r for r in ws.iter_rows(values_only=True) if r[0] == "コピー用紙購入量(本庁(知事部局))")
    assert paper[:7] == ("コピー用紙購入量(本庁(知事部局))", "40百万枚(R2年度)", "12百万枚(R7年度)", "35百万枚(未確定)", "30百万枚(未確定)", "35.7%", "B")
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$1"


def test_fy2021_report_shows_the_seeds_outcomes(known, tmp_path):
    wb = load_workbook(build_report(known, tmp_path / "r.xlsx", 2021))
    texts = [c for row in wb["行政のDX"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("年間で約962時間(58.6%)の業務時間の削減見込 (※本庁の全ての帳票をRPAで処理した場合)" in t for t in texts)
    regional = [c for row in wb["教育・人材育成"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("(R3・R4) ●運営協議会(3回)" in t for t in regional)
    assert "※ KPIの設定がなじまない取組項目" in regional


def test_one_native_line_chart_per_kpi_with_an_actual(known, report):
    path = report
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        line_charts = [n for n in charts if b"<lineChart>" in z.read(n)]
    con = duckdb.connect(str(known), read_only=True)
    with_actuals = con.execute("select count(distinct kpi_id) from kpi_progress").fetchone()[0]
    con.close()
    assert len(line_charts) == with_actuals == 3
    assert len(charts) == with_actuals + 1  # and the summary's bar chart


def test_report_reads_only_the_views(known, book, tmp_path):
    """A database holding nothing but the report's views (as tables) gives the same report."""
    only_views = tmp_path / "views_only.duckdb"
    con = duckdb.connect(str(only_views))
    con.execute(f"attach '{known}' as w (read_only)")
    for view in REPORT_VIEWS:
        con.execute(f'create table "{view}" as select * from w."{view}"')
    con.execute("detach w")
    con.close()
    a = book
    b = load_workbook(build_report(only_views, tmp_path / "b.xlsx"))
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        assert list(a[name].values) == list(b[name].values), name


def test_the_evaluation_sheet_the_committee_reads_first(book):
    wb = book
    ws = wb["評価シート"]
    assert wb.active.title == "評価シート"
    assert tuple(c.value for c in ws[5]) == EVALUATION_HEADER
    rows = [r for r in ws.iter_rows(min_row=6, values_only=True)]
    assert len(rows) == 11 and [r[0] for r in rows[:2]] == ["行政のDX", "行政のDX"]  # area order
    paper = next(r for r in rows if r[1] == "コピー用紙購入量(本庁(知事部局))")
    assert paper == ("行政のDX", "コピー用紙購入量(本庁(知事部局))", "40百万枚(R2年度)", "12百万枚(R7年度)",
                     "30百万枚(未確定)(R4年度)", "35.7%", "B", "要加速", "R8年度", FACTOR, DIRECTION, "総務部")
    # 121 (FY2021) and 132 (FY2022): +11 a year against (160 - 132) / 3 = 9.33 needed; reached in FY2025
    project = next(r for r in rows if r[1] == "課題解決プロジェクト参加者数")
    assert project[4:9] == ("132人(速報)(2023/2/28時点)(未確定)(R4年度)", "28.2%", "A", "達成見込み※", "R7年度")
    assert project[9:11] == (None, None)  # nothing explained (and nothing asked: it is on track)
    unknown = next(r for r in rows if r[1].startswith("ふくしま12市町村"))
    assert unknown[4:9] == ("実績なし", "-", "-", "評価不能", "-")
    assert "達成見込み ≥ 100%、要加速 ≥ 60%、達成困難 < 60%" in ws["A3"].value
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.page_setup.fitToWidth == 1 and ws.print_title_rows == "$5:$5"
    assert ws.page_setup.fitToHeight == 0  # as many pages as it takes, at a readable size


def test_area_sheets_carry_the_outlook_the_explanations_and_the_trend(book, report):
    wb = book
    ws = wb["行政のDX"]
    values = list(ws.iter_rows(values_only=True))
    header = next(r for r in values if r[0] == "指標名" and r[1] == "基準値(基準年度)")
    assert header[5:9] == ("進捗率", "評価", "見通し", "達成見込年度")
    paper = next(r for r in values if r[0] == "コピー用紙購入量(本庁(知事部局))")
    assert paper[7:9] == ("要加速", "R8年度")
    explained = next(n for n, r in enumerate(values) if r[1] == "要因分析(R4年度)")
    texts = {r[0]: r for r in values[explained + 1:explained + 3]}
    paper_texts = [v for v in texts["コピー用紙購入量(本庁(知事部局))"] if v]
    assert paper_texts == ["コピー用紙購入量(本庁(知事部局))", FACTOR, DIRECTION]
    assert "(記入なし)" in texts["県及び市町村の行政手続のオンライン利用率"]
    # the chart data: copy paper's fitted line from the latest actual (FY2022) to the target year: 30, 25, 20, 15
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=CHART_DATA_COLUMN).value == "GOV-K02")
    assert ws.cell(row=top, column=CHART_DATA_COLUMN + 4).value == "傾向(見通し)"
    line = {ws.cell(row=r, column=CHART_DATA_COLUMN).value: ws.cell(row=r, column=CHART_DATA_COLUMN + 4).value
            for r in range(top + 1, top + 7)}
    assert {k: v for k, v in line.items() if v is not None} == {"R4年度": 30, "R5年度": 25, "R6年度": 20, "R7年度": 15}
    with zipfile.ZipFile(report) as z:
        chart = next(z.read(n) for n in z.namelist() if n.startswith("xl/charts/") and b"GOV-K02" not in z.read(n)
                     and b"sysDot" in z.read(n))
    assert chart.count(b"<ser>") == 4


def test_values_with_written_precision_and_unknowns():
    assert format_value(48.2, "%", 1) == "48.2%"
    assert format_value(80, "%", 1) == "80.0%"
    assert format_value(85, "%", 0) == "85%"
    assert format_value(48441, "件", 0) == "48,441件"
    assert format_value(None, "万件", 1) == "不明"


def test_actuals_with_the_digits_the_department_gave():
    """At least the plan's precision, never fewer digits than reported, float noise hidden."""
    cases = {(17.5, 0): "17.5", (16.8, 0): "16.8", (18.0, 0): "18", (1461000.0, 0): "1,461,000", (61.0, 1): "61.0",
             (61.234, 1): "61.234", (0.1 + 0.2, 1): "0.3", (146.1, None): "146.1", (1234.0, 0): "1,234"}
    assert {(value, plan): format_reported(value, "", plan) for value, plan in cases} == cases
    assert format_reported(16.8, "百万枚", 0) == "16.8百万枚"
    assert format_reported(None, "%", 1) == "不明"


# The seed's 指標名, 基準値(基準年度) and 目標値(目標年度), typed out from the seed document.
SEED_TABLE = [
    ("県及び市町村の行政手続のオンライン利用率", "48.2%(R3年度)", "80.0%(R7年度)"),
    ("コピー用紙購入量(本庁(知事部局))", "40百万枚(R2年度)", "12百万枚(R7年度)"),
    ("ふくしま12市町村移住ポータルサイト(未来ワークふくしま)のページビュー(PV)数", "不明(R3年度)", "146.1万件(R7年度)"),
    ("課題解決プロジェクト参加者数", "121人(R3年度)", "160人(R7年度)"),
    ("教員のICT活用指導力(授業にICTを活用して指導する能力)", "65.3%(R2年度)", "85%(R7年度)"),
    ("技術支援を受けた企業が、実際にAI・IoT製品や技術等を自社に導入するに至った件数", "2件(R3年度)", "8件(R7年度)"),
    ("スマート農業等技術を導入した経営体数", "525経営体(R2年度)", "810経営体(R7年度)"),
    ("介護ロボットやICT機器の導入施設数", "172施設(R2年度)", "391施設(R7年度)"),
    ("ふくしま健民アプリのダウンロード数", "48,441件(R2年度)", "98,441件(不明)"),
    ("出前講座等を通じ防災に関し啓発を行った人数", "5,000人(R3年度)", "8,000人(R7年度)"),
    ("福島県環境アプリの累計ダウンロード数", "10,000ダウンロード(R3年度)", "100,000ダウンロード(R7年度)"),
]


def test_every_seed_kpi_appears_with_the_seeds_texts(book):
    wb = book
    summary = {r[1]: r[2:4] for r in wb["概要"].iter_rows(values_only=True) if r[1]}
    area_rows: dict = {}
    for name in wb.sheetnames[2:wb.sheetnames.index("指標の改定")]:  # after 評価シート and 概要
        for r in wb[name].iter_rows(values_only=True):
            if r[0]:
                area_rows.setdefault(r[0], r[1:3])  # the KPI table's row, not the explanations' under it
    for name, baseline, target in SEED_TABLE:
        assert summary[name] == (baseline, target), name
        assert area_rows[name] == (baseline, target), name


def test_the_legend_and_grade_columns_follow_configuration(tmp_path):
    """Four differently named grades with their own labels: the legend, the counts' columns and the cells."""
    from test_views import FOUR_GRADES, build

    con = build(FOUR_GRADES)
    path = tmp_path / "four.duckdb"
    con.execute(f"attach '{path}' as f")
    con.execute("copy from database memory to f")
    con.execute("detach f")
    con.close()
    ws = load_workbook(build_report(path, tmp_path / "four.xlsx"))["概要"]
    assert ws["A2"].value == ("評価: ペース(基準値から目標値への直線の軌道に対する実績)が S(極めて順調) ≥ 120%、"
                              "A(順調) ≥ 90%、B(要注意) ≥ 70%、C(要対策) それ未満。目標達成は S。")
    assert [c.value for c in ws[5]][:6] == ["分野", "S", "A", "B", "C", "評価不能"]
    grades = {r[1]: r[6] for r in ws.iter_rows(values_only=True) if r[1] in ("PAPER", "ONLINE", "NOBASE")}
    assert grades == {"PAPER": "B", "ONLINE": "A", "NOBASE": "S"}


def test_the_summary_lists_the_kpis_in_area_order_and_its_chart_names_every_area(book, report):
    ws = book["概要"]
    head = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "分野"
                and ws.cell(row=r, column=2).value == "指標名")
    listed = [ws.cell(row=r, column=1).value for r in range(head + 1, ws.max_row + 1)]
    areas = [r[0] for r in ws.iter_rows(min_row=6, max_row=13, values_only=True)]  # the counts, in areas.csv's order
    assert areas[:2] == ["行政のDX", "市町村支援・連携"] and len(set(areas)) == 8
    assert listed == sorted(listed, key=areas.index)
    with zipfile.ZipFile(report) as z:
        [bars] = [z.read(n) for n in z.namelist() if n.startswith("xl/charts/") and b"<barChart>" in z.read(n)]
    assert b'<tickLblSkip val="1"' in bars  # every area labelled, not every other one


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="needs LibreOffice and poppler-utils (apt-get install libreoffice-calc poppler-utils)")
def test_the_report_prints_on_a4_with_no_cell_text_cut(book, report, tmp_path):
    """LibreOffice's PDF of the report: A4 landscape pages, and in 評価シート and 概要 every cell's text whole
    (a wrapped text taller than its row loses its last lines; the PDF's text then lacks them); each 市町村別 sheet on
    at most two A4 portrait pages, every local government's row in its text, not shrunk below the others' size."""
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(report)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "r.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    width, height = map(float, next(l for l in info.splitlines() if l.startswith("Page size")).split()[2:5:2])
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    # -raw keeps each cell's text together, a wrapped text's lines one after the other
    pages = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")

    def flat(text: str) -> str:
        return re.sub(r"\s+", "", text)

    def first_page(title: str) -> int:
        return next(n for n, page in enumerate(pages) if flat(title) in flat(page))

    summary, first_area = first_page(book["概要"]["A1"].value), first_page(book[book.sheetnames[2]]["A1"].value)
    assert 0 < summary < first_area
    for sheet, printed in (("評価シート", pages[:summary]), ("概要", pages[summary:first_area])):
        text = flat("".join(printed))
        cells = [c.value for row in book[sheet].iter_rows() for c in row if isinstance(c.value, str)]
        assert [v for v in cells if flat(v) not in text] == [], sheet
        assert [name for name, _, _ in SEED_TABLE if flat(name) not in text] == [], sheet
    # each 市町村別 sheet: A4 portrait, at most two pages, every local government's row in the text, at a readable size
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", str(len(pages)), str(pdf)], check=True, capture_output=True,
                           text=True).stdout
    sizes = [tuple(round(float(v)) for v in l.split()[3:6:2]) for l in sizes.splitlines() if re.match(r"Page +\d+ size", l)]
    names = book.sheetnames
    for kpi_id in ("GOV-K01", "EDU-K01"):
        sheet = f"市町村別_{kpi_id}"
        first, end = first_page(book[sheet]["A1"].value), first_page(book[names[names.index(sheet) + 1]]["A1"].value)
        assert 0 < end - first <= 2 and set(sizes[first:end]) == {(595, 842)}, sheet  # A4 portrait
        text = flat("".join(pages[first:end]))
        rows = [r for r in book[sheet].iter_rows(min_row=6, values_only=True) if r[0]]
        assert len(rows) == (60 if kpi_id == "GOV-K01" else 59)
        assert [r[3] for r in rows if flat(f"{r[2]}{r[3]}") not in text] == [], sheet
        assert text.count("未提出") >= 2 * len(rows)  # nothing reported by a local government here: 未提出, never 0
        bbox = subprocess.run(["pdftotext", "-bbox", "-f", str(first + 1), "-l", str(end), str(pdf), "-"], check=True,
                              capture_output=True, text=True).stdout
        heights = {w: float(b) - float(a) for a, b, w in
                   re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)</word>', bbox)}
        assert min(heights[r[3]] for r in rows) >= 9, sheet  # names as tall as the other sheets' text, not shrunk to fit
    # 地方・グループ別: A4 portrait, every group's name whole in each of its rows (a cut name is not in the PDF's text)
    totals = book["地方・グループ別"]
    first, end = first_page(totals["A1"].value), first_page(book[names[names.index("地方・グループ別") + 1]]["A1"].value)
    assert set(sizes[first:end]) == {(595, 842)}
    text = flat("".join(pages[first:end]))
    groups = [r[3] for r in totals.iter_rows(min_row=5, values_only=True) if r[0] and r[2] == "グループ"]
    assert "避難地域12市町村" in groups
    assert [g for g in set(groups) if text.count(flat(g)) < groups.count(g)] == []
