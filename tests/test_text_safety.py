"""Text a department wrote can stop nothing: control characters are removed at reading (with a warning),
every writer survives text stored before that, the terminal never receives one raw, and an annotated copy
goes back without links to other workbooks."""

from __future__ import annotations

import contextlib
import io
import re
import zipfile

import duckdb
import pytest
from openpyxl import load_workbook

from helpers import drop, query, query_many
from shinchoku.run.annotate import annotate_package
from shinchoku.workbook.assess import assess_files
from shinchoku.cli import main
from shinchoku.config import Limits
from shinchoku.run.feedback import annotate_workbook
from shinchoku.run.steps import run_ingest
from shinchoku.workbook.messages import Issue
from shinchoku.documents.summary import summary_text
from shinchoku.documents.template import fill_outcomes, fill_template
from shinchoku.workbook.text import clean, terminal_safe, writable

# what a spreadsheet application stores for a vertical tab (PowerPoint), an ESC, a BEL and CR LF
FACTOR = "説明会の開催が_x000B_延期となった。_x001B_[31m"
DIRECTION = "上半期に_x0007_説明会を開催する。_x000D__x000A_2回。"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # never in what reaches a terminal
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # never in what a workbook holds


def cli(*args) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def test_the_rules():
    assert clean("a\x0bb\x1b[31mc\r\nd\re\tf\ng") == ("ab[31mc\nd\ne\tf\ng", True)
    assert clean("改行\r\nだけ") == ("改行\nだけ", False)  # a line break changed is not a removal
    assert writable("a\x0b\x00b\ud800\tc\n") == "ab\tc\n"
    assert writable(1.5) == 1.5
    assert terminal_safe("x\x1b]0;title\x07y\rz\tw\n\x9b") == "x\\x1b]0;title\\x07y\\rz\tw\n\\x9b"


def outputs_survive(settings, tmp_path, tag: str) -> None:
    """report, review (terminal and -o), site and export all succeed through the CLI, and none carries a
    control character (each output built once: the commands are what the office runs)."""
    wh = str(settings.warehouse)
    report = tmp_path / f"report-{tag}.xlsx"
    code, out = cli("report", "--warehouse", wh, "-o", str(report))
    assert code == 0, out
    for ws in load_workbook(report).worksheets:
        for row in ws.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and UNWRITABLE.search(v) for v in row)
    code, out = cli("review", "--warehouse", wh, "-o", str(tmp_path / f"review-{tag}.xlsx"))
    assert code == 0, out
    assert not RAW.search(out)
    site = tmp_path / f"site-{tag}"
    code, out = cli("site", "--warehouse", wh, "-o", str(site))
    assert code == 0, out
    pages = list(site.rglob("*.html"))
    assert pages
    for page in pages:
        assert not UNWRITABLE.search(page.read_text(encoding="utf-8")), page
    code, out = cli("export", "kpi_explanations", "--warehouse", wh, "-o", str(tmp_path / f"x-{tag}.csv"))
    assert code == 0, out
    assert not UNWRITABLE.search((tmp_path / f"x-{tag}.csv").read_text(encoding="utf-8-sig"))


def test_control_characters_are_removed_with_a_warning_and_the_report_is_made_after_confirm(
        settings, catalogue, template, tmp_path):
    # REG-K01 128 in FY2022 is graded C: its 要因分析 goes to the committee's report
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": 128},
                         notes={"GOV-K01": "備考_x000C_です"}, explanations={"REG-K01": (FACTOR, DIRECTION)},
                         out=tmp_path / "R4.xlsx")
    fill_outcomes(path, [("GOV-01", "業務の_x000B_棚卸し", "全庁で_x001B_実施", None, None, None)])
    [checked] = assess_files([(path, "企画調整部")], catalogue, Limits())
    assert checked.accepted
    removed = [(i.sheet, i.cell, i.kpi_id) for i in checked.issues if i.code == "control_character_removed"]
    assert ("実績報告", "H8", "REG-K01") in removed and ("実績報告", "I8", "REG-K01") in removed
    assert ("実績報告", "G7", "GOV-K01") in removed
    assert {(s, k) for s, _, k in removed} >= {("取組実績", "GOV-01")}
    message = next(i for i in checked.issues if i.cell == "H8").message
    assert message == "「要因分析」欄の文字列に制御文字(垂直タブなど)が含まれていたため、取り除いて受け付けました。"

    drop(settings, path, "企画調整部")
    summary = run_ingest(settings, catalogue)
    assert summary.count("accepted") == 1
    got = query_many(settings.warehouse, {
        "texts": "select factor_analysis, future_direction from kpi_explanations where kpi_id = 'REG-K01'",
        "notes": "select note from observation_history where kpi_id = 'GOV-K01'",
        "outcomes": "select activities, outcome_text from initiative_outcomes where submission_id is not null",
        "codes": "select cell, code from validation_issues where code = 'control_character_removed' order by cell",
    })
    assert got["texts"] == [("説明会の開催が延期となった。[31m", "上半期に説明会を開催する。\n2回。")]
    assert got["notes"] == [("備考です",)]
    assert got["outcomes"] == [("業務の棚卸し", "全庁で実施")]
    assert ("H8", "control_character_removed") in got["codes"]
    outputs_survive(settings, tmp_path, "accepted")
    code, out = cli("confirm", "--year", "2022", "--department", "企画調整部", "--allow-missing",
                    "--allow-provisional", "--warehouse", str(settings.warehouse))
    assert code == 0, out
    outputs_survive(settings, tmp_path, "confirmed")


def test_text_stored_before_the_fix_breaks_no_writer(settings, catalogue, template, tmp_path):
    path = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": 128},
                         explanations={"REG-K01": ("理由", "方向")}, out=tmp_path / "R4.xlsx")
    fill_outcomes(path, [("GOV-01", "業務の棚卸し", "全庁で実施", None, None, None)])
    drop(settings, path, "企画調整部")
    assert run_ingest(settings, catalogue).count("accepted") == 1
    bad = "古い\x0b文字\x1b]0;x\x07列\x00\r"
    con = duckdb.connect(str(settings.warehouse))
    try:  # as an older shinchoku stored them
        con.execute("update raw_explanations set factor_analysis = ?, future_direction = ?", [bad, bad])
        con.execute("update raw_observations set note = ?, raw_value = ?", [bad, bad])
        con.execute("update raw_outcomes set activities = ?, outcome_text = ?", [bad, bad])
        con.execute("update raw_submissions set file_name = ?", ["R4\x1b]0;x\x07\x0b.xlsx"])
        con.execute("insert into raw_validation_issues select submission_id, '実績報告', 'E8', 'REG-K01', 'warning', "
                    "'suspicious_value', ?, ? from raw_submissions", [bad, bad])
    finally:
        con.close()
    assert query(settings.warehouse, "select factor_analysis from kpi_explanations where kpi_id = 'REG-K01'") == [(bad,)]
    outputs_survive(settings, tmp_path, "old")  # after confirm: the test above (confirm locks what is stored)


def test_escapes_in_cells_and_file_names_never_reach_the_terminal(settings, catalogue, template, tmp_path):
    name = "R4\x1b]0;pwned\x07\rX.xlsx"
    bad_id = "GOV_x001B_]0;t_x0007_-K99"
    rejected = fill_template(template("企画調整部", 2022), {"GOV-K01": "集計中_x001B_[2K"}, out=tmp_path / "a.xlsx")
    wb = load_workbook(rejected)
    wb["実績報告"].append([bad_id, None, None, 2022, 1, None, "備考_x001B_[2K"])
    wb.save(rejected)
    target = drop(settings, rejected, "企画調整部", name)
    code, out = cli("check", str(target))
    assert code == 1
    assert not RAW.search(out)
    assert "\\x1b]0;pwned\\x07\\rX.xlsx" in out  # the name shown, its escapes visible
    assert "GOV]0;t-K99" in out  # the cell's control characters removed at reading

    summary = run_ingest(settings, catalogue)
    assert summary.count("rejected") == 1
    text = summary_text(summary)
    assert not RAW.search(text)
    assert "\\x1b]0;pwned\\x07\\rX.xlsx" in text

    # a file name stored raw reaches review through data_quality; an accepted file with a warning
    accepted = fill_template(template("企画調整部", 2023), {"GOV-K01": "約 60", "REG-K01": 140},
                             out=tmp_path / "b.xlsx")
    drop(settings, accepted, "企画調整部", "R5\x1b[2K\x07\r.xlsx")
    summary = run_ingest(settings, catalogue)
    assert summary.count("accepted") == 1
    assert not RAW.search(summary_text(summary))
    code, out = cli("review", "--warehouse", str(settings.warehouse))
    assert code == 0
    assert "R5\\x1b[2K\\x07\\r.xlsx" in out
    assert not RAW.search(out)


# ---- item 6: links to other workbooks

EXTERNAL_LINK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                 '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
                 '<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>57</v></cell></row></sheetData>'
                 '</sheetDataSet></externalBook></externalLink>')
DDE_LINK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<ddeLink ddeService="Excel" ddeTopic="C:\\集計.xlsx"><ddeItems><ddeItem name="R1C1" advise="1"/>'
            '</ddeItems></ddeLink></externalLink>')
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_LINK = "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"


def _rels(*entries) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG}">'
            + "".join(f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{target}"{mode}/>'
                      for i, t, target, mode in entries) + "</Relationships>")


def linked_workbook(source, target):
    """The return sheet with 実績値 E7 taken from another workbook ([1]), E8 by DDE ([2]), plus a data
    connection, a web query's part and an embedded OLE object: as Excel saves them."""
    with zipfile.ZipFile(source) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode()
    xml = re.sub(r'(<c r="E7"[^>]*>)(<v>)', r"\1<f>[1]Sheet1!$A$1</f>\2", xml, count=1)
    xml = re.sub(r'(<c r="E8"[^>]*>)(<v>)', r"\1<f>[2]!'R1C1'</f>\2", xml, count=1)
    assert xml.count("<f>") == 2, "the template's value cells moved"
    ole = ('<oleObjects><oleObject progId="Word.Document.12" shapeId="1025" r:id="rIdOle"/></oleObjects>')
    xml = xml.replace("</worksheet>", ole + "</worksheet>") if "<tableParts" not in xml else \
        xml.replace("<tableParts", ole + "<tableParts", 1)
    if 'xmlns:r=' not in xml[:500]:
        xml = xml.replace("<worksheet ", f'<worksheet xmlns:r="{REL}" ', 1)
    parts[sheet] = xml.encode()
    sheet_rels = "xl/worksheets/_rels/sheet1.xml.rels"
    ole_rel = ("rIdOle", "oleObject", "../embeddings/oleObject1.bin", "")
    if sheet_rels in parts:
        parts[sheet_rels] = parts[sheet_rels].replace(
            b"</Relationships>", f'<Relationship Id="rIdOle" Type="{REL}/oleObject" '
                                 f'Target="../embeddings/oleObject1.bin"/></Relationships>'.encode())
    else:
        parts[sheet_rels] = _rels(ole_rel).encode()
    parts["xl/embeddings/oleObject1.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    parts["xl/externalLinks/externalLink1.xml"] = EXTERNAL_LINK.encode()
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = _rels(
        ("rId1", "externalLinkPath", "file:///C:/集計/元データ.xlsx", ' TargetMode="External"')).encode()
    parts["xl/externalLinks/externalLink2.xml"] = DDE_LINK.encode()
    parts["xl/connections.xml"] = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><connections xmlns="'
                                   b'http://schemas.openxmlformats.org/spreadsheetml/2006/main"><connection id="1" '
                                   b'name="web" type="4" refreshedVersion="6"><webPr url="http://example.invalid/q"/>'
                                   b'</connection></connections>')
    workbook = parts["xl/workbook.xml"].decode()
    workbook = workbook.replace("</sheets>", '</sheets><externalReferences><externalReference r:id="rIdX1"/>'
                                              '<externalReference r:id="rIdX2"/></externalReferences>', 1)
    parts["xl/workbook.xml"] = workbook.encode()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        f'<Relationship Id="rIdX1" Type="{REL}/externalLink" Target="externalLinks/externalLink1.xml"/>'
        f'<Relationship Id="rIdX2" Type="{REL}/externalLink" Target="externalLinks/externalLink2.xml"/>'
        f'<Relationship Id="rIdC" Type="{REL}/connections" Target="connections.xml"/></Relationships>').encode())
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        f'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="{CT_LINK}"/>'
        f'<Override PartName="/xl/externalLinks/externalLink2.xml" ContentType="{CT_LINK}"/>'
        '<Override PartName="/xl/connections.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.connections+xml"/><Default Extension="bin" ContentType="application/vnd.openxmlformats-'
        'officedocument.oleObject"/></Types>').encode())
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return target


LINKED = ("xl/externalLinks/", "xl/connections.xml", "xl/queryTables/", "xl/embeddings/")


def assert_self_contained(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert not [n for n in names if n.startswith(LINKED)]
        text = b"".join(z.read(n) for n in names if n.endswith((".xml", ".rels")))
    for word in (b"externalLink", b"externalReference", b"oleObject", b"connections", b"[1]", b"[2]"):
        assert word not in text, word
    wb = load_workbook(path)
    ws = wb["実績報告"]
    assert ws["E7"].value == 57  # the saved value stays, the link goes
    assert not wb._external_links
    return wb


def test_values_from_other_workbooks_are_warned_and_the_copy_goes_back_without_links(catalogue, template, tmp_path):
    source = fill_template(template("企画調整部", 2022), {"GOV-K01": 57.0, "REG-K01": 128},
                           out=tmp_path / "plain.xlsx")
    linked = linked_workbook(source, tmp_path / "linked.xlsx")
    [a] = assess_files([(linked, "企画調整部")], catalogue, Limits())
    warned = [(i.cell, i.kpi_id, i.message) for i in a.issues if i.code == "external_value"]
    assert warned == [("E7", "GOV-K01", "実績値「57」は、外部のブック(またはDDE)を参照する数式の保存値です。"),
                      ("E8", "REG-K01", "実績値「128」は、外部のブック(またはDDE)を参照する数式の保存値です。")]
    assert a.accepted  # a warning: the values are read as saved
    assert {r["item_id"]: r["actual_value"] for r in a.records if r["table"] == "kpi"} == {"GOV-K01": 57, "REG-K01": 128}

    # a rejected workbook with links: both writers return it self-contained
    issues = a.issues + [Issue("value_not_number", "実績報告", "E8", "REG-K01", {"value": "x"})]
    assert annotate_package(linked, issues, tmp_path / "xml.xlsx")
    wb = assert_self_contained(tmp_path / "xml.xlsx")
    assert {r[4] for r in wb["エラー一覧"].iter_rows(min_row=2, values_only=True)} >= {"external_value",
                                                                                    "value_not_number"}
    annotate_workbook(linked, issues, tmp_path / "openpyxl.xlsx")
    assert_self_contained(tmp_path / "openpyxl.xlsx")


@pytest.mark.parametrize("formula", ["SUM(A1:A3)", '"[1]x!"&A1', "Table1[[#This Row],[2019]]"])
def test_ordinary_formulas_are_not_external(formula):
    from shinchoku.workbook.ooxml import external_formula

    assert not external_formula(formula)


def test_a_shared_formula_into_another_workbook_is_external_in_every_cell(tmp_path):
    from shinchoku.run.annotate import _saved_values_only
    from shinchoku.workbook.ooxml import external_formula, read_sheet

    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
           '<c r="A1"><f t="shared" ref="A1:A2" si="0">[1]Sheet1!A1</f><v>1</v></c>'
           '<c r="B1"><f t="shared" ref="B1:B2" si="1">C1*2</f><v>4</v></c><c r="C1"><v>2</v></c></row>'
           '<row r="2"><c r="A2"><f t="shared" si="0"/><v>5</v></c><c r="B2"><f t="shared" si="1"/><v>6</v></c>'
           '</row></sheetData></worksheet>')
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(path) as z:
        grid = read_sheet(z, "xl/worksheets/sheet1.xml", [], [], False, Limits())
    assert [(grid[r][0].external, grid[r][1].external) for r in (0, 1)] == [(True, False), (True, False)]
    kept = _saved_values_only(xml.encode(), external_formula).decode()
    assert "[1]" not in kept and '<c r="A2"><v>5</v></c>' in kept and '<c r="A1"><v>1</v></c>' in kept
    assert '<c r="B2"><f t="shared" si="1"/><v>6</v></c>' in kept  # an ordinary shared formula stays
