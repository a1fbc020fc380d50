"""Hostile and broken workbooks: each gets its own coded rejection, and the rest of the run goes on."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


from bench import hostile
from helpers import drop
from shinchoku.run.steps import run_ingest
from shinchoku.documents.template import fill_template


@pytest.fixture(params=["", "x"], ids=["unprefixed", "prefixed"])
def prefix(request, monkeypatch):
    """Build the hostile workbooks twice: plain SpreadsheetML, and every part under an x: prefix."""
    monkeypatch.setattr(hostile, "PREFIX", request.param)
    return request.param


@pytest.fixture(scope="module")
def built_once(tmp_path_factory, catalogue):
    """A valid return and an empty warehouse (schema, reference data, views), made once for the module."""
    from shinchoku.settings import load_settings
    from shinchoku.documents.template import write_template

    root = tmp_path_factory.mktemp("hostile-base")
    settings = load_settings(inbox=root / "inbox", warehouse=root / "w" / "shinchoku.duckdb", settle_seconds=0,
                             site_build=False, env={}, config_file="/none")
    run_ingest(settings, catalogue)
    valid = fill_template(write_template(catalogue, "企画調整部", 2023, root / "t.xlsx"), {"GOV-K01": 61.5},
                          out=root / "valid.xlsx")
    return valid, settings.warehouse


@pytest.fixture
def run_with_a_valid_file(settings, catalogue, built_once):
    """Drop a hostile file beside a valid one into 企画調整部, run, and return the hostile file's codes."""
    valid, empty_warehouse = built_once

    def run(build, name="hostile.xlsx", **limits) -> tuple[list[str], dict]:
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(empty_warehouse, settings.warehouse)
        good = drop(settings, valid, "企画調整部", "valid.xlsx", mtime=1_700_000_000)
        target = good.parent / name
        build(target)
        if hostile.PREFIX:
            with zipfile.ZipFile(target) as z:
                assert f"<{hostile.PREFIX}:workbook".encode() in z.read("xl/workbook.xml")
        os.utime(target, (1_700_000_100, 1_700_000_100))
        summary = run_ingest(dataclasses.replace(settings, limits=dataclasses.replace(settings.limits, **limits)),
                             catalogue)
        statuses = {d.candidate.path.name: d for d in summary.decisions}
        assert statuses["valid.xlsx"].status == "accepted"  # the rest of the run is unharmed
        assert ("GOV-K01", 2023) in summary.kpis_updated  # and its value was loaded
        hostile_decision = statuses[name]
        return [i.code for i in hostile_decision.issues if i.severity == "error"], statuses

    return run


def _valid_bytes(template, tmp_path) -> bytes:
    return fill_template(template("企画調整部", 2023), {"REG-K01": 140}, out=tmp_path / "valid_source.xlsx").read_bytes()


def test_zero_byte_file(run_with_a_valid_file):
    codes, _ = run_with_a_valid_file(lambda p: p.write_bytes(b""))
    assert codes == ["empty_file"]


def test_random_bytes(run_with_a_valid_file):
    codes, _ = run_with_a_valid_file(lambda p: p.write_bytes(bytes(range(256)) * 40))
    assert codes == ["not_xlsx"]


def test_truncated_xlsx(run_with_a_valid_file, template, tmp_path):
    data = _valid_bytes(template, tmp_path)
    codes, _ = run_with_a_valid_file(lambda p: p.write_bytes(data[: len(data) // 2]))
    assert codes == ["truncated_file"]


@pytest.mark.parametrize("content", ["指標ID,実績値\nGOV-K01,61.5\n".encode("cp932"), "報告です\n".encode("utf-8")])
def test_csv_or_text_renamed(run_with_a_valid_file, content):
    codes, _ = run_with_a_valid_file(lambda p: p.write_bytes(content))
    assert codes == ["text_file"]


def test_legacy_xls(run_with_a_valid_file):
    import xlwt

    def build(path: Path) -> None:
        book = xlwt.Workbook()
        sheet = book.add_sheet("実績報告")
        for col, label in enumerate(("指標ID", "指標名", "単位", "年度", "実績値", "時点", "備考")):
            sheet.write(0, col, label)
        buffer = io.BytesIO()
        book.save(buffer)
        path.write_bytes(buffer.getvalue())

    codes, statuses = run_with_a_valid_file(build)
    assert codes == ["legacy_xls"]
    assert ".xlsx" in statuses["hostile.xlsx"].issues[0].fix


def test_password_protected(run_with_a_valid_file, template, tmp_path):
    import msoffcrypto

    plain = fill_template(template("企画調整部", 2023), {"REG-K01": 140}, out=tmp_path / "plain.xlsx")

    def build(path: Path) -> None:
        with plain.open("rb") as src, path.open("wb") as dst:
            office = msoffcrypto.OfficeFile(src)
            office.encrypt("secret", dst)

    codes, statuses = run_with_a_valid_file(build)
    assert codes == ["encrypted"]
    assert "パスワード" in statuses["hostile.xlsx"].issues[0].fix


def test_zip_bomb(run_with_a_valid_file):
    """A sheet that unpacks past the limit (lowered here, so the bomb builds in a moment; the same check).

    Refused on the package's declared sizes, before any XML is parsed: a namespace prefix cannot matter.
    """
    codes, statuses = run_with_a_valid_file(lambda p: hostile.zip_bomb(p, gigabytes=0.03),
                                            max_uncompressed_bytes=20 * 2**20)
    assert codes == ["zip_bomb"] and "上限20MB" in statuses["hostile.xlsx"].issues[0].message


def test_zip_bomb_memory_stays_bounded(tmp_path):
    """Sheet XML past the 200 MB limit in a small file: refused with little memory (measured in a child process).

    The limit trips on the declared sizes, before anything is decompressed, so a bomb just over it
    takes the same path as one of gigabytes (the benchmark and the fuzzer use those) and is built in a second.
    """
    bomb = hostile.zip_bomb(tmp_path / "bomb.xlsx", gigabytes=0.25)
    assert bomb.stat().st_size < 2**20
    # VmHWM is this process image's peak; ru_maxrss would also count the forked pytest before exec.
    code = ("import re, sys\n"
            "from shinchoku.workbook.assess import assess_files\n"
            "from shinchoku.catalogue import load_catalogue\n"
            "from shinchoku.config import Limits\n"
            "[a] = assess_files([(sys.argv[1], '企画調整部')], load_catalogue(), Limits())\n"
            "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "print(a.errors[0].code, peak)\n")
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, check=True).stdout
    code_found, max_rss_kb = out.split()
    assert code_found == "zip_bomb"
    assert int(max_rss_kb) < 300 * 1024


def test_a_million_rows_are_refused_by_the_row_limit_while_streaming(tmp_path, catalogue):
    from shinchoku.workbook.assess import assess_files
    from shinchoku.config import Limits

    big = hostile.million_rows(tmp_path / "million.xlsx")
    [a] = assess_files([(big, "企画調整部")], catalogue, Limits())
    assert [i.code for i in a.errors] == ["too_many_rows"]


def test_too_many_rows(run_with_a_valid_file, prefix):
    codes, _ = run_with_a_valid_file(lambda p: hostile.million_rows(p, rows=10_000))
    assert codes == ["too_many_rows"]


@pytest.mark.parametrize("build", [hostile.billion_laughs, hostile.external_entity], ids=["billion_laughs", "xxe"])
def test_xml_entities(run_with_a_valid_file, build, prefix):
    codes, _ = run_with_a_valid_file(build)
    assert codes == ["unsafe_xml"]


def test_defusedxml_is_in_effect(tmp_path):
    """openpyxl, which writes the annotated copies, parses with defusedxml: a DTD in a part is refused."""
    import zipfile

    import openpyxl.xml
    from defusedxml import DTDForbidden, EntitiesForbidden
    from openpyxl import Workbook, load_workbook

    assert openpyxl.xml.DEFUSEDXML is True
    path = tmp_path / "dtd.xlsx"
    Workbook().save(path)
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    body = parts["xl/workbook.xml"].split(b"?>", 1)[-1]
    parts["xl/workbook.xml"] = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "eeee">]>' + body
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    with pytest.raises(ValueError) as refused:  # openpyxl reports it as an unreadable workbook
        load_workbook(path)
    assert isinstance(refused.value.__context__, (DTDForbidden, EntitiesForbidden))


def test_thousands_of_sheets(run_with_a_valid_file, prefix):
    codes, _ = run_with_a_valid_file(lambda p: hostile.many_sheets(p, 3000))
    assert codes == ["too_many_sheets"]


def test_ten_megabyte_string(run_with_a_valid_file, prefix):
    codes, _ = run_with_a_valid_file(lambda p: hostile.huge_string(p, 10))
    assert codes == ["cell_too_long"]


def test_sixteen_thousand_columns(run_with_a_valid_file, prefix):
    codes, _ = run_with_a_valid_file(lambda p: hostile.wide_sheet(p, 16_384))
    assert codes == ["too_many_columns"]


def test_table_twice(run_with_a_valid_file, prefix):
    sheet = hostile.SHEET_OPEN + hostile.header_row() + hostile.data_row(2) + hostile.SHEET_CLOSE
    codes, _ = run_with_a_valid_file(lambda p: hostile.write_xlsx(p, {"実績報告": sheet, "写し": sheet}))
    assert codes == ["table_twice"]


def _as_macro_workbook(source: Path, path: Path) -> Path:
    """Turn a return sheet into a macro-enabled workbook with an (inert) VBA project."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml").replace(
                    b"</Types>", b'<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
                                    b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b'Attribute VB_Name = "Module1"\nSub Auto_Open()\nEnd Sub')
    return path


def test_macro_workbook_is_accepted_with_a_warning(run_with_a_valid_file, template, tmp_path):
    source = fill_template(template("企画調整部", 2023), {"REG-K01": 140}, out=tmp_path / "macro_source.xlsx")

    codes, statuses = run_with_a_valid_file(lambda path: _as_macro_workbook(source, path), name="macro.xlsm")
    decision = statuses["macro.xlsm"]
    assert decision.status == "accepted" and codes == []
    assert [i.code for i in decision.issues] == ["macro_workbook"]
    assert decision.assessment.records[0]["actual_value"] == 140


def test_a_rejected_macro_workbook_comes_back_as_a_plain_xlsx(settings, catalogue, template, tmp_path):
    source = fill_template(template("企画調整部", 2023), {"REG-K01": "集計中"}, out=tmp_path / "m.xlsx")
    macro = _as_macro_workbook(source, tmp_path / "macro.xlsm")
    drop(settings, macro, "企画調整部", "macro.xlsm")
    run_ingest(settings, catalogue)
    annotated = settings.inbox / "企画調整部" / "rejected" / "macro.エラー箇所.xlsx"
    with zipfile.ZipFile(annotated) as z:
        assert "xl/vbaProject.bin" not in z.namelist()
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
        assert b"vbaProject" not in z.read("xl/_rels/workbook.xml.rels")
    from openpyxl import load_workbook

    assert "エラー一覧" in load_workbook(annotated).sheetnames


def test_cells_past_the_workbook_limit(run_with_a_valid_file, prefix):
    """3 sheets of 50 rows × 200 cells: rows, columns and sheets each within their limits, the cells not (the limit
    lowered to build it fast; the full-size workbook is the memory test's). Refused while streaming; no annotated
    copy, and the error list and the summary say why."""
    codes, statuses = run_with_a_valid_file(lambda p: hostile.many_cells(p, sheets=3, rows=50), max_cells=20_000)
    assert codes == ["too_many_cells"]
    assert "too_many_cells" in statuses["hostile.xlsx"].copy_skipped


def test_deeply_nested_xml(run_with_a_valid_file, prefix):
    """<x> nested 20,000 deep in a cell: a part small enough to be parsed whole, refused at depth 65."""
    codes, _ = run_with_a_valid_file(lambda p: hostile.deep_nesting(p, depth=20_000))
    assert codes == ["xml_too_deep"]


def test_junk_elements(run_with_a_valid_file, prefix):
    """<x/> after <x/> between the rows: refused on the elements of the part (the limit lowered to build it fast)."""
    codes, _ = run_with_a_valid_file(lambda p: hostile.junk_elements(p, count=30_000), max_xml_elements=20_000)
    assert codes == ["too_complex"]


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "worker-processes"])
def test_a_workbook_over_its_time_budget(tmp_path, catalogue, monkeypatch, workers):
    """The deadline is checked while parsing (every few thousand elements), in this process or a worker."""
    from shinchoku.workbook import assess
    from shinchoku.config import Limits

    monkeypatch.setattr(assess, "PARALLEL_THRESHOLD", 1)
    slow = [hostile.junk_elements(tmp_path / f"slow{n}.xlsx", count=10_000) for n in range(2)]
    found = assess.assess_files([(p, "企画調整部") for p in slow], catalogue, Limits(max_seconds_per_file=1e-9),
                                workers=workers)
    assert [[i.code for i in a.errors] for a in found] == [["too_slow"], ["too_slow"]]


def test_the_limits_are_settings(tmp_path):
    from shinchoku.config import ConfigError
    from shinchoku.settings import load_settings

    config = tmp_path / "shinchoku.toml"
    config.write_text("[limits]\nmax_cells = 1000\nmax_xml_depth = 32\nmax_xml_elements = 5000\n"
                      "max_seconds_per_file = 2.5\n", encoding="utf-8")
    limits = load_settings(env={}, config_file=config).limits
    assert (limits.max_cells, limits.max_xml_depth, limits.max_xml_elements, limits.max_seconds_per_file) == \
        (1000, 32, 5000, 2.5)
    config.write_text("[limits]\nmax_xml_depth = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_xml_depth"):
        load_settings(env={}, config_file=config)


_PEAK = ("def peak():\n"
         "    import re, resource\n"  # this process image's peak, and any worker's
         "    own = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
         "    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


@pytest.fixture(scope="module")
def full_size(tmp_path_factory):
    """The security trial's workbooks at full size: 12 million cells in 0.45 MB, 8 million deep in 56 KB,
    15 million junk elements in 60 KB."""
    root = tmp_path_factory.mktemp("full-size")
    return {"too_many_cells": hostile.many_cells(root / "cells.xlsx"),
            "xml_too_deep": hostile.deep_nesting(root / "deep.xlsx"),
            "too_complex": hostile.junk_elements(root / "junk.xlsx")}


@pytest.mark.parametrize("code", ["too_many_cells", "xml_too_deep", "too_complex"])
def test_full_size_hostile_workbooks_stay_in_memory_bounds(full_size, code):
    """Each refused with a peak of tens of MB (the benchmark has the figures); the test allows 500 MB."""
    script = (_PEAK + "import sys\n"
              "from shinchoku.workbook.assess import assess_files\n"
              "from shinchoku.catalogue import load_catalogue\n"
              "from shinchoku.config import Limits\n"
              "[a] = assess_files([(sys.argv[1], '企画調整部')], load_catalogue(), Limits())\n"
              "print(','.join(i.code for i in a.errors), peak())\n")
    out = subprocess.run([sys.executable, "-c", script, str(full_size[code])], capture_output=True, text=True,
                         check=True).stdout
    found, peak_kb = out.split()
    assert found == code
    assert int(peak_kb) < 500 * 1024


def test_a_run_with_full_size_hostile_workbooks_and_a_good_one_stays_under_a_gigabyte(full_size, built_once, tmp_path):
    """The trial's run (hostile files beside good ones) took 4.69 GB; here the whole run, in a child process,
    accepts the good file, refuses each hostile one with its code and stays under 1 GB."""
    valid, _ = built_once
    for code, path in full_size.items():
        drop(tmp_path / "inbox", path, "企画調整部", f"{code}.xlsx")
    drop(tmp_path / "inbox", valid, "企画調整部", "valid.xlsx")
    script = (_PEAK + "import sys\n"
              "from pathlib import Path\n"
              "from shinchoku.catalogue import load_catalogue\n"
              "from shinchoku.settings import load_settings\n"
              "from shinchoku.run.steps import run_ingest\n"
              "from shinchoku.documents.summary import summary_text\n"
              "root = Path(sys.argv[1])\n"
              "settings = load_settings(inbox=root / 'inbox', warehouse=root / 'w' / 'shinchoku.duckdb', settle_seconds=0,\n"
              "                         site_build=False, env={}, config_file='/none')\n"
              "summary = run_ingest(settings, load_catalogue())\n"
              "for d in summary.decisions:\n"
              "    print(d.candidate.path.name, d.status, ','.join(i.code for i in d.issues if i.severity == 'error') or '-')\n"
              "print('skipped', summary_text(summary).count('エラー箇所のコピーなし'))\n"
              "print('peak', peak())\n")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                         check=True).stdout
    lines = dict((line.split(" ", 1) for line in out.splitlines()))
    assert lines["valid.xlsx"] == "accepted -"
    for code in full_size:
        assert lines[f"{code}.xlsx"] == f"rejected {code}"
    assert lines["skipped"] == "3"
    assert int(lines["peak"]) < 1024 * 1024
