"""Numbers you can trust from every writer: one logical return, every dialect of xlsx, the same values.

Each version of the return in ``writers.py`` must parse to the same observations,
value for value, with the same warnings; and the four misreadings found by
trying shinchoku as departments would must stay fixed.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

import writers
from shinchoku.workbook.assess import assess_files
from shinchoku.config import Limits

NEEDS_CALC = pytest.mark.skipif(writers.soffice() is None,
                                reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")


def _assess(path: Path, catalogue, department: str = writers.DEPARTMENT):
    [a] = assess_files([(path, department)], catalogue, Limits())
    return a


@pytest.fixture(scope="module")
def calc_versions(tmp_path_factory) -> dict[str, Path]:
    """The return saved by LibreOffice Calc: from openpyxl's file, from XlsxWriter's, and via .ods (two soffice runs)."""
    if writers.soffice() is None:
        return {}
    root = tmp_path_factory.mktemp("calc")
    sources = [writers.with_openpyxl(root / "from_openpyxl.xlsx"), writers.with_xlsxwriter(root / "from_xlsxwriter.xlsx"),
               _education_return(root, "=701/1000")]
    calc_openpyxl, calc_xlsxwriter, ratio = writers.through_calc(sources, root / "direct")
    [via_ods] = writers.through_calc(sources[:1], root / "ods", via="ods")
    return {"calc_xlsx": calc_openpyxl, "calc_from_xlsxwriter": calc_xlsxwriter, "calc_ods_xlsx": via_ods,
            "ratio": ratio}


def _built(tmp_path: Path, how: str, calc: dict | None = None) -> Path:
    if how.startswith("calc"):
        return calc[how]
    openpyxl_file = lambda: writers.with_openpyxl(tmp_path / "openpyxl.xlsx")  # noqa: E731
    xlsxwriter_file = lambda: writers.with_xlsxwriter(tmp_path / "xlsxwriter.xlsx")  # noqa: E731
    return {
        "openpyxl": openpyxl_file,
        "xlsxwriter": xlsxwriter_file,
        "openpyxl_1904": lambda: writers.with_openpyxl(tmp_path / "1904.xlsx", epoch_1904=True),
        "prefixed_openpyxl": lambda: writers.prefixed(openpyxl_file(), tmp_path / "prefixed_o.xlsx"),
        "prefixed_xlsxwriter": lambda: writers.prefixed(xlsxwriter_file(), tmp_path / "prefixed_x.xlsx", prefix="ss"),
        "phonetic_runs": lambda: writers.with_phonetics(xlsxwriter_file(), tmp_path / "phonetic.xlsx"),
        "builtin_formats": lambda: writers.builtin_formats(openpyxl_file(), tmp_path / "builtin.xlsx"),
    }[how]()


WRITERS = ["openpyxl", "xlsxwriter", "openpyxl_1904", "prefixed_openpyxl", "prefixed_xlsxwriter", "phonetic_runs",
           "builtin_formats",
           pytest.param("calc_xlsx", marks=NEEDS_CALC), pytest.param("calc_ods_xlsx", marks=NEEDS_CALC),
           pytest.param("calc_from_xlsxwriter", marks=NEEDS_CALC)]


@pytest.mark.parametrize("how", WRITERS)
def test_every_writer_gives_the_same_observations(how, tmp_path, catalogue, request):
    calc = request.getfixturevalue("calc_versions") if how.startswith("calc") else None
    a = _assess(_built(tmp_path, how, calc), catalogue)
    assert writers.observations(a) == writers.EXPECTED
    assert {i.code for i in a.issues} == writers.EXPECTED_WARNINGS
    assert a.accepted


def test_the_variants_really_differ_from_the_plain_file(tmp_path):
    """Guard the guards: each rewrite must produce the dialect it claims, or the test above proves nothing."""
    def part(path: Path, name: str) -> bytes:
        with zipfile.ZipFile(path) as z:
            return z.read(name)

    assert b"<x:c " in part(_built(tmp_path, "prefixed_openpyxl"), "xl/worksheets/sheet1.xml")
    assert b"<ss:si>" in part(_built(tmp_path, "prefixed_xlsxwriter"), "xl/sharedStrings.xml")
    sheet = part(_built(tmp_path, "prefixed_openpyxl"), "xl/worksheets/sheet1.xml")
    assert re.search(rb"<x:c\b(?![^>]*\br=)", sheet) and re.search(rb"<x:row\b(?![^>]*\br=)", sheet)
    assert b'date1904="1"' in part(_built(tmp_path, "openpyxl_1904"), "xl/workbook.xml")
    assert b"<rPh" in part(_built(tmp_path, "phonetic_runs"), "xl/sharedStrings.xml")
    styles = part(_built(tmp_path, "builtin_formats"), "xl/styles.xml")
    assert b"<numFmt " not in styles and b'numFmtId="10"' in styles


def test_the_cell_is_shown_as_the_department_saw_it(tmp_path, catalogue):
    a = _assess(_built(tmp_path, "openpyxl"), catalogue)
    shown = {(r["item_id"], r["fiscal_year"]): r["shown"] for r in a.records}
    assert shown[("GOV-K01", 2022)] == "58.8%"  # displayed rounded; read as 58.754
    assert shown[("GOV-K01", 2023)] == "61.50%"
    assert shown[("REG-K01", 2021)] == "1,234"
    assert shown[("REG-K01", 2022)] == "約 140 人"


# ---- the four misreadings found by trying shinchoku as departments would ----

def _education_return(tmp_path: Path, value, number_format: str | None = None, name: str = "edu.xlsx") -> Path:
    from openpyxl import Workbook

    from shinchoku.workbook.layout import HEADER

    wb = Workbook()
    ws = wb.active
    ws.title = "実績報告"
    ws.append(list(HEADER))
    ws.append(["EDU-K01", "教員のICT活用指導力", "%", 2023, value, None, None])
    if number_format:
        ws["E2"].number_format = number_format
    path = tmp_path / name
    wb.save(path)
    return path


def _with_cached_value(source: Path, target: Path, cell: str, xml: str) -> Path:
    """Replace one cell's XML, as another application would have saved it."""
    def edit(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        text, n = re.subn(rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)', xml, data.decode("utf-8"))
        assert n == 1
        return text.encode("utf-8")

    return writers._rewrite(source, target, edit)


def test_a_prefixed_percent_cell_is_read_as_shown(tmp_path, catalogue):
    plain = _education_return(tmp_path, 0.712, "0.0%")
    a = _assess(writers.prefixed(plain, tmp_path / "prefixed.xlsx"), catalogue, "教育庁")
    assert a.accepted, [i.code for i in a.issues]
    assert [r["actual_value"] for r in a.records] == [pytest.approx(71.2)]
    assert "wrong_direction" not in {i.code for i in a.issues}


def test_a_ratio_formula_in_a_general_cell_is_rejected_not_guessed(tmp_path, catalogue):
    plain = _education_return(tmp_path, 1)
    saved = _with_cached_value(plain, tmp_path / "ratio.xlsx", "E2", '<c r="E2"><f>701/1000</f><v>0.701</v></c>')
    a = _assess(saved, catalogue, "教育庁")
    [error] = a.errors
    assert (error.code, error.cell) == ("percent_as_fraction", "E2")
    assert "0.701 は割合(小数)のようです。70.1 のように百分率で入力するか" in error.message


@NEEDS_CALC
def test_a_ratio_formula_saved_by_calc_is_rejected(calc_versions, catalogue):
    """The case as found: =701/1000 in a General cell, calculated and saved by LibreOffice Calc."""
    saved = calc_versions["ratio"]
    with zipfile.ZipFile(saved) as z:
        assert b"<v>0.701</v>" in z.read("xl/worksheets/sheet1.xml")  # Calc saved the result
    a = _assess(saved, catalogue, "教育庁")
    assert [(i.code, i.cell) for i in a.errors] == [("percent_as_fraction", "E2")]


@pytest.mark.parametrize("error_value", ["#DIV/0!", "#REF!", "#N/A"])
def test_an_error_value_is_a_formula_error(tmp_path, catalogue, error_value):
    plain = _education_return(tmp_path, 1)
    saved = _with_cached_value(plain, tmp_path / "error.xlsx", "E2",
                               f'<c r="E2" t="e"><f>A1/0</f><v>{error_value}</v></c>')
    a = _assess(saved, catalogue, "教育庁")
    assert [(i.code, i.cell) for i in a.errors] == [("formula_error", "E2")]
    assert error_value in a.errors[0].message
    assert "no_values" not in {i.code for i in a.issues}


def test_spaces_after_approximately_are_read(tmp_path, catalogue):
    from openpyxl import Workbook

    from shinchoku.workbook.layout import HEADER

    wb = Workbook()
    ws = wb.active
    ws.append(list(HEADER))
    ws.append(["REG-K01", "", "人", 2023, "約 140 人", None, None])
    wb.save(tmp_path / "reg.xlsx")
    a = _assess(tmp_path / "reg.xlsx", catalogue, "企画調整部")
    assert a.accepted
    assert [r["actual_value"] for r in a.records] == [140]
    assert [i.code for i in a.issues] == ["approximate_value"]


# ---- the standard's other corners ----

def test_strict_open_xml_is_refused_with_its_own_code(tmp_path, catalogue):
    strict = "http://purl.oclc.org/ooxml/spreadsheetml/main"

    def edit(name: str, data: bytes) -> bytes:
        return data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", strict.encode())

    path = writers._rewrite(writers.with_openpyxl(tmp_path / "o.xlsx"), tmp_path / "strict.xlsx", edit)
    a = _assess(path, catalogue)
    assert [i.code for i in a.errors] == ["strict_ooxml"]
    assert "Excel ブック" in a.errors[0].fix


def test_inline_strings_and_formula_strings_are_text(tmp_path, catalogue):
    plain = _education_return(tmp_path, 1)
    step = _with_cached_value(plain, tmp_path / "s1.xlsx", "E2", '<c r="E2" t="str"><f>"7"&amp;"1.2"</f><v>71.2</v></c>')
    a = _assess(step, catalogue, "教育庁")
    assert a.accepted and [r["actual_value"] for r in a.records] == [71.2]
    step = _with_cached_value(plain, tmp_path / "s2.xlsx", "E2",
                              '<c r="E2" t="inlineStr"><is><r><t>71</t></r><r><t>.2%</t></r>'
                              '<rPh sb="0" eb="1"><t>ナナ</t></rPh></is></c>')
    a = _assess(step, catalogue, "教育庁")
    assert a.accepted and [r["actual_value"] for r in a.records] == [71.2]


def test_a_rejected_prefixed_workbook_comes_back_marked(tmp_path, catalogue):
    """The department gets its own workbook back with the cell marked, whichever writer made it."""
    from openpyxl import load_workbook

    from shinchoku.run.feedback import write_feedback

    plain = _education_return(tmp_path, "集計中")
    path = writers.prefixed(plain, tmp_path / "prefixed.xlsx")
    a = _assess(path, catalogue, "教育庁")
    assert [(i.code, i.cell) for i in a.errors] == [("value_not_number", "E2")]

    decision = SimpleNamespace(issues=a.issues, assessment=a, candidate=SimpleNamespace(path=path, department="教育庁"))
    made = write_feedback(decision, tmp_path / "out", path.name)
    [annotated] = [m for m in made if m.suffix == ".xlsx"]
    cell = load_workbook(annotated)["実績報告"]["E2"]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") and "数値として読み取れません" in cell.comment.text
